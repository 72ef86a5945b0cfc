// The Copilot API's answers. The relay's Rust types are the source (crate
// switchboard-copilot, types.rs); once they are exported to ../lib/api.generated.ts this
// file only re-exports them.

export type Lane = "user" | "bot" | "agent" | "system";
export type KeyValue = { key: string; value: string };

export type WorkspaceConversation = {
  id: string;
  mode: "endpoint" | "handover";
  phase: "bot" | "handover" | "queued" | "agent" | "transferred" | "ended";
  channel: string | null;
  language: string | null;
  queueId: string | null;
  queueName: string | null;
  agentId: string | null;
  createdAtMs: number;
  queuedAtMs: number | null;
  agentJoinedAtMs: number | null;
  endedAtMs: number | null;
};

export type WorkspaceIdentity = {
  name: string | null;
  email: string | null;
  phone: string | null;
  userId: string | null;
  company: string | null;
  caseId: string | null;
  properties: Array<KeyValue>;
};

export type WorkspaceLine = { lane: Lane; text: string; atMs: number; history: boolean };

export type EntityKind = "order" | "invoice" | "email" | "phone" | "amount";
export type WorkspaceEntity = { kind: EntityKind; value: string; lineAtMs: number };

export type WorkspaceSummary = {
  wanted: string | null;
  rulesHit: Array<string>;
  handoverReason: string | null;
  entities: Array<WorkspaceEntity>;
  botSeconds: number | null;
  queueSeconds: number | null;
  modelWritten: boolean;
};

export type SentimentLabel = "positive" | "neutral" | "negative";
export type SentimentTrend = "improving" | "steady" | "worsening";
export type SentimentMessage = { atMs: number; text: string; compound: number; label: SentimentLabel };
export type WorkspaceSentiment = { language: string; messages: Array<SentimentMessage>; trend: SentimentTrend };

export type Suggestion = { title: string; text: string; score: number; source: string; modelWritten: boolean };

export type ModelNote = { model: string; summary: string; parts: Array<string>; writtenAtMs: number };

export type Workspace = {
  conversation: WorkspaceConversation;
  identity: WorkspaceIdentity;
  transcript: Array<WorkspaceLine>;
  summary: WorkspaceSummary;
  sentiment: WorkspaceSentiment | null;
  sentimentNote: string | null;
  suggestions: Array<Suggestion>;
  model: ModelNote | null;
  generatedAtMs: number;
};

export type KnowledgeHit = { title: string; text: string; source: string; score: number };
