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
  | { type: "deliveryReceived"; seq: number; atMs: number; eventType: string; accepted: boolean };

export type LiveState = "connecting" | "live" | "offline";
