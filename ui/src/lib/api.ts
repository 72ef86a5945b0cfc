// The only module that talks to the admin API. It holds the access token: the one-time
// admin link (`/?token=…`) hands it over, it is kept in this origin's storage (so new
// tabs of the same admin UI have it; no other port or site can read it) and taken out
// of the address bar, and every call sends it as `Authorization: Bearer`. Never a
// cookie: browsers send a cookie for 127.0.0.1 to every local server, whatever its port.

import type {
  Analytics,
  Channel,
  ChannelList,
  Conversation,
  ConversationPage,
  ConversationSummary,
  ConversationView,
  DeliveryDetail,
  Envelope,
  ErrorBody,
  ErrorCode,
  EventTemplate,
  FieldError,
  GroupPage,
  HandoverPreview,
  Injected,
  KeyChange,
  KeyChanges,
  CopilotJwtSecret,
  CopilotLinkView,
  OutboxPage,
  PreviewRequest,
  QueueFigures,
  QueueFiguresList,
  ReplayMode,
  ReplayRequest,
  Role,
  SaveRequest,
  ScheduleChoice,
  ScheduleList,
  ScheduleStatus,
  Settings,
  SettingsView,
  Status,
  SyntheticRequest,
  TemplateList,
  TestOutcome,
  TestRequest,
  UserInput,
  NewUser,
  WebhookRegistration,
  WebhookState,
} from "./api.generated";
import type {
  ConversationQuery,
  ListCursor,
  LiveState,
  SandboxAgentState,
  SandboxCcAgent,
  SandboxCcSchedule,
  SandboxContactCenter,
  SandboxConversation,
  SandboxOffer,
  SandboxQueue,
} from "./types";
import { saveFile } from "./files";

/**
 * What a failed call says: the relay's own code, or one of the codes this module gives
 * when there is no answer to read (`unreachable`: no answer at all; `http_NNN`: an answer
 * that is not the relay's JSON; `unknown`: not an API failure).
 */
export type ApiErrorCode = ErrorCode | "unreachable" | "unknown" | `http_${number}`;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** Per-field problems of a 422 `invalid_settings`, named as the forms name fields. */
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }

  /** Whether the relay refused for this reason. */
  is(code: ErrorCode): boolean {
    return this.code === code;
  }
}

const TOKEN_KEY = "switchboard-admin-token";

/** Takes the token from the admin link, if the page was opened with one. */
function adoptLinkToken(): void {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given === null) return;
  try {
    window.localStorage.setItem(TOKEN_KEY, given);
  } catch {
    // Storage refused (a locked-down profile): the token lives for this page only.
    memoryToken = given;
  }
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

let memoryToken: string | null = null;
adoptLinkToken();

function accessToken(): string {
  try {
    return window.localStorage.getItem(TOKEN_KEY) ?? memoryToken ?? "";
  } catch {
    return memoryToken ?? "";
  }
}

async function authorizedFetch(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`/api${path}`, {
    ...init,
    credentials: "omit",
    headers: { Accept: "application/json", ...(init?.headers ?? {}), Authorization: `Bearer ${accessToken()}` },
  });
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await authorizedFetch(path, init);
  } catch {
    throw new ApiError(0, "unreachable", "The relay is not answering. Is Switchboard still running?");
  }
  if (!response.ok) {
    let code: ApiErrorCode = `http_${response.status}`;
    let message = `The relay answered ${response.status}.`;
    let fields: FieldError[] = [];
    try {
      const body = (await response.json()) as Partial<ErrorBody>;
      code = body.code ?? code;
      message = body.message ?? message;
      fields = Array.isArray(body.fields) ? body.fields : [];
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new ApiError(response.status, code, message, fields);
  }
  // 204 No Content (typing pulses, some sandbox actions) has no body to parse.
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export function getStatus(): Promise<Status> {
  return request<Status>("/status");
}

/** The analytics page's figures for conversations started in [fromMs, toMs). */
export function getAnalytics(fromMs: number, toMs: number, mode: "endpoint" | "handover" | "both"): Promise<Analytics> {
  const tz = -new Date(toMs).getTimezoneOffset();
  const params = new URLSearchParams({ from: String(fromMs), to: String(toMs), mode, tz: String(tz) });
  return request<Analytics>(`/analytics?${params}`);
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
export function saveSettings(settings: Settings, keys: KeyChanges): Promise<SettingsView> {
  const body: SaveRequest = { settings, keys };
  return send<SettingsView>("PUT", "/settings", body);
}

export function regenerateToken(): Promise<SettingsView> {
  return send<SettingsView>("POST", "/settings/regenerate-token");
}

/**
 * Downloads the settings export under the name the server gives it. Fetched with the
 * token, then handed to the browser as a file (a plain link would carry no token).
 */
export async function downloadSettingsExport(): Promise<void> {
  let response: Response;
  try {
    response = await authorizedFetch("/settings/export");
  } catch {
    throw new ApiError(0, "unreachable", "The relay is not answering. Is Switchboard still running?");
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, `The relay answered ${response.status}.`);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "switchboard-settings.json";
  saveFile(name, await response.blob());
}

/** `text` is the exported file as read from disk; the server checks it. */
export function importSettings(text: string): Promise<SettingsView> {
  return request<SettingsView>("/settings/import", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: text,
  });
}

/** What importing `text` would save, checked like the import itself; nothing changes. */
export function previewImport(text: string): Promise<Settings> {
  return request<Settings>("/settings/import/preview", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: text,
  });
}

export function previewHandover(jsonProperties: string): Promise<HandoverPreview> {
  const body: PreviewRequest = { jsonProperties };
  return send<HandoverPreview>("POST", "/handover/preview", body);
}

export function testConnection(req: TestRequest): Promise<TestOutcome> {
  return send<TestOutcome>("POST", "/connection/test", req);
}

export function getWebhook(): Promise<WebhookState> {
  return request<WebhookState>("/webhook");
}

export function registerWebhook(): Promise<WebhookRegistration> {
  return send<WebhookRegistration>("POST", "/webhook/register");
}

export async function getChannels(role: Role): Promise<Channel[]> {
  return (await request<ChannelList>(`/channels?role=${role}`)).channels;
}

// 8x8's queue statistics and schedules, through the handover connection
// (docs/contact-center.md). One queue's figures come from the relay's few-seconds cache.

export async function getSchedules(): Promise<ScheduleChoice[]> {
  return (await request<ScheduleList>("/contact-center/schedules")).schedules;
}

export function getScheduleStatus(scheduleId: string): Promise<ScheduleStatus> {
  return request<ScheduleStatus>(`/contact-center/schedules/${encodeURIComponent(scheduleId)}/status`);
}

export async function getAllQueueFigures(): Promise<QueueFigures[]> {
  return (await request<QueueFiguresList>("/contact-center/queues")).queues;
}

export function getQueueFigures(queueId: string): Promise<QueueFigures> {
  return request<QueueFigures>(`/contact-center/queues/${encodeURIComponent(queueId)}`);
}

/**
 * Live relay events over server-sent events. The browser reconnects by itself; the
 * callback for the state lets the page say whether what it shows is live.
 */
export function subscribe(
  onEvent: (event: Envelope) => void,
  onState: (state: LiveState) => void,
  /** The relay dropped events for this client (it fell behind): refetch what is shown. */
  onLagged?: () => void,
): () => void {
  // An EventSource sends no headers: the live stream alone takes the token in its query.
  const source = new EventSource(`/api/events?access_token=${encodeURIComponent(accessToken())}`);
  onState("connecting");
  source.addEventListener("hello", () => {
    // When the feed first went live, for the footprint benchmark's start-up breakdown.
    performance.mark("switchboard:live");
    onState("live");
  });
  source.addEventListener("relay", (e) => {
    onEvent(JSON.parse((e as MessageEvent<string>).data) as Envelope);
  });
  if (onLagged) source.addEventListener("lagged", () => onLagged());
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
  return () => source.close();
}

// ---- Conversations and the tester (admin/conversations_api.rs)

/**
 * One page, newest first, of the conversations matching `query`; pass the last item as
 * `after` for the next page (a keyset cursor: conversations created in the same
 * millisecond are neither skipped nor repeated).
 */
export async function listConversations(
  limit: number,
  after?: ListCursor,
  query: ConversationQuery = {},
): Promise<ConversationSummary[]> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (after) {
    params.set("before", String(after.createdAtMs));
    params.set("beforeId", after.id);
  }
  if (query.phase) params.set("phase", query.phase);
  if (query.mode) params.set("mode", query.mode);
  if (query.q) params.set("q", query.q);
  return (await request<ConversationPage>(`/conversations?${params}`)).conversations;
}

/**
 * One conversation and its transcript; `after` (an entry id) returns only the lines
 * after it, and `limit: 0` the record alone.
 */
export function getConversation(id: string, opts: { after?: number; limit?: number } = {}): Promise<ConversationView> {
  const params = new URLSearchParams();
  if (opts.after !== undefined) params.set("after", String(opts.after));
  if (opts.limit !== undefined) params.set("limit", String(opts.limit));
  const query = params.toString() ? `?${params}` : "";
  return request<ConversationView>(`/conversations/${encodeURIComponent(id)}${query}`);
}

export function startTestConversation(user: NewUser): Promise<Conversation> {
  return send<Conversation>("POST", "/tester/conversations", user);
}

export function sayAsTestUser(id: string, input: UserInput): Promise<Conversation> {
  return send<Conversation>("POST", `/tester/conversations/${encodeURIComponent(id)}/messages`, input);
}

export function testUserTyping(id: string): Promise<void> {
  return send<void>("POST", `/tester/conversations/${encodeURIComponent(id)}/typing`);
}

export function testUserLeaves(id: string): Promise<Conversation> {
  return send<Conversation>("POST", `/tester/conversations/${encodeURIComponent(id)}/leave`);
}

// ---- The agent's Copilot (admin/copilot_api.rs)

/** A conversation's Copilot link; rejects with `not_found` when it has none. */
export function getCopilotLink(conversationId: string): Promise<CopilotLinkView> {
  return request<CopilotLinkView>(`/conversations/${encodeURIComponent(conversationId)}/copilot`);
}

/** Stops the conversation's Copilot link at once; answers the session as it is now. */
export function revokeCopilotLink(conversationId: string): Promise<CopilotLinkView> {
  return send<CopilotLinkView>("POST", `/conversations/${encodeURIComponent(conversationId)}/copilot/revoke`);
}

/** Makes a new JWT shared secret for signed links; the answer is the only time it is shown. */
export function generateCopilotJwtSecret(): Promise<CopilotJwtSecret> {
  return send<CopilotJwtSecret>("POST", "/copilot/jwt-secret");
}

// ---- The sandbox (emulator control API through admin/sandbox_api.rs)

export async function sandboxOffers(): Promise<SandboxOffer[]> {
  return (await request<{ offers: SandboxOffer[] }>("/sandbox/offers")).offers;
}

export async function sandboxQueues(): Promise<SandboxQueue[]> {
  return (await request<{ queues: SandboxQueue[] }>("/sandbox/queues")).queues;
}

/** Sets (or with null removes) the scripted mock agent of a sandbox queue. */
export function setSandboxQueueAgent(queueId: string, agent: SandboxQueue["agent"]): Promise<SandboxQueue> {
  return send<SandboxQueue>("PUT", `/sandbox/queues/${encodeURIComponent(queueId)}/agent`, agent);
}

/** The sandbox's contact center: each queue's mock agents and every schedule. */
export function sandboxContactCenter(): Promise<SandboxContactCenter> {
  return request<SandboxContactCenter>("/sandbox/contact-center");
}

export function setSandboxAgentState(queueId: string, agentId: string, state: SandboxAgentState): Promise<SandboxCcAgent> {
  const path = `/sandbox/contact-center/queues/${encodeURIComponent(queueId)}/agents/${encodeURIComponent(agentId)}`;
  return send<SandboxCcAgent>("PUT", path, { state });
}

/** `state`: `Open`, `Closed` or `Choice #1` … `Choice #6`. */
export function setSandboxScheduleState(scheduleId: string, state: string): Promise<SandboxCcSchedule> {
  return send<SandboxCcSchedule>("PUT", `/sandbox/contact-center/schedules/${encodeURIComponent(scheduleId)}`, { state });
}

export function sandboxConversation(gatewayId: string): Promise<SandboxConversation> {
  return request<SandboxConversation>(`/sandbox/conversations/${encodeURIComponent(gatewayId)}`);
}

/** `agentId`: the agent acting; the sandbox refuses (409 `conflict`) an agent that no
 *  longer handles the chat, as 8x8 does. Without it, whoever handles the chat acts. */
export type AgentAction =
  | { action: "accept"; agentId?: string }
  | { action: "typing"; typing: boolean; agentId?: string }
  | { action: "say"; text: string; agentId?: string }
  | { action: "transfer"; queueId: string; agentId?: string }
  | { action: "end"; agentId?: string };

export function sandboxAgent(gatewayId: string, act: AgentAction): Promise<unknown> {
  const { action, ...body } = act;
  return send<unknown>("POST", `/sandbox/conversations/${encodeURIComponent(gatewayId)}/agent/${action}`, body);
}

export type CustomerAction =
  | { action: "say"; text: string }
  | { action: "typing"; typing: boolean }
  | { action: "quick-reply"; title: string; payload: string }
  | { action: "leave" };

export function sandboxCustomer(gatewayId: string, act: CustomerAction): Promise<unknown> {
  const { action, ...body } = act;
  return send<unknown>("POST", `/sandbox/conversations/${encodeURIComponent(gatewayId)}/customer/${action}`, body);
}

/** An 8x8 web-chat customer starts a chat routed to this relay's webhook (endpoint mode). */
export function startWebchatCustomer(user: Record<string, unknown>): Promise<{ conversationId: string; channelId: string }> {
  return send("POST", "/sandbox/webchat/conversations", { user });
}

// ---- The event inspector (admin/inspector_api.rs)

export function listDeliveryGroups(limit: number, before?: number): Promise<GroupPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== undefined) query.set("before", String(before));
  return request(`/inspector/deliveries?${query}`);
}

export function getDelivery(id: number): Promise<DeliveryDetail> {
  return request<DeliveryDetail>(`/inspector/deliveries/${id}`);
}

export function replayDelivery(id: number, mode: ReplayMode, body?: ReplayRequest["body"]): Promise<Injected> {
  const request: ReplayRequest = body === undefined ? { mode } : { mode, body };
  return send("POST", `/inspector/deliveries/${id}/replay`, request);
}

export function listOutbox(limit: number, before?: number): Promise<OutboxPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== undefined) query.set("before", String(before));
  return request(`/inspector/outbox?${query}`);
}

export async function eventTemplates(conversationId: string): Promise<EventTemplate[]> {
  const query = new URLSearchParams({ conversationId });
  return (await request<TemplateList>(`/inspector/templates?${query}`)).templates;
}

export function injectSynthetic(template: string, conversationId: string, body?: SyntheticRequest["body"]): Promise<Injected> {
  const request: SyntheticRequest = { template, conversationId, body };
  return send("POST", "/inspector/synthetic", request);
}
