// One live connection per browser, not per tab. The admin listener speaks HTTP/1.1, where
// a browser keeps at most six connections to a host; each open event stream holds one for
// good, so the seventh tab (or a page left in the back/forward cache) used to wait for a
// free connection forever. Here the tabs elect one of them (a Web Lock, released by the
// browser when that tab closes, navigates or is frozen) to hold the stream and pass what
// it hears to the others over a BroadcastChannel. When the holder goes, the next tab in
// the lock's queue opens the stream; its "connecting → live" tells every tab to refetch
// what it shows, so nothing missed in between stays missing.
// Where Web Locks or BroadcastChannel are missing the tab opens its own stream.

import { subscribe } from "./api";
import type { Envelope, LiveState } from "./types";

type Message =
  | { t: "event"; event: Envelope }
  | { t: "state"; state: LiveState }
  | { t: "lagged" }
  /** A tab that just joined asks the holder for the stream's state. */
  | { t: "state?" };

const NAME = "switchboard-live";

export function sharedSubscribe(
  onEvent: (event: Envelope) => void,
  onState: (state: LiveState) => void,
  onLagged: () => void,
): () => void {
  if (typeof BroadcastChannel === "undefined" || !navigator.locks) return subscribe(onEvent, onState, onLagged);

  /** A stream this tab opened; `shared` once it holds the lock and passes what it hears on. */
  type Held = { state: LiveState; close: () => void; release: () => void; shared: boolean };

  let channel: BroadcastChannel | null = null;
  let leading: Held | null = null;
  /** The stream opened before the lock said whether another tab holds one. */
  let early: Held | null = null;
  let waiting: AbortController | null = null;

  const post = (m: Message) => channel?.postMessage(m);
  const hear = (e: MessageEvent<Message>) => {
    const m = e.data;
    if (m.t === "state?") {
      if (leading) post({ t: "state", state: leading.state });
    } else if (!leading && !early) {
      if (m.t === "event") onEvent(m.event);
      else if (m.t === "state") onState(m.state);
      else if (m.t === "lagged") onLagged();
    }
  };

  function open(): Held {
    const held: Held = { state: "connecting", close: () => {}, release: () => {}, shared: false };
    // subscribe reports its first state before it returns: `held` must exist by then.
    held.close = subscribe(
      (event) => {
        if (held.shared) post({ t: "event", event });
        onEvent(event);
      },
      (state) => {
        held.state = state;
        if (held.shared) post({ t: "state", state });
        onState(state);
      },
      () => {
        if (held.shared) post({ t: "lagged" });
        onLagged();
      },
    );
    return held;
  }

  /** This tab holds the lock: its stream serves every tab until it leaves. */
  function lead(held: Held, release: () => void) {
    waiting = null;
    early = null;
    held.release = release;
    held.shared = true;
    leading = held;
    post({ t: "state", state: held.state });
  }

  /**
   * Joins: most often this is the only tab, so its stream opens at once rather than when
   * the lock is granted (in the desktop window that took 40–100 ms of a start, a third of
   * the page's time to live; BENCHMARKS.md "Footprint"). Until the lock answers, what this
   * tab hears is its own stream's alone. If another tab holds the lock, the early stream
   * closes, the tab follows that one and queues to take over.
   */
  function join() {
    if (waiting || leading) return;
    channel = new BroadcastChannel(NAME);
    channel.onmessage = hear;
    const abort = new AbortController();
    waiting = abort;
    const mine = open();
    early = mine;
    let got = false;
    navigator.locks
      .request(NAME, { ifAvailable: true }, (lock) => {
        if (!lock || abort.signal.aborted) return;
        got = true;
        return new Promise<void>((release) => lead(mine, release));
      })
      .then(() => {
        if (got || abort.signal.aborted) return;
        mine.close();
        early = null;
        onState("connecting");
        post({ t: "state?" });
        return navigator.locks.request(NAME, { signal: abort.signal }, () => {
          return new Promise<void>((release) => lead(open(), release));
        });
      })
      .catch(() => {
        // Aborted while queued (the page was hidden or stopped listening): nothing held.
      });
  }

  /**
   * Gives the stream up (to the next tab in the queue) or leaves the queue, and closes the
   * channel: a page holding a lock or an open channel is not kept in the back/forward cache.
   */
  function leave() {
    waiting?.abort();
    waiting = null;
    early?.close();
    early = null;
    if (leading) {
      const held = leading;
      leading = null;
      held.close();
      // The others hear nothing until the next holder is live: say so rather than look live.
      post({ t: "state", state: "connecting" });
      held.release();
    }
    channel?.close();
    channel = null;
  }

  // A page going into the back/forward cache must not keep the stream (or its place in
  // the queue); it rejoins if it is shown again.
  const onHide = () => leave();
  const onShow = (e: PageTransitionEvent) => {
    if (e.persisted) join();
  };
  addEventListener("pagehide", onHide);
  addEventListener("pageshow", onShow);
  join();

  return () => {
    removeEventListener("pagehide", onHide);
    removeEventListener("pageshow", onShow);
    leave();
  };
}
