// The only module that talks to the admin API. The access token travels in an HttpOnly
// cookie set by the one-time admin link, so nothing here handles it.

import type { LiveState, RelayEvent, Status } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
    try {
      const body = (await response.json()) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? message;
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new ApiError(response.status, code, message);
  }
  return (await response.json()) as T;
}

export function getStatus(): Promise<Status> {
  return request<Status>("/status");
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
