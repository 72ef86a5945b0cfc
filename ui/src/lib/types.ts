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
  };
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
