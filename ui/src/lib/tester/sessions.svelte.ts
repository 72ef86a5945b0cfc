// The tester's open simulated users, kept until the tester closes them: across page
// changes (this module outlives the page) and reloads (the browser's storage). The
// conversations themselves live in the relay; what only the browser knows is which of
// them the tester has open, as whom, and in which mode — the relay cannot tell a
// sandbox web-chat customer started here from any other 8x8 customer.

import type { NewTestUser } from "../types";
import type { Language } from "./names";

export type TesterMode = "handover" | "endpoint";

export interface TesterSetup {
  key: number;
  user: NewTestUser;
  mode: TesterMode;
  /** The relay's conversation, once started (reloads re-attach to it). */
  conversationId?: string;
  /** Endpoint mode: the sandbox's 8x8 conversation the customer talks in. */
  gatewayId?: string;
}

interface Saved {
  sessions: TesterSetup[];
  mode: TesterMode;
  language: Language | "varied";
  /** Names used lately, so new users do not repeat them. */
  recent: string[];
}

const KEY = "switchboard-tester";
const RECENT = 60;

function load(): Saved {
  const empty: Saved = { sessions: [], mode: "handover", language: "en", recent: [] };
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return empty;
    const saved = JSON.parse(raw) as Partial<Saved>;
    return {
      sessions: Array.isArray(saved.sessions) ? saved.sessions.filter((s) => s && typeof s.key === "number" && s.user) : [],
      mode: saved.mode === "endpoint" ? "endpoint" : "handover",
      language: typeof saved.language === "string" ? (saved.language as Saved["language"]) : "en",
      recent: Array.isArray(saved.recent) ? saved.recent.filter((n) => typeof n === "string") : [],
    };
  } catch {
    // Unreadable storage (another version's, or edited by hand): start afresh.
    return empty;
  }
}

class TesterSessions {
  sessions = $state<TesterSetup[]>([]);
  mode = $state<TesterMode>("handover");
  language = $state<Language | "varied">("en");
  #recent: string[] = [];
  #nextKey = 1;

  constructor() {
    const saved = load();
    this.sessions = saved.sessions;
    this.mode = saved.mode;
    this.language = saved.language;
    this.#recent = saved.recent;
    this.#nextKey = Math.max(0, ...saved.sessions.map((s) => s.key)) + 1;
  }

  /** Names on screen and used lately, for new users to avoid. */
  get takenNames(): string[] {
    return [...this.sessions.map((s) => s.user.name ?? ""), ...this.#recent];
  }

  newKey(): number {
    return this.#nextKey++;
  }

  add(added: TesterSetup[]) {
    this.sessions = [...this.sessions, ...added];
    this.#remember(added.map((s) => s.user.name ?? ""));
  }

  replace(key: number, next: TesterSetup) {
    this.sessions = this.sessions.map((s) => (s.key === key ? next : s));
    this.#remember([next.user.name ?? ""]);
  }

  remove(key: number) {
    this.sessions = this.sessions.filter((s) => s.key !== key);
    this.save();
  }

  /** Records where a session's conversation is, so a reload finds it again. */
  started(key: number, ids: { conversationId?: string; gatewayId?: string }) {
    this.sessions = this.sessions.map((s) => (s.key === key ? { ...s, ...ids } : s));
    this.save();
  }

  #remember(names: string[]) {
    this.#recent = [...names.filter(Boolean), ...this.#recent].slice(0, RECENT);
    this.save();
  }

  save() {
    const saved: Saved = {
      sessions: $state.snapshot(this.sessions),
      mode: this.mode,
      language: this.language,
      recent: this.#recent,
    };
    try {
      localStorage.setItem(KEY, JSON.stringify(saved));
    } catch {
      // Storage full or off: the sessions still last while the page is open.
    }
  }
}

export const testerSessions = new TesterSessions();
