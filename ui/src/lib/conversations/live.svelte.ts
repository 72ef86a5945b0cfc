// One conversation kept live: its record, its transcript and who is typing. Loaded once,
// then grown by the relay's events; after a reconnect it is loaded again, because events
// sent while the feed was down are not replayed.

import { getConversation } from "../api";
import { listen } from "../live";
import type { Conversation, Entry, Envelope } from "../types";

export class LiveConversation {
  conversation = $state<Conversation | null>(null);
  /**
   * Replaced, never changed in place (a raw state): 1,000 lines are not made reactive one
   * by one, and views compare arrays and entries by identity.
   */
  transcript = $state.raw<Entry[]>([]);
  typing = $state({ agent: false, user: false });
  error = $state<string | null>(null);
  readonly id: string;
  #typingTimers: Record<string, ReturnType<typeof setTimeout>> = {};

  constructor(id: string) {
    this.id = id;
  }

  /** Starts loading and listening; returns the function that stops. */
  start(): () => void {
    const stop = listen(
      (e) => this.#onEvent(e),
      () => void this.load(),
    );
    void this.load();
    return () => {
      stop();
      for (const t of Object.values(this.#typingTimers)) clearTimeout(t);
    };
  }

  async load(): Promise<void> {
    try {
      const view = await getConversation(this.id);
      this.conversation = view.conversation;
      this.#merge(view.transcript);
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Adds lines, replacing those the relay sends again (a pending line delivered). */
  #merge(entries: Entry[]) {
    if (entries.length === 0) return;
    const current = this.transcript;
    if (current.length === 0) {
      this.transcript = [...entries].sort(byTime);
      return;
    }
    const at = new Map(current.map((e, i) => [String(e.id), i]));
    const next = current.slice();
    let sorted = true;
    for (const entry of entries) {
      const i = at.get(String(entry.id));
      if (i !== undefined) {
        next[i] = entry;
        continue;
      }
      const tail = next.at(-1);
      if (tail && byTime(tail, entry) > 0) sorted = false;
      at.set(String(entry.id), next.length);
      next.push(entry);
    }
    this.transcript = sorted ? next : next.sort(byTime);
  }

  /** The newest line id the relay gave, to ask only for what came after it. */
  #lastId(): number | undefined {
    let max: number | undefined;
    for (const e of this.transcript) if (typeof e.id === "number" && (max === undefined || e.id > max)) max = e.id;
    return max;
  }

  #onEvent(e: Envelope) {
    if (e.type === "transcriptEntry") {
      const entry = e.entry;
      if (entry.conversationId !== this.id) return;
      this.#merge([entry]);
      // A message from someone ends their typing.
      if (entry.lane === "agent") this.typing.agent = false;
      if (entry.lane === "user") this.typing.user = false;
    } else if (e.type === "conversationChanged" && e.conversationId === this.id) {
      void this.#refreshRecord();
    } else if (e.type === "typing" && e.conversationId === this.id) {
      const who = e.who;
      const on = e.typing;
      this.typing[who] = on;
      clearTimeout(this.#typingTimers[who]);
      // 8x8 sends no stop after a pulse (P23): typing fades after 6 s without news.
      if (on) this.#typingTimers[who] = setTimeout(() => (this.typing[who] = false), 6000);
    }
  }

  async #refreshRecord() {
    try {
      // The record, and only the lines after the newest one held.
      const view = await getConversation(this.id, { after: this.#lastId() ?? 0 });
      this.conversation = view.conversation;
      this.#merge(view.transcript);
    } catch {
      // The next event or reconnect tries again.
    }
  }
}

function byTime(a: Entry, b: Entry): number {
  return a.atMs - b.atMs || Number(a.id) - Number(b.id);
}
