// The steps of a conversation's life, each stated as it was at that moment. The
// conversation record holds only the latest queue and agent (and the first times), so
// the steps come from what the engine wrote into the transcript as things happened
// ("Queued in X.", "Agent Y joined.", transfers, agents leaving, the end and why).

import type { Conversation, Entry } from "../types";

export type StepKind = "start" | "queue" | "agent" | "reply" | "change" | "problem" | "end";

export interface Step {
  kind: StepKind;
  label: string;
  atMs: number;
}

/** What a system line means for the timeline, or null when it is not a lifecycle step. */
function stepOf(text: string): { kind: StepKind; label: string } | null {
  const t = text.trim().replace(/\.$/, "");
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^Queued in (.+)$/))) return { kind: "queue", label: `Queued in ${m[1]}` };
  if ((m = t.match(/^Agent (.*) joined$/))) return { kind: "agent", label: m[1] ? `Agent ${m[1]} joined` : "An agent joined" };
  if ((m = t.match(/^Agent (.*) left for the transfer$/))) return { kind: "change", label: `${m[1] ? `Agent ${m[1]}` : "The agent"} left for the transfer` };
  if (/transferred the conversation/i.test(t)) return { kind: "change", label: "Transferred by the agent" };
  if (/^The agent left/i.test(t)) return { kind: "change", label: "The agent left" };
  if (/^Handover to queue/i.test(t)) return { kind: "change", label: t };
  if ((m = t.match(/^8x8 conversation (\S+) created/))) return { kind: "change", label: "Handed over to 8x8" };
  if (/re-open/i.test(t)) return { kind: "change", label: t };
  if (/handed back/i.test(t)) return { kind: "change", label: t };
  if (/failed|stopped|cannot|did not/i.test(t)) return { kind: "problem", label: t };
  return null;
}

/** A contact-center check before a handover (its line carries `payload.check`), the
 *  customer's answer to an offer to wait, or leaving the queue: each a step, stated with
 *  the figures it used. */
function checkStep(e: Entry): { kind: StepKind; label: string } | null {
  const text = (e.text ?? "").trim().replace(/\.$/, "");
  const payload = e.payload as { check?: unknown } | null | undefined;
  if (payload && typeof payload === "object" && typeof payload.check === "string") {
    return { kind: /could not be/.test(text) ? "problem" : "change", label: text };
  }
  if (/^The customer chose to wait/.test(text) || /^The user left the queue/.test(text)) return { kind: "change", label: text };
  return null;
}

export function timelineSteps(c: Conversation, transcript: Entry[]): Step[] {
  const steps: Step[] = [{ kind: "start", label: "Started", atMs: c.createdAtMs }];
  let queued = false;
  let joined = false;
  for (const e of transcript) {
    if (e.lane !== "system") continue;
    const s = checkStep(e) ?? stepOf(e.text ?? "");
    if (!s) continue;
    queued ||= s.kind === "queue";
    joined ||= s.kind === "agent";
    steps.push({ ...s, atMs: e.atMs });
  }
  // A transcript from before these lines were written: the first times still hold.
  if (!queued && c.queuedAtMs) steps.push({ kind: "queue", label: "Queued", atMs: c.queuedAtMs });
  if (!joined && c.agentJoinedAtMs) steps.push({ kind: "agent", label: "An agent joined", atMs: c.agentJoinedAtMs });
  if (c.firstAgentReplyAtMs) steps.push({ kind: "reply", label: "First agent reply", atMs: c.firstAgentReplyAtMs });
  if (c.phase === "ended" && c.endedAtMs) {
    // The line written when it ended says why (the customer left, closed after the agent…).
    const why = transcript.find((e) => e.lane === "system" && e.atMs >= c.endedAtMs! && e.atMs - c.endedAtMs! < 2000 && !stepOf(e.text ?? ""));
    steps.push({ kind: "end", label: why?.text ? `Ended: ${why.text.replace(/\.$/, "")}` : "Ended", atMs: c.endedAtMs });
  }
  // Stable: steps at the same millisecond keep the order they happened in.
  return steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.atMs - b.s.atMs || a.i - b.i).map(({ s }) => s);
}
