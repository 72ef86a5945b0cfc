// The plain-words side of the contact-center checks (crates/switchboard-types/src/
// contact_center.rs): what each choice means to the admin, the blocks a switch turns on
// (the same defaults as the Rust side), the number checks the server cannot see (a
// half-typed number is lost when the draft becomes JSON), and whether the flow YAML
// has its own block.

import type { AgentStates, Availability, ContactCenterChecks, OpeningHours, QueueLimit, StatusMessages } from "../api.generated";
import type { FieldErrors } from "../validate";

export const CC = "handover.contactCenter";

/** The five steps of "which agents count", fewest first. */
export const AGENT_STATES: { value: AgentStates; label: string }[] = [
  { value: "available", label: "Available agents only (ready for a new chat)" },
  { value: "availableOrBusy", label: "Available or busy with another chat" },
  { value: "availableBusyOrOffline", label: "Available, busy or working offline" },
  { value: "availableBusyOfflineOrBreak", label: "Available, busy, working offline or on a break" },
  { value: "loggedIn", label: "Anyone logged in (including wrap-up)" },
];

/** 8x8's custom schedule choices, as its schedules name them. */
export const SCHEDULE_CHOICES = [1, 2, 3, 4, 5, 6].map((n) => `Choice #${n}`);

/** The status steps; in endpoint mode 8x8's own channel shows all but "queued" (docs/decisions.md P33). */
export const STATUS_STEPS: { key: keyof StatusMessages; label: string; hint: string }[] = [
  { key: "queued", label: "Queued", hint: "When the conversation enters the queue (in handover mode with the cancel word as a quick reply). Both modes." },
  { key: "agentJoined", label: "Agent joined", hint: "{agent} becomes the agent as 8x8's events name them (their agent id). Handover mode only." },
  { key: "transferred", label: "Transferred", hint: "When the agent moves the conversation to another queue or agent. Handover mode only." },
  { key: "agentLeft", label: "Agent left", hint: "When the agent leaves before the conversation ends. Handover mode only." },
  { key: "ended", label: "Conversation ended", hint: "When the agent or a timeout ends the conversation. Handover mode only." },
  { key: "cancelled", label: "Handover cancelled", hint: "When the customer leaves the queue with the cancel word; the bot takes over again. Handover mode only." },
];

export const newOpeningHours = (): OpeningHours => ({
  scheduleId: "",
  closedChoices: [],
  message: "We are closed right now. I can still help with many questions.",
});

export const newAvailability = (): Availability => ({
  states: "available",
  message: "No agent is available right now.",
  offerWait: true,
});

export const newQueueLimit = (): QueueLimit => ({
  maxWaiting: null,
  maxLongestWaitSeconds: null,
  message:
    "Our agents are busy: {waiting} waiting, the longest for {longest_wait}. Would you like to wait, or keep talking to me?",
});

const whole = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 4_294_967_295;

/** Only what JSON would lose (a number input's half-typed or fractional value); the
 *  server decides the rest (a limit with neither number, unknown placeholders) and its
 *  verdict is shown at the same fields. */
export function validateContactCenter(cc: ContactCenterChecks): FieldErrors {
  const errors: FieldErrors = {};
  if (!whole(cc.queueUpdateSeconds)) {
    errors[`${CC}.queueUpdateSeconds`] = "Type a whole number of seconds, or 0 to send no queue updates.";
  }
  const limit = cc.queueLimit;
  if (limit) {
    if (limit.maxWaiting !== null && !whole(limit.maxWaiting)) {
      errors[`${CC}.queueLimit.maxWaiting`] = "Type a whole number of conversations waiting, or leave it empty to not look at it.";
    }
    if (limit.maxLongestWaitSeconds !== null && !whole(limit.maxLongestWaitSeconds)) {
      errors[`${CC}.queueLimit.maxLongestWaitSeconds`] = "Type a whole number of seconds, or leave it empty to not look at it.";
    }
  }
  return errors;
}

/**
 * Whether the flow YAML has a `contact_center:` key under its top-level `handover:`
 * (block or flow style). A line scan, not a parser: the server's parse is the one that
 * counts; this only tells the admin which of the two blocks is in force.
 */
export function flowHasContactCenter(flow: string): boolean {
  let inHandover = false;
  const lines = flow.split(/\r?\n/).map((raw) => raw.replace(/\s+#.*$/, "")).filter((l) => !/^\s*(#.*)?$/.test(l));
  const indent = (l: string) => l.length - l.trimStart().length;
  for (const [i, line] of lines.entries()) {
    const topLevel = !/^\s/.test(line);
    if (topLevel) {
      const m = /^handover\s*:(.*)$/.exec(line);
      inHandover = m !== null;
      if (m && /(^|[{,\s])contact_center\s*:/.test(m[1] ?? "")) return true;
      continue;
    }
    const key = /^\s+contact_center\s*:(.*)$/.exec(line);
    if (inHandover && key) {
      // `contact_center:` with nothing in it is no block (the settings' block applies):
      // it has a value on its line, or more-indented lines under it.
      if ((key[1] ?? "").trim() !== "") return true;
      const next = lines[i + 1];
      return next !== undefined && indent(next) > indent(line);
    }
  }
  return false;
}
