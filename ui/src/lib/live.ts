// One shared live feed for the whole page — the header's live indicator and status, the
// conversation, tester, console and inspector pages: a single EventSource however many
// components listen, opened with the first listener and closed with the last.
// Everything live comes from here; nothing polls. The tabs of one browser share a single
// connection between them (lib/liveShare.ts): the admin UI is plain HTTP/1.1 on loopback,
// where a browser opens at most six connections to a host, and each open feed holds one.

import { sharedSubscribe } from "./liveShare";
import type { LiveState, Envelope } from "./types";

type Listener = (event: Envelope) => void;
type Reconnect = () => void;
type StateListener = (state: LiveState) => void;

const listeners = new Set<Listener>();
const reconnects = new Set<Reconnect>();
const stateListeners = new Set<StateListener>();
let close: (() => void) | null = null;
let state: LiveState = "connecting";

function ensure() {
  if (close) return;
  close = sharedSubscribe(
    (event) => {
      for (const l of listeners) l(event);
    },
    (next) => {
      // Events missed while away: listeners refetch what they show.
      const back = next === "live" && state !== "live";
      state = next;
      for (const l of stateListeners) l(next);
      if (back) for (const r of reconnects) r();
    },
    // Events dropped because this tab fell behind: the same remedy.
    () => {
      for (const r of reconnects) r();
    },
  );
}

/**
 * Calls `onEvent` for every relay event, `onReconnect` whenever the feed comes back
 * (also the first time), so a page can (re)load what it shows, and `onState` with the
 * feed's state now and at each change. Returns the function that stops listening.
 */
export function listen(onEvent: Listener, onReconnect?: Reconnect, onState?: StateListener): () => void {
  listeners.add(onEvent);
  if (onReconnect) reconnects.add(onReconnect);
  if (onState) stateListeners.add(onState);
  // A feed already open reports its state now; a new one reports it as it opens.
  const open = close !== null;
  ensure();
  if (open) onState?.(state);
  return () => {
    listeners.delete(onEvent);
    if (onReconnect) reconnects.delete(onReconnect);
    if (onState) stateListeners.delete(onState);
    if (listeners.size === 0 && close) {
      close();
      close = null;
      state = "connecting";
    }
  };
}
