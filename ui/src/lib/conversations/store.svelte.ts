// The live list of conversations: summaries loaded page by page from the API (newest
// first) and kept current by the relay's events. A changed conversation is fetched once
// however many events name it in a burst, so a busy relay does not turn into a request
// storm.
//
// Records are kept in one array sorted newest first and updated in place (a binary
// search, not a sort of 10,000 rows per event). The page shows a view: all
// conversations, or those matching a filter and search, which the relay answers page by
// page (so a search covers every conversation without loading them all).

import { getConversation, listConversations } from "../api";
import { listen } from "../live";
import { lineMatches } from "./highlight";
import type { Conversation, ConversationQuery, ConversationSummary, Entry, ListCursor, MatchedLine, Phase, Envelope } from "../types";

/** The first page: enough to fill the screen and a little scrolling, quickly. */
export const PAGE_SIZE = 200;
/** Later pages: fewer requests for a reader scrolling far (the relay allows 500). */
export const NEXT_PAGE_SIZE = 500;
const BATCH_MS = 150;

export type PhaseFilter = Phase | "all" | "handedOver";

export interface Filter {
  phase: PhaseFilter;
  mode: string;
  search: string;
}

const NO_FILTER: Filter = { phase: "all", mode: "all", search: "" };

/**
 * Newest first, as the relay orders them: negative when `a` comes before `b`. Ids are
 * ASCII (8x8's UUIDs, the relay's `hc-` tokens), so string order here is SQLite's.
 */
function order(a: ListCursor, b: ListCursor): number {
  return b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function older(a: ListCursor | undefined, b: ListCursor | undefined): ListCursor | undefined {
  if (!a) return b;
  if (!b) return a;
  return order(a, b) > 0 ? a : b;
}

/** The list's record of a conversation, whichever way it arrived. */
function summarize(c: Conversation | ConversationSummary): ConversationSummary {
  if (!("handover" in c)) return c;
  const { handover, ...rest } = c;
  const given = (c as { handedOver?: boolean }).handedOver;
  return { ...rest, handedOver: given ?? handover !== null };
}

function same(a: ConversationSummary, b: ConversationSummary): boolean {
  const keys = Object.keys(b) as (keyof ConversationSummary)[];
  if (keys.length !== Object.keys(a).length) return false;
  return keys.every((k) => a[k] === b[k] || (typeof a[k] === "object" && JSON.stringify(a[k]) === JSON.stringify(b[k])));
}

/** All conversations, or those matching one filter, as the relay pages them in. */
export class ListView {
  loading = $state(false);
  exhausted = $state(false);
  error = $state<string | null>(null);
  readonly filter: Filter;
  /** The oldest conversation the relay sent for this view. */
  cursor = $state.raw<ListCursor | undefined>(undefined);
  /**
   * With a search: the transcript line that matched, by conversation (the relay's, then
   * newer lines seen live). Kept here, not on the shared record: it belongs to this search.
   */
  hits = $state.raw(new Map<string, MatchedLine>());
  readonly #store: ConversationStore;

  constructor(store: ConversationStore, filter: Filter) {
    this.#store = store;
    this.filter = filter;
  }

  get unfiltered(): boolean {
    return this.filter.phase === "all" && this.filter.mode === "all" && !this.filter.search;
  }

  /**
   * Down to which conversation every match is known: the older of this view's cursor and
   * the unfiltered list's (everything above that one is held, filtered here). `null`:
   * all of them.
   */
  covered(): ListCursor | null | undefined {
    const base = this.#store.base;
    if (this.exhausted || base.exhausted) return null;
    return older(this.cursor, base.cursor);
  }

  /** What the page shows, newest first. */
  items(): ConversationSummary[] {
    const all = this.#store.all();
    const limit = this.covered();
    if (limit === undefined) return [];
    let end = all.length;
    if (limit !== null) {
      // The first record older than the limit: nothing from there on is complete.
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (order(all[mid]!, limit) <= 0) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    if (this.unfiltered) return all.slice(0, end);
    const { phase, mode, search } = this.filter;
    const out: ConversationSummary[] = [];
    const hits = this.hits;
    for (let i = 0; i < end; i++) {
      const c = all[i]!;
      // A transcript line matched (the relay searched lines this page does not hold).
      if (matches(c, phase, mode, search) || (hits.has(c.id) && matches(c, phase, mode, ""))) out.push(c);
    }
    return out;
  }

  /** A line seen live that matches this view's search (the newest is shown). */
  lineSeen(e: Entry) {
    if (!this.filter.search || e.lane === "system" || !lineMatches(e.text, this.filter.search)) return;
    this.hits = new Map(this.hits).set(e.conversationId, { id: e.id, lane: e.lane, text: e.text, atMs: e.atMs });
  }

  async loadMore(): Promise<void> {
    if (this.loading || this.exhausted) return;
    // Every conversation is held: a filter applies here, nothing to ask. A search still
    // asks: it looks through transcripts, which the list does not hold.
    const everyRecordHeld = this !== this.#store.base && this.#store.base.exhausted;
    if (everyRecordHeld && !this.filter.search) {
      this.exhausted = true;
      return;
    }
    this.loading = true;
    const { phase, mode, search } = this.filter;
    const query: ConversationQuery = {};
    if (phase !== "all") query.phase = phase;
    if (mode === "endpoint" || mode === "handover") query.mode = mode;
    if (search) query.q = search;
    try {
      // From where the matches are already known, so nothing is fetched twice.
      const from = everyRecordHeld ? this.cursor : (this.covered() ?? undefined);
      const size = from ? NEXT_PAGE_SIZE : PAGE_SIZE;
      const page = await listConversations(size, from, query);
      const last = page.at(-1);
      if (last) this.cursor = older(this.cursor, { createdAtMs: last.createdAtMs, id: last.id });
      if (page.length < size) this.exhausted = true;
      this.error = null;
      const hits = new Map(this.hits);
      const records = page.map(({ matchedLine, ...c }) => {
        if (matchedLine) hits.set(c.id, matchedLine);
        return c;
      });
      this.hits = hits;
      this.#store.putMany(records);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.loading = false;
    }
  }
}

class ConversationStore {
  /** Bumped on every change; derived views read it to recompute. */
  version = $state(0);
  /** The unfiltered list. */
  readonly base: ListView;
  #byId = new Map<string, ConversationSummary>();
  /** Every record held, newest first. */
  #sorted: ConversationSummary[] = [];
  #views = new Map<string, ListView>();
  #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stop: (() => void) | null = null;
  #users = 0;
  /** Transcript entries seen live, for views that opened before they arrived. */
  #entryListeners = new Set<(e: Entry) => void>();

  constructor() {
    this.base = new ListView(this, NO_FILTER);
  }

  get loading(): boolean {
    return this.base.loading;
  }

  get exhausted(): boolean {
    return this.base.exhausted;
  }

  get error(): string | null {
    return this.base.error;
  }

  get(id: string): ConversationSummary | undefined {
    void this.version;
    return this.#byId.get(id);
  }

  byGateway(gatewayId: string): ConversationSummary | undefined {
    void this.version;
    for (const c of this.#sorted) if (c.gatewayId === gatewayId) return c;
    return undefined;
  }

  /** Newest first. The array is the store's own: read it, do not change it. */
  all(): readonly ConversationSummary[] {
    void this.version;
    return this.#sorted;
  }

  get size(): number {
    void this.version;
    return this.#byId.size;
  }

  /** The list for a filter (the same object while the filter is the same). */
  view(filter: Filter): ListView {
    void this.version;
    const f = { phase: filter.phase, mode: filter.mode, search: filter.search.trim() };
    if (f.phase === "all" && f.mode === "all" && !f.search) return this.base;
    const key = JSON.stringify(f);
    let view = this.#views.get(key);
    if (!view) {
      view = new ListView(this, f);
      this.#views.set(key, view);
    }
    return view;
  }

  put(c: Conversation | ConversationSummary) {
    if (this.#upsert(summarize(c))) this.version += 1;
  }

  /** Pages and reloads: what did not change keeps its object, so its row is not redrawn. */
  putMany(list: (Conversation | ConversationSummary)[]) {
    let changed = false;
    for (const c of list) changed = this.#upsert(summarize(c)) || changed;
    if (changed) this.version += 1;
  }

  /** Whether anything changed. */
  #upsert(c: ConversationSummary): boolean {
    const held = this.#byId.get(c.id);
    if (held && same(held, c)) return false;
    this.#byId.set(c.id, c);
    if (held) {
      const at = this.#find(held);
      if (held.createdAtMs === c.createdAtMs && this.#sorted[at] === held) {
        this.#sorted[at] = c;
        return true;
      }
      if (this.#sorted[at] === held) this.#sorted.splice(at, 1);
    }
    this.#sorted.splice(this.#find(c), 0, c);
    return true;
  }

  /** The index of the first record not newer than `key`. */
  #find(key: ListCursor): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order(this.#sorted[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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

  loadMore(): Promise<void> {
    return this.base.loadMore();
  }

  /**
   * After a reconnect: the newest page again (older pages only change through events);
   * filtered lists start over, since what matches may have changed meanwhile.
   */
  async reload(): Promise<void> {
    try {
      const page = await listConversations(PAGE_SIZE);
      if (this.#views.size > 0) {
        this.#views.clear();
        this.version += 1;
      }
      const last = page.at(-1);
      if (this.base.cursor === undefined && last) this.base.cursor = { createdAtMs: last.createdAtMs, id: last.id };
      if (page.length < PAGE_SIZE && this.#byId.size <= page.length) this.base.exhausted = true;
      this.base.error = null;
      this.putMany(page);
    } catch (e) {
      this.base.error = e instanceof Error ? e.message : String(e);
    }
  }

  #onEvent(e: Envelope) {
    if (e.type === "conversationChanged") {
      this.#refetch(e.conversationId);
    } else if (e.type === "transcriptEntry") {
      const entry = e.entry;
      const c = this.#byId.get(entry.conversationId);
      if (c && entry.lane !== "system") {
        this.put({ ...c, lastText: entry.text, updatedAtMs: entry.atMs });
      } else if (!c) {
        this.#refetch(entry.conversationId);
      }
      for (const view of this.#views.values()) view.lineSeen(entry);
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
        // The record alone: the list needs no transcript.
        getConversation(id, { limit: 0 })
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

// What a search looks through, one field a line, folded once per record (records are
// replaced, never changed, so the cache stays right). Folded as the relay folds
// (crates/switchboard-core/src/search_text.rs: decomposed, marks dropped, lower-cased),
// so "zoe" finds "Zoë" here as there, and a search finds the same conversations in what
// is held and in what the relay sends.
const haystacks = new WeakMap<ConversationSummary, string>();

export function fold(s: string): string {
  return s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function haystack(c: ConversationSummary): string {
  let hay = haystacks.get(c);
  if (hay === undefined) {
    hay = fold([c.user?.name, c.user?.email, c.lastText, c.id, c.gatewayId, c.queueName, c.agentId].filter(Boolean).join("\n"));
    haystacks.set(c, hay);
  }
  return hay;
}

/** The same test the relay applies to `phase`, `mode` and `q` (engine/store.rs). */
export function matches(c: ConversationSummary, phase: PhaseFilter, mode: string, search: string): boolean {
  if (phase === "handedOver") {
    if (!c.handedOver && !["queued", "agent", "transferred"].includes(c.phase)) return false;
  } else if (phase !== "all" && c.phase !== phase) return false;
  if (mode !== "all" && c.mode !== mode) return false;
  if (search && !haystack(c).includes(fold(search))) return false;
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
