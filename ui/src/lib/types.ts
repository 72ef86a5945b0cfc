// Shapes of the admin API's JSON, mirrored from the Rust core (admin/status.rs, events.rs).

export interface Status {
  version: string;
  shell: string;
  startedAtMs: number;
  endpoint: {
    listen: string;
    port: number;
    url: string;
    localOnly: boolean;
    enabled: boolean;
    verifySignatures: boolean;
    rejectedTokenCount: number;
  };
  admin: { port: number };
  sandbox: { active: boolean; reason: string; baseUrl: string | null };
  connection: {
    effectiveBaseUrl: string;
    configuredBaseUrl: string;
    tenant: string | null;
    apiKeySet: boolean;
    apiKeyFromEnvironment: boolean;
  };
  keychain: { backend: "secretService" | "memory" | "unavailable"; problem: string | null };
  database: { path: string; schemaVersion: number };
  settingsLocation: string;
  uiBuilt: boolean;
}

export type RelayEvent =
  | { type: "statusChanged"; seq: number; atMs: number }
  | { type: "settingsChanged"; seq: number; atMs: number }
  | { type: "deliveryReceived"; seq: number; atMs: number; eventType: string; accepted: boolean }
  // Other relay events (conversations, …) pass through; pages ignore what they don't know.
  | { type: string; seq: number; atMs: number };

export type LiveState = "connecting" | "live" | "offline";

// ---- Settings (admin/settings.rs): the forms edit `Settings`; keys never travel back.

export type SandboxChoice = "auto" | "on" | "off";
export type AgentLeaves = "resumeBot" | "close";

export interface ConnectionSettings {
  baseUrl: string;
  tenant: string | null;
}

export type BotKind = "builtin" | "external";

/** The bot the relay talks for (bot/mod.rs BotSettings): the built-in flow or a Rasa REST bot. */
export interface BotSettings {
  kind: BotKind;
  /** The built-in flow as YAML, kept as typed so error line numbers match. */
  flow: string;
  externalUrl: string | null;
  /** 100 to 60000. */
  externalTimeoutMs: number;
}

/**
 * The settings document. Sections no page edits ride along untouched, because a save
 * sends back the whole document as loaded.
 */
export interface Settings {
  version: number;
  sandbox: SandboxChoice;
  connection: ConnectionSettings;
  endpoint: {
    enabled: boolean;
    acceptConversationActiveEvent: boolean;
    publicBaseUrl: string | null;
    token: string;
    verifySignatures: boolean;
  };
  handover: {
    useEndpointConnection: boolean;
    connection: ConnectionSettings;
    channelId: string | null;
    queueId: string | null;
    jsonProperties: string;
    handoverMessage: string;
    inactivityTimeoutMinutes: number;
    whenAgentLeaves: AgentLeaves;
    handback: boolean;
    /** Native notifications on handover and agent replies (shown by the desktop app only). */
    desktopNotifications: boolean;
  };
  bot: BotSettings;
}

export type KeyRole = "endpoint" | "handover";

export interface KeyState {
  set: boolean;
  fromEnvironment: boolean;
}

export interface ApiProblem {
  code: string;
  message: string;
}

export interface SettingsView {
  settings: Settings;
  keys: Record<KeyRole, KeyState>;
  keychain: { backend: "secretService" | "memory" | "unavailable"; problem: string | null };
  endpointUrl: string;
  localOnly: boolean;
  sandbox: {
    available: boolean;
    forced: boolean;
    endpointActive: boolean;
    handoverActive: boolean;
    baseUrl: string | null;
    channelId: string | null;
    queueId: string | null;
  };
  warnings: ApiProblem[];
}

/** What the form asks the server to do with a key; absent means "leave it as it is". */
export type KeyAction = { action: "replace"; value: string } | { action: "remove" };

export interface FieldProblem {
  field: string;
  message: string;
}

export type ConnectionTestResult =
  | { ok: true; message: string }
  | { ok: false; code: string; message: string };

export interface Webhook {
  id: string;
  name: string;
  uri: string;
}

export interface WebhookRegistration {
  action: "created" | "updated" | "unchanged";
  webhook: Webhook;
  verified: boolean;
  message: string;
}

export interface WebhookState {
  registered: boolean;
  webhook: Webhook | null;
  upToDate: boolean;
  endpointUrl: string;
}

export interface Channel {
  id: string;
  name: string;
  type: string;
  webhookId: string | null;
  queueId: string | null;
}

export interface HandoverPreview {
  user: Record<string, unknown>;
  history: { messages: { authorType: string; text: string }[] };
  notes: string[];
}

// ---- Conversations (engine/store.rs, admin/conversations_api.rs)

export type ConversationMode = "endpoint" | "handover";
export type Phase = "bot" | "handover" | "queued" | "agent" | "transferred" | "ended";
export type Lane = "user" | "bot" | "agent" | "system";
export type Direction = "in" | "out" | "local" | "pending";

export interface QuickReply {
  title: string;
  payload: string;
}

export interface ConversationUser {
  name?: string | null;
  email?: string | null;
  language?: string | null;
  phone?: string | null;
  channel?: string | null;
  [key: string]: unknown;
}

export interface HandoverRecord {
  /** Exactly the CreateConversation JSON sent to 8x8. */
  request: Record<string, unknown>;
  outboxId: number | null;
  handback: unknown;
}

export interface Conversation {
  id: string;
  mode: ConversationMode;
  phase: Phase;
  gatewayId: string | null;
  state: string | null;
  channelId: string | null;
  user: ConversationUser;
  greeted: boolean;
  queueId: string | null;
  queueName: string | null;
  agentId: string | null;
  transferPending: boolean;
  handover: HandoverRecord | null;
  createdAtMs: number;
  updatedAtMs: number;
  queuedAtMs: number | null;
  agentJoinedAtMs: number | null;
  firstAgentReplyAtMs: number | null;
  endedAtMs: number | null;
  lastUserAtMs: number | null;
  lastText: string | null;
}

/**
 * A conversation as the list carries it (GET /conversations): everything but the handover
 * record, which holds up to 200 history messages; `handedOver` says whether there is one.
 */
export type ConversationSummary = Omit<Conversation, "handover"> & { handedOver: boolean };

/** What the list's filters and search ask the relay for. */
export interface ConversationQuery {
  /** A phase, or "handedOver". */
  phase?: string;
  mode?: ConversationMode;
  q?: string;
}

/** Where the next page of the list starts: after this conversation, newest first. */
export interface ListCursor {
  createdAtMs: number;
  id: string;
}

export type EntryPayload =
  | { quickReplies: QuickReply[] }
  | { outboxId: number }
  | { attachments?: unknown[]; cards?: unknown[] }
  | Record<string, unknown>
  | null;

export interface Entry {
  id: number | string;
  conversationId: string;
  lane: Lane;
  direction: Direction;
  text: string | null;
  payload: EntryPayload;
  atMs: number;
}

export interface ConversationView {
  conversation: Conversation;
  transcript: Entry[];
}

export type ConversationEvent =
  | { type: "conversationChanged"; seq: number; atMs: number; conversationId: string; phase: Phase }
  | { type: "transcriptEntry"; seq: number; atMs: number; entry: Entry }
  | { type: "typing"; seq: number; atMs: number; conversationId: string; who: "agent" | "user"; typing: boolean };

export interface NewTestUser {
  name: string;
  email: string;
  language: string;
  phone?: string;
}

// ---- Sandbox (the emulator's control API through /api/sandbox)

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

export interface SandboxMessage {
  id?: string;
  text?: string | null;
  createdAt?: string;
  author?: { id: string; type: string };
  [key: string]: unknown;
}

export interface SandboxConversation {
  id: string;
  /** True for 5 s after the user's (or bot side's) typing pulse. */
  userTyping?: boolean;
  state?: string;
  agent?: string | null;
  messages?: SandboxMessage[];
  lastQueue?: string | null;
  [key: string]: unknown;
}

// ---- Inspector (inspector.rs)

export interface DeliverySummary {
  id: number;
  receivedAtMs: number;
  eventId: string | null;
  eventType: string | null;
  activity: string | null;
  conversationId: string | null;
  signature: string;
  signatureReason: string | null;
  httpStatus: number;
  duplicateOf: number | null;
  status: string;
  outcome: string | null;
  retry: number | null;
  origin: string | null;
}

export interface DeliveryGroup {
  key: string;
  eventId: string | null;
  eventType: string | null;
  conversationId: string | null;
  retryCount: number;
  latestId: number;
  deliveries: DeliverySummary[];
}

export interface DeliveryRecord {
  id: number;
  receivedAtMs: number;
  headers: Record<string, string>;
  body: string;
  eventId: string | null;
  eventType: string | null;
  conversationId: string | null;
  signature: string;
  signatureReason: string | null;
  httpStatus: number;
  duplicateOf: number | null;
  status: string;
  outcome: string | null;
  processedAtMs: number | null;
}

export interface SignatureExplainer {
  verdict: string;
  reason: string | null;
  protectedHeader: Record<string, unknown> | null;
  kid: string | null;
  crc32: number;
  crc32Signed: number;
  signedPayload: string | null;
  problem: string | null;
  transmissionSkewMs: number | null;
  freshnessWindowMs: number;
  recheck: { ok: boolean; code: string | null; message: string } | null;
}

export interface DeliveryDetail {
  delivery: DeliveryRecord;
  group: DeliverySummary[];
  explainer: SignatureExplainer;
}

export interface OutboxEntry {
  id: number;
  orderingKey: string;
  operation: string;
  request: unknown;
  status: string;
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string | null;
  lastStatus: number | null;
  response: unknown;
  createdAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export interface EventTemplate {
  name: string;
  body: Record<string, unknown>;
}

export type ReplayMode = "dedupe" | "reprocess";
