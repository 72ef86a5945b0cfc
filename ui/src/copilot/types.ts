// The Copilot API's answers: the relay's Rust types (crate switchboard-copilot), generated
// with the admin API's. Types only, so none of the admin app's code comes with them.

export type {
  KnowledgeHit,
  Workspace,
  WorkspaceLine,
  WorkspaceEntity,
  Suggestion,
} from "../lib/api.generated";
