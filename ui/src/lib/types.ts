// The admin API's shapes are generated from the Rust types into api.generated.ts (never
// edit that file: `UPDATE_TS=1 cargo test -p switchboard-relay --lib ts_export` rewrites
// it). This module re-exports them for the pages and holds the UI's own types: those of
// the page itself, and those of the sandbox's control API, which the relay passes
// through from the emulator untyped.

import type { ConversationSummary, NewUser } from "./api.generated";

export type {
  AgentLeaves,
  BotKind,
  BotSettings,
  Channel,
  ConnectionSettings,
  Conversation,
  ConversationSummary,
  ConversationUser,
  ConversationView,
  DeliveryDetail,
  DeliveryGroup,
  DeliveryRecord,
  DeliverySummary,
  Direction,
  Entry,
  Envelope,
  ErrorBody,
  ErrorCode,
  EventTemplate,
  FieldError,
  GroupPage,
  HandoverPreview,
  HandoverRecord,
  Injected,
  JsonValue,
  KeyChange,
  KeyChanges,
  KeyState,
  Lane,
  MatchedLine,
  Mode,
  NewUser,
  OutboxEntry,
  OutboxPage,
  OutboxStatus,
  Phase,
  QuickReplyChoice,
  RelayEvent,
  ReplayMode,
  Role,
  SandboxChoice,
  Settings,
  SettingsView,
  SignatureExplainer,
  Status,
  TestOutcome,
  TestRequest,
  UserInput,
  Warning,
  WarningCode,
  Webhook,
  WebhookRegistration,
  WebhookState,
} from "./api.generated";

export type LiveState = "connecting" | "live" | "offline";

// ---- Conversations: what the list page asks for

/** What the list's filters and search ask the relay for. */
export interface ConversationQuery {
  /** A phase, or "handedOver". */
  phase?: string;
  mode?: ConversationSummary["mode"];
  q?: string;
}

/** Where the next page of the list starts: after this conversation, newest first. */
export type ListCursor = Pick<ConversationSummary, "createdAtMs" | "id">;

/** The tester's simulated user as its form fills it in (the relay takes any `NewUser`). */
export type NewTestUser = NewUser & { name: string; email: string; language: string };

// ---- Sandbox (the emulator's control API through /api/sandbox, passed through as is)

export interface SandboxOffer {
  conversationId: string;
  tenant: string;
  queueId: string;
  queueName: string;
  interactionId: string;
  offeredAtMs: number;
}

export interface SandboxAgentScript {
  agentId: string;
  acceptAfterMs?: number;
  [key: string]: unknown;
}

export interface SandboxQueue {
  id: string;
  name: string;
  tenant?: string | null;
  agent: SandboxAgentScript | null;
}

/** A mock agent's state in the sandbox's contact center (what 8x8's queue statistics count). */
export type SandboxAgentState = "available" | "busy" | "onBreak" | "workingOffline" | "loggedOut" | "wrapUp";

export interface SandboxCcAgent {
  agentId: string;
  name: string;
  state: SandboxAgentState;
  /** The queue's scripted agent, the one that takes offers by itself while available. */
  scripted: boolean;
  handling: number;
  /** The `agent-count-*` it counts in now: an available agent in a chat counts as busy. */
  countedAs: string;
}

export interface SandboxCcSchedule {
  id: string;
  name: string;
  timeZone: string;
  /** `Open`, `Closed` or `Choice #1` … `Choice #6`. */
  state: string;
}

export interface SandboxContactCenter {
  queues: { queueId: string; queueName: string; agents: SandboxCcAgent[] }[];
  schedules: SandboxCcSchedule[];
}

export interface SandboxMessage {
  id?: string;
  text?: string | null;
  createdAt?: string;
  author?: { id: string; type: string };
  [key: string]: unknown;
}

export interface SandboxConversation {
  id: string;
  /** True for 5 s after the customer's typing pulse, until the message it led to. */
  userTyping?: boolean;
  state?: string;
  agent?: string | null;
  messages?: SandboxMessage[];
  lastQueue?: string | null;
  [key: string]: unknown;
}
