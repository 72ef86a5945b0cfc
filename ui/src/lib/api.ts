// The only module that talks to the admin API. The access token travels in an HttpOnly
// cookie set by the one-time admin link, so nothing here handles it.

import type {
  Channel,
  ConnectionTestResult,
  FieldProblem,
  HandoverPreview,
  KeyAction,
  KeyRole,
  LiveState,
  RelayEvent,
  Settings,
  SettingsView,
  Status,
  WebhookRegistration,
  WebhookState,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-field problems of a 422 `invalid_settings`, named as the forms name fields. */
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
  }
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      ...init,
      credentials: "same-origin",
      headers: { Accept: "application/json", ...(init?.headers ?? {}) },
    });
  } catch {
    throw new ApiError(0, "unreachable", "The relay is not answering. Is Switchboard still running?");
  }
  if (!response.ok) {
    let code = "http_" + response.status;
    let message = `The relay answered ${response.status}.`;
    let fields: FieldProblem[] = [];
    try {
      const body = (await response.json()) as { code?: string; message?: string; fields?: FieldProblem[] };
      code = body.code ?? code;
      message = body.message ?? message;
      fields = Array.isArray(body.fields) ? body.fields : [];
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new ApiError(response.status, code, message, fields);
  }
  return (await response.json()) as T;
}

export function getStatus(): Promise<Status> {
  return request<Status>("/status");
}

function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function getSettings(): Promise<SettingsView> {
  return request<SettingsView>("/settings");
}

/** One request saves settings and key changes together, so nothing is half-saved. */
export function saveSettings(settings: Settings, keys: Partial<Record<KeyRole, KeyAction>>): Promise<SettingsView> {
  return send<SettingsView>("PUT", "/settings", { settings, keys });
}

export function regenerateToken(): Promise<SettingsView> {
  return send<SettingsView>("POST", "/settings/regenerate-token");
}

/** A plain link downloads it: the cookie rides along and the server names the file. */
export const settingsExportUrl = "/api/settings/export";

/** `text` is the exported file as read from disk; the server checks it. */
export function importSettings(text: string): Promise<SettingsView> {
  return request<SettingsView>("/settings/import", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: text,
  });
}

export function previewHandover(jsonProperties: string): Promise<HandoverPreview> {
  return send<HandoverPreview>("POST", "/handover/preview", { jsonProperties });
}

export function testConnection(req: {
  role: KeyRole;
  baseUrl: string;
  tenant: string | null;
  apiKey: string | null;
}): Promise<ConnectionTestResult> {
  return send<ConnectionTestResult>("POST", "/connection/test", req);
}

export function getWebhook(): Promise<WebhookState> {
  return request<WebhookState>("/webhook");
}

export function registerWebhook(): Promise<WebhookRegistration> {
  return send<WebhookRegistration>("POST", "/webhook/register");
}

export async function getChannels(role: KeyRole): Promise<Channel[]> {
  return (await request<{ channels: Channel[] }>(`/channels?role=${role}`)).channels;
}

/**
 * Live relay events over server-sent events. The browser reconnects by itself; the
 * callback for the state lets the page say whether what it shows is live.
 */
export function subscribe(
  onEvent: (event: RelayEvent) => void,
  onState: (state: LiveState) => void,
): () => void {
  const source = new EventSource("/api/events");
  onState("connecting");
  source.addEventListener("hello", () => onState("live"));
  source.addEventListener("relay", (e) => {
    onEvent(JSON.parse((e as MessageEvent<string>).data) as RelayEvent);
  });
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
  return () => source.close();
}
