// One shared live feed for the conversation, tester, console and inspector pages: a
// single EventSource however many components listen, opened with the first listener
// and closed with the last. Everything live comes from here; nothing polls.

import { subscribe } from "./api";
import type { LiveState, RelayEvent } from "./types";

type Listener = (event: RelayEvent) => void;
type Reconnect = () => void;

const listeners = new Set<Listener>();
const reconnects = new Set<Reconnect>();
let close: (() => void) | null = null;
let state: LiveState = "connecting";

function ensure() {
  if (close) return;
  close = subscribe(
    (event) => {
      for (const l of listeners) l(event);
    },
    (next) => {
      // Events missed while away: listeners refetch what they show.
      if (next === "live" && state !== "live") for (const r of reconnects) r();
      state = next;
    },
    // Events dropped because this tab fell behind: the same remedy.
    () => {
      for (const r of reconnects) r();
    },
  );
}

/**
 * Calls `onEvent` for every relay event and `onReconnect` whenever the feed comes
 * back (also the first time), so a page can (re)load what it shows. Returns the
 * function that stops listening.
 */
export function listen(onEvent: Listener, onReconnect?: Reconnect): () => void {
  listeners.add(onEvent);
  if (onReconnect) reconnects.add(onReconnect);
  ensure();
  return () => {
    listeners.delete(onEvent);
    if (onReconnect) reconnects.delete(onReconnect);
    if (listeners.size === 0 && close) {
      close();
      close = null;
      state = "connecting";
    }
  };
}
