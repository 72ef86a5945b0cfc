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

  let channel: BroadcastChannel | null = null;
  let leading: { close: () => void; release: () => void; state: LiveState } | null = null;
  let waiting: AbortController | null = null;

  const post = (m: Message) => channel?.postMessage(m);
  const hear = (e: MessageEvent<Message>) => {
    const m = e.data;
    if (m.t === "state?") {
      if (leading) post({ t: "state", state: leading.state });
    } else if (!leading) {
      if (m.t === "event") onEvent(m.event);
      else if (m.t === "state") onState(m.state);
      else if (m.t === "lagged") onLagged();
    }
  };

  /** Queue for the stream; until this tab holds it, the holder's messages are what it hears. */
  function join() {
    if (waiting || leading) return;
    channel = new BroadcastChannel(NAME);
    channel.onmessage = hear;
    const abort = new AbortController();
    waiting = abort;
    onState("connecting");
    post({ t: "state?" });
    navigator.locks
      .request(NAME, { signal: abort.signal }, () => {
        waiting = null;
        return new Promise<void>((release) => {
          const held = { state: "connecting" as LiveState, release, close: () => {} };
          leading = held;
          // subscribe reports its first state before it returns: `held` must exist by then.
          held.close = subscribe(
            (event) => {
              post({ t: "event", event });
              onEvent(event);
            },
            (state) => {
              held.state = state;
              post({ t: "state", state });
              onState(state);
            },
            () => {
              post({ t: "lagged" });
              onLagged();
            },
          );
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
