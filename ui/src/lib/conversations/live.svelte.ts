// One conversation kept live: its record, its transcript and who is typing. Loaded once,
// then grown by the relay's events; after a reconnect it is loaded again, because events
// sent while the feed was down are not replayed.

import { getConversation } from "../api";
import { listen } from "../live";
import type { Conversation, Entry, RelayEvent } from "../types";

export class LiveConversation {
  conversation = $state<Conversation | null>(null);
  transcript = $state<Entry[]>([]);
  typing = $state({ agent: false, user: false });
  error = $state<string | null>(null);
  readonly id: string;
  #ids = new Set<string>();
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
      for (const e of view.transcript) this.#add(e, false);
      this.#sort();
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Adds a line, or replaces it when the relay sends it again (a pending line delivered). */
  #add(entry: Entry, sort = true) {
    const key = String(entry.id);
    if (this.#ids.has(key)) {
      const at = this.transcript.findIndex((e) => String(e.id) === key);
      if (at >= 0) this.transcript[at] = entry;
      return;
    }
    this.#ids.add(key);
    this.transcript.push(entry);
    if (sort) this.#sort();
  }

  #sort() {
    const sorted = [...this.transcript].sort((a, b) => a.atMs - b.atMs || Number(a.id) - Number(b.id));
    this.transcript = sorted;
  }

  #onEvent(e: RelayEvent) {
    if (e.type === "transcriptEntry" && "entry" in e) {
      const entry = e.entry as Entry;
      if (entry.conversationId !== this.id) return;
      this.#add(entry);
      // A message from someone ends their typing.
      if (entry.lane === "agent") this.typing.agent = false;
      if (entry.lane === "user") this.typing.user = false;
    } else if (e.type === "conversationChanged" && "conversationId" in e && e.conversationId === this.id) {
      void this.#refreshRecord();
    } else if (e.type === "typing" && "conversationId" in e && e.conversationId === this.id) {
      const t = e as unknown as { who: "agent" | "user"; typing: boolean };
      const who = t.who === "agent" ? "agent" : "user";
      const on = Boolean(t.typing);
      this.typing[who] = on;
      clearTimeout(this.#typingTimers[who]);
      // 8x8 sends no stop after a pulse (P23): typing fades after 6 s without news.
      if (on) this.#typingTimers[who] = setTimeout(() => (this.typing[who] = false), 6000);
    }
  }

  async #refreshRecord() {
    try {
      const view = await getConversation(this.id);
      this.conversation = view.conversation;
      for (const e of view.transcript) this.#add(e, false);
      this.#sort();
    } catch {
      // The next event or reconnect tries again.
    }
  }
}
