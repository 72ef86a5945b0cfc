// Live figures of the queues that queued conversations wait in, for the Conversations
// list and the conversation detail. A view says which queues it shows (`watch`); only
// those are polled, every 5 s, and the polling stops once no view watches any queue
// (or the tab is hidden). The relay caches 8x8's answer for a few seconds, so two
// views of one queue cost one request.

import { getQueueFigures } from "./api";
import type { QueueFigures } from "./api.generated";

export const POLL_MS = 5_000;

class QueueFiguresWatch {
  /** The latest figures per queue id; absent while none could be read. */
  figures = $state<Record<string, QueueFigures>>({});
  /** Why a queue's figures could not be read, per queue id. */
  problems = $state<Record<string, string>>({});
  #watchers = new Map<string, number>();
  #readAt = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | null = null;

  /** Starts showing `queueId`'s figures; returns the function that stops it. */
  watch(queueId: string): () => void {
    this.#watchers.set(queueId, (this.#watchers.get(queueId) ?? 0) + 1);
    // A view that re-subscribes as rows scroll does not ask again within the period.
    if (Date.now() - (this.#readAt.get(queueId) ?? 0) >= POLL_MS) void this.#read(queueId);
    this.#timer ??= setInterval(() => this.#tick(), POLL_MS);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const n = (this.#watchers.get(queueId) ?? 1) - 1;
      if (n > 0) this.#watchers.set(queueId, n);
      else this.#watchers.delete(queueId);
      // The timer itself stops at its next tick when nothing is watched, so a view that
      // drops and re-adds a queue in one update does not restart the period.
    };
  }

  /** Whether anything is being polled (for tests and the curious). */
  get polling(): boolean {
    return this.#timer !== null;
  }

  #tick() {
    // Figures no view shows any more would be stale when one shows them again.
    for (const id of Object.keys(this.figures)) if (!this.#watchers.has(id)) delete this.figures[id];
    for (const id of Object.keys(this.problems)) if (!this.#watchers.has(id)) delete this.problems[id];
    if (this.#watchers.size === 0) {
      clearInterval(this.#timer!);
      this.#timer = null;
      return;
    }
    if (document.hidden) return;
    for (const id of this.#watchers.keys()) void this.#read(id);
  }

  async #read(queueId: string) {
    this.#readAt.set(queueId, Date.now());
    try {
      const f = await getQueueFigures(queueId);
      this.figures[queueId] = f;
      delete this.problems[queueId];
    } catch (e) {
      // Old figures would look live: show none, and say why where asked.
      delete this.figures[queueId];
      this.problems[queueId] = e instanceof Error ? e.message : String(e);
    }
  }
}

export const queueFigures = new QueueFiguresWatch();

/** Watches every distinct queue of the queued conversations among `shown`. */
export function watchQueued(shown: { phase: string; queueId: string | null }[]): () => void {
  const ids = new Set(shown.filter((c) => c.phase === "queued" && c.queueId).map((c) => c.queueId!));
  const stops = [...ids].map((id) => queueFigures.watch(id));
  return () => stops.forEach((stop) => stop());
}

/** "2 min", "under a minute", "1 h 5 min": a queue's wait as the customer would say it. */
export function waitWords(seconds: number): string {
  if (seconds < 60) return "under a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** The short line: "3 waiting · typical 2 min · 1 agent available". */
export function figuresLine(f: QueueFigures): string {
  const agents = f.agentsAvailable === 0 ? "no agent available" : f.agentsAvailable === 1 ? "1 agent available" : `${f.agentsAvailable} agents available`;
  const typical = f.averageWaitSeconds > 0 ? `typical ${waitWords(f.averageWaitSeconds)}` : "no recent waits";
  return `${f.waiting} waiting · ${typical} · ${agents}`;
}

/** Everything 8x8 reported, for a tooltip. */
export function figuresDetail(f: QueueFigures): string {
  const queue = f.queueName ? `${f.queueName} (${f.queueId})` : f.queueId;
  return (
    `Queue ${queue}, the whole queue's figures from 8x8: ${f.waiting} waiting, the longest for ${waitWords(f.longestWaitSeconds)}, ` +
    `typical wait (30-minute average) ${waitWords(f.averageWaitSeconds)}. Agents: ${f.agentsAvailable} available, ${f.agentsBusy} busy, ` +
    `${f.agentsWrapUp} in wrap-up, ${f.agentsOnBreak} on a break, ${f.agentsWorkingOffline} working offline, ${f.agentsLoggedOut} logged out.`
  );
}
