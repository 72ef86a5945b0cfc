// The live list of conversations: pages loaded from the API (newest first) and kept
// current by the relay's events. A changed conversation is fetched once however many
// events name it in a burst, so a busy relay does not turn into a request storm.

import { getConversation, listConversations } from "../api";
import { listen } from "../live";
import type { Conversation, Entry, Phase, RelayEvent } from "../types";

export const PAGE_SIZE = 200;
const BATCH_MS = 150;

export type PhaseFilter = Phase | "all" | "handedOver";

class ConversationStore {
  /** Bumped on every change; derived views read it to recompute. */
  version = $state(0);
  loading = $state(false);
  exhausted = $state(false);
  error = $state<string | null>(null);
  #byId = new Map<string, Conversation>();
  #oldest: number | undefined;
  #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stop: (() => void) | null = null;
  #users = 0;
  /** Transcript entries seen live, for views that opened before they arrived. */
  #entryListeners = new Set<(e: Entry) => void>();

  get(id: string): Conversation | undefined {
    void this.version;
    return this.#byId.get(id);
  }

  byGateway(gatewayId: string): Conversation | undefined {
    void this.version;
    for (const c of this.#byId.values()) if (c.gatewayId === gatewayId) return c;
    return undefined;
  }

  /** Newest first. */
  all(): Conversation[] {
    void this.version;
    return [...this.#byId.values()].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1));
  }

  get size(): number {
    void this.version;
    return this.#byId.size;
  }

  put(c: Conversation) {
    this.#byId.set(c.id, c);
    this.version += 1;
  }

  /** Components that show conversations call this on mount; the returned function undoes it. */
  use(): () => void {
    this.#users += 1;
    if (this.#users === 1) {
      this.#stop = listen(
        (e) => this.#onEvent(e),
        () => void this.reload(),
      );
      // Nobody listened for a while: what is held may be stale.
      if (this.#byId.size === 0) void this.loadMore();
      else void this.reload();
    }
    return () => {
      this.#users -= 1;
      if (this.#users === 0) {
        this.#stop?.();
        this.#stop = null;
      }
    };
  }

  onEntry(fn: (e: Entry) => void): () => void {
    this.#entryListeners.add(fn);
    return () => this.#entryListeners.delete(fn);
  }

  async loadMore(): Promise<void> {
    if (this.loading || this.exhausted) return;
    this.loading = true;
    try {
      const page = await listConversations(PAGE_SIZE, this.#oldest);
      for (const c of page) this.#byId.set(c.id, c);
      const oldest = page.at(-1);
      if (oldest) this.#oldest = oldest.createdAtMs;
      if (page.length < PAGE_SIZE) this.exhausted = true;
      this.error = null;
      this.version += 1;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.loading = false;
    }
  }

  /** After a reconnect: the newest page again (older pages only change through events). */
  async reload(): Promise<void> {
    try {
      const page = await listConversations(PAGE_SIZE);
      for (const c of page) this.#byId.set(c.id, c);
      if (this.#oldest === undefined) this.#oldest = page.at(-1)?.createdAtMs;
      if (page.length < PAGE_SIZE && this.#byId.size <= page.length) this.exhausted = true;
      this.error = null;
      this.version += 1;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  #onEvent(e: RelayEvent) {
    if (e.type === "conversationChanged" && "conversationId" in e) {
      this.#refetch(String(e.conversationId));
    } else if (e.type === "transcriptEntry" && "entry" in e) {
      const entry = e.entry as Entry;
      const c = this.#byId.get(entry.conversationId);
      if (c && entry.lane !== "system") {
        this.#byId.set(c.id, { ...c, lastText: entry.text, updatedAtMs: entry.atMs });
        this.version += 1;
      } else if (!c) {
        this.#refetch(entry.conversationId);
      }
      for (const fn of this.#entryListeners) fn(entry);
    }
  }

  #refetch(id: string) {
    this.#pending.add(id);
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const ids = [...this.#pending];
      this.#pending.clear();
      for (const id of ids) {
        getConversation(id)
          .then((view) => this.put(view.conversation))
          .catch(() => {
            // Gone or not readable right now; the next event or reconnect tries again.
          });
      }
    }, BATCH_MS);
  }
}

export const conversations = new ConversationStore();

export const PHASE_LABELS: Record<Phase, string> = {
  bot: "With bot",
  handover: "Handing over",
  queued: "Queued",
  agent: "With agent",
  transferred: "Transferred",
  ended: "Ended",
};

export function matches(c: Conversation, phase: PhaseFilter, mode: string, search: string): boolean {
  if (phase === "handedOver") {
    if (c.handover === null && !["queued", "agent", "transferred"].includes(c.phase)) return false;
  } else if (phase !== "all" && c.phase !== phase) return false;
  if (mode !== "all" && c.mode !== mode) return false;
  if (search) {
    const hay = [c.user?.name, c.user?.email, c.lastText, c.id, c.gatewayId, c.queueName, c.agentId]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    if (!hay.includes(search.toLowerCase())) return false;
  }
  return true;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}
