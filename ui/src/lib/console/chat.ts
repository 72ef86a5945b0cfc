// The agent console's reading of the sandbox's agent view (GET /sim/conversations/{id},
// crates/chat-gateway-sim/src/control.rs): who wrote each message, whether the chat is
// still this agent's, and what to say when it is not.
import type { SandboxConversation, SandboxMessage } from "../types";

/** One agent's part in the chat (the emulator's `AgentSession`). */
export interface AgentSession {
  agentId: string;
  scripted: boolean;
  joinedAtMs: number;
  leftAtMs?: number;
  endedBy?: "transfer" | "end" | "userLeft" | "reassigned";
  toQueueId?: string;
  toQueueName?: string;
}

export interface ConsoleMessage extends SandboxMessage {
  /** A scripted mock agent wrote it (beyond 8x8's shape). */
  scripted?: boolean;
}

export interface ConsoleChat extends SandboxConversation {
  user?: Record<string, unknown>;
  messages?: ConsoleMessage[];
  /** How many of the first messages came as `history` with the handover. */
  historyCount?: number;
  agentSessions?: AgentSession[];
  offer?: { queueId: string; queueName: string } | null;
}

export type AuthorKind = "customer" | "bot" | "you" | "scripted" | "agent" | "system";

/** A time of day as an agent reads it: hours and minutes. */
export function hhmm(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The customer's name as the agent sees it, from the user data sent to 8x8. */
export function customerName(chat: ConsoleChat): string {
  const name = chat.user?.name;
  return typeof name === "string" && name.trim() ? name : "Customer";
}

/** Who wrote `m`: a label and a kind, told apart as the agent needs to. */
export function authorOf(m: ConsoleMessage, chat: ConsoleChat, me: string): { kind: AuthorKind; label: string } {
  const type = m.author?.type ?? "";
  const id = m.author?.id ?? "";
  if (type === "user") return { kind: "customer", label: `${customerName(chat)} (customer)` };
  if (type === "bot") return { kind: "bot", label: "Bot" };
  if (type === "agent") {
    if (m.scripted) return { kind: "scripted", label: `${id} (scripted agent)` };
    if (id === me) return { kind: "you", label: `You (${id})` };
    return { kind: "agent", label: `${id} (agent)` };
  }
  return { kind: "system", label: type || "System" };
}

/** This agent's latest part in the chat, if it had one. */
export function mySession(chat: ConsoleChat, me: string): AgentSession | undefined {
  return chat.agentSessions?.filter((s) => s.agentId === me).at(-1);
}

/** Whether `me` handles the chat now (and may reply, transfer, end). */
export function isMine(chat: ConsoleChat, me: string): boolean {
  return !!chat.agent && chat.agent === me;
}

/**
 * Why `me` cannot act in the chat, in the agent's terms; null while it may. Read from
 * what the emulator records, so the note is the same after a reload.
 */
export function lockNote(chat: ConsoleChat, me: string): string | null {
  if (isMine(chat, me)) return null;
  const s = mySession(chat, me);
  if (s?.leftAtMs !== undefined) {
    const at = hhmm(s.leftAtMs);
    switch (s.endedBy) {
      case "transfer":
        return `Transferred to ${s.toQueueName ?? `queue ${s.toQueueId ?? "?"}`} at ${at} — you can no longer reply.`;
      case "end":
        return `You ended this chat at ${at} — you can no longer reply.`;
      case "userLeft":
        return `The customer left at ${at} — the chat is over and you can no longer reply.`;
      default:
        return `The chat was taken back from you at ${at} — you can no longer reply.`;
    }
  }
  if (chat.offer) return `Waiting in ${chat.offer.queueName} — accept its offer to reply.`;
  if (chat.agent) return `${chat.agent} is handling this chat — you can read along but not reply.`;
  return "No agent is handling this chat — you can read along but not reply.";
}
