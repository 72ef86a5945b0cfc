// What became of a delivery, in words a person reads: the engine and the receiver record
// short internal outcomes ("echo ignored", "… (P5)") for the logs; the inspector says
// what happened instead.

import type { DeliverySummary } from "../types";

const PLAIN: [RegExp, string | ((m: RegExpMatchArray) => string)][] = [
  [/^echo/i, "An echo of a message the relay sent; nothing to do"],
  [/^conversation updated$/, "The conversation's state was updated"],
  [/^queued$/, "The conversation was queued for an agent"],
  [/^agent joined$/, "An agent joined the conversation"],
  [/^agent left \(transfer\)$/, "The agent left to hand over to another"],
  [/^agent left$/, "The agent left the conversation"],
  [/^user left$/, "The customer left; the conversation ended"],
  [/^members changed$/, "Participants changed; nothing to do"],
  [/^transfer$/, "The agent started a transfer"],
  [/^agent message$/, "The agent's message was passed to the customer"],
  [/^customer message$/, "The customer's message was passed to the bot"],
  [/^system message$/, "An 8x8 system message was added to the transcript"],
  [/^own message ignored$/, "A message the relay sent itself; nothing to do"],
  [/^typing$/, "Typing was shown"],
  [/^quick reply$/, "The customer's quick-reply choice went to the bot"],
  [/^card submitted$/, "The customer's card went to the bot"],
  [/^activity ignored$/, "An activity with nothing to do here"],
  [/^ignored$/, "Not an event to act on; stored only"],
  [/^no conversation in the event$/, "The event names no conversation; nothing to do"],
  [/^nothing to do for an unknown conversation$/, "Not a conversation this relay knows; nothing to do"],
  [/^event of an earlier 8x8 conversation (\S+) ignored$/, (m) => `From an earlier 8x8 conversation (${m[1]}); nothing to do`],
  [/^webhook verification answered$/, "8x8's webhook check was answered"],
  [/unknown or legacy event type/, "An event type this relay does not act on; stored only"],
];

/** An outcome text in plain words: known ones rephrased, others without references. */
export function plainOutcome(text: string): string {
  const t = text.trim();
  for (const [re, say] of PLAIN) {
    const m = t.match(re);
    if (m) return typeof say === "string" ? say : say(m);
  }
  // Internal references (decision numbers) mean nothing to the reader.
  const cleaned = t.replace(/\s*\(P\d+\)/g, "");
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}

/** What became of a delivery, one sentence. */
export function whatHappened(d: Pick<DeliverySummary, "status" | "outcome" | "duplicateOf">): string {
  const outcome = d.outcome ? plainOutcome(d.outcome) : null;
  switch (d.status) {
    case "pending":
      return "Waiting for the conversation engine";
    case "duplicate":
      return `A repeat of delivery ${d.duplicateOf ?? "?"}; not processed again`;
    case "rejected":
      return outcome ? `Refused: ${lowerFirst(outcome)}` : "Refused";
    case "failed":
      return outcome ? `Failed: ${lowerFirst(outcome)}` : "Failed";
    case "unverified":
      return "Its signature did not check out; not acted on";
    default:
      return outcome ?? (d.status === "processed" ? "Processed" : plainOutcome(d.status));
  }
}

function lowerFirst(s: string) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function verdictClass(s: string) {
  return s === "valid" ? "ok" : s === "invalid" ? "bad" : "warn";
}

export function statusClass(s: string) {
  return s === "processed" ? "ok" : s === "rejected" || s === "failed" || s === "unverified" ? "bad" : "warn";
}
