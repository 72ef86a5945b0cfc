// The page's link to the relay: the workspace, refetched whenever the event stream says
// something changed. The link's own query string (sessionId, URLToken, userId, auth) is
// the only credential and goes with every request; nothing is stored in the browser.
//
// The stream is read with fetch rather than EventSource so the page sees the HTTP status:
// a 404 means the link is no longer valid (stop, say so), a 429 means wait as told.

import type { KnowledgeHit, Workspace } from "./types";

export type PageState = "loading" | "ready" | "invalid";

const LINK_PARAMS = ["sessionId", "URLToken", "userId", "auth"] as const;
// Long enough to take the events of one change (a transcript line and the phase it moves
// the conversation to) as one, short enough not to show: each fetch is one round trip.
const REFETCH_DEBOUNCE_MS = 30;
const MAX_BACKOFF_MS = 10_000;

/** Thrown for an answer that ends the page (404: expired, revoked or never valid). */
export class InvalidLink extends Error {}

export class CopilotSession {
  state = $state<PageState>("loading");
  workspace = $state<Workspace | null>(null);
  /** False while the stream is down; the page says "reconnecting". */
  live = $state(true);
  /** Set while the relay asked the page to slow down (429), until when. */
  limitedUntilMs = $state<number | null>(null);
  /** Who is typing now, from the stream's `typing` events (a hint: it clears itself). */
  typing = $state<{ user: boolean; agent: boolean }>({ user: false, agent: false });
  private typingTimers: Record<string, ReturnType<typeof setTimeout>> = {};

  private readonly query: string;
  private readonly base: URL;
  private stopped = false;
  private refetchTimer: ReturnType<typeof setTimeout> | null = null;
  private fetching: Promise<void> | null = null;
  private refetchAgain = false;
  private stream: AbortController | null = null;
  private streamUp = false;

  constructor(location: Location) {
    const own = new URLSearchParams(location.search);
    const pass = new URLSearchParams();
    for (const name of LINK_PARAMS) {
      const value = own.get(name);
      if (value !== null) pass.set(name, value);
    }
    this.query = pass.toString();
    // Relative to the page, so a reverse proxy's path prefix is kept.
    this.base = new URL("./", location.href);
  }

  /** The page's link carries what the API needs; a link without it is not valid. */
  get hasCredentials(): boolean {
    const p = new URLSearchParams(this.query);
    return Boolean(p.get("sessionId") && p.get("URLToken"));
  }

  url(path: string, extra: Record<string, string> = {}): string {
    const url = new URL(path, this.base);
    url.search = this.query;
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    return url.toString();
  }

  start(): void {
    if (!this.hasCredentials) {
      this.invalidate();
      return;
    }
    void this.refetch().then(() => this.follow());
  }

  stop(): void {
    this.stopped = true;
    this.stream?.abort();
    if (this.refetchTimer) clearTimeout(this.refetchTimer);
  }

  private invalidate(): void {
    this.state = "invalid";
    this.workspace = null;
    this.stop();
  }

  /** A GET that handles the link's fate: 404 ends the page, 429 waits as told. */
  private async get(path: string, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    for (;;) {
      const response = await fetch(this.url(path, extra), {
        headers: { accept: path.endsWith("events") ? "text/event-stream" : "application/json" },
        cache: "no-store",
        signal,
      });
      if (response.status === 404 || response.status === 401 || response.status === 403) {
        this.invalidate();
        throw new InvalidLink();
      }
      if (response.status !== 429) return response;
      const wait = retryAfterMs(response.headers.get("retry-after"));
      this.limitedUntilMs = Date.now() + wait;
      await sleep(wait);
      this.limitedUntilMs = null;
      if (this.stopped) throw new InvalidLink();
    }
  }

  /** Fetches the workspace now; calls made meanwhile fetch once more after it. */
  async refetch(): Promise<void> {
    if (this.fetching) {
      this.refetchAgain = true;
      return this.fetching;
    }
    this.fetching = (async () => {
      do {
        this.refetchAgain = false;
        try {
          const response = await this.get("api/workspace");
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          this.workspace = (await response.json()) as Workspace;
          this.state = "ready";
          if (this.streamUp) this.live = true;
        } catch (e) {
          if (e instanceof InvalidLink) return;
          // Network down or the relay failing: say so, and try again — the stream's
          // reconnect does it, or, while the stream stays up, a timer.
          this.live = false;
          if (this.streamUp && !this.stopped) setTimeout(() => this.scheduleRefetch(), 2_000);
        }
      } while (this.refetchAgain && !this.stopped);
    })();
    try {
      await this.fetching;
    } finally {
      this.fetching = null;
    }
  }

  private scheduleRefetch(): void {
    if (this.refetchTimer) return;
    this.refetchTimer = setTimeout(() => {
      this.refetchTimer = null;
      void this.refetch();
    }, REFETCH_DEBOUNCE_MS);
  }

  /** Follows the event stream for as long as the page lives, reconnecting with backoff. */
  private async follow(): Promise<void> {
    let backoff = 500;
    while (!this.stopped) {
      this.stream = new AbortController();
      try {
        const response = await this.get("api/events", {}, this.stream.signal);
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        this.streamUp = true;
        this.live = true;
        backoff = 500;
        // The relay tells only the streams open at the time: whatever changed before this
        // one was up (since the first fetch, or while the stream was down) is fetched now.
        // The relay subscribes before it answers, so nothing falls between the two.
        void this.refetch();
        await readEvents(response.body, (name, data) => (name === "typing" ? this.onTyping(data) : this.scheduleRefetch()));
      } catch (e) {
        if (e instanceof InvalidLink || this.stopped) return;
      }
      this.streamUp = false;
      if (this.stopped) return;
      this.live = false;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private onTyping(data: string): void {
    let hint: { who?: string; typing?: boolean };
    try {
      hint = JSON.parse(data);
    } catch {
      return;
    }
    const who = hint.who === "agent" ? "agent" : hint.who === "user" ? "user" : null;
    if (!who) return;
    this.typing[who] = Boolean(hint.typing);
    clearTimeout(this.typingTimers[who]);
    // A "stopped typing" can be lost with a dropped stream; the hint never outlives 8 s.
    if (hint.typing) this.typingTimers[who] = setTimeout(() => (this.typing[who] = false), 8_000);
  }

  async searchKnowledge(q: string, signal?: AbortSignal): Promise<KnowledgeHit[]> {
    const response = await this.get("api/knowledge", { q }, signal);
    if (!response.ok) throw new Error(`The search failed (HTTP ${response.status}); try again.`);
    return (await response.json()) as KnowledgeHit[];
  }
}

/** Calls `onEvent` with each event's name and data of a text/event-stream body, until it ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (name: string, data: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "";
  let data: string[] = [];
  let hasData = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer[newline] === "\r" ? 2 : 1));
      if (line === "") {
        if (hasData) onEvent(name || "message", data.join("\n"));
        hasData = false;
        name = "";
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
        hasData = true;
      } else if (line.startsWith("event:")) {
        name = line.slice(6).trim();
        hasData = true;
      }
    }
  }
}

function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.max(seconds * 1000, 250);
  const date = header ? Date.parse(header) : NaN;
  return Number.isFinite(date) ? Math.max(date - Date.now(), 250) : 2_000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
