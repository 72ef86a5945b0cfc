// What an import would change, in the words of the settings pages: each field that
// differs, under the section it is shown in, with the value before and after.

import type { Settings } from "./types";

export interface FieldChange {
  path: string;
  label: string;
  /** Absent for long texts (the flow, the JSON properties): "changed" says enough. */
  before?: string;
  after?: string;
}

export interface SectionChanges {
  section: string;
  changes: FieldChange[];
}

/** Section and label of each field, in the order the pages show them. */
const FIELDS: [path: string, section: string, label: string, long?: true][] = [
  ["sandbox", "Sandbox", "Use the sandbox"],
  ["connection.baseUrl", "Connection to 8x8", "Base URL"],
  ["connection.tenant", "Connection to 8x8", "8x8-Tenant"],
  ["endpoint.enabled", "Endpoint", "Enable the endpoint"],
  ["endpoint.acceptConversationActiveEvent", "Endpoint", "Accept Conversation Active Event"],
  ["endpoint.publicBaseUrl", "Endpoint", "Public base URL"],
  ["endpoint.verifySignatures", "Endpoint", "Verify webhook signatures"],
  ["bot.kind", "Bot", "Who answers the customer"],
  ["bot.flow", "Bot", "Flow (YAML)", true],
  ["bot.externalUrl", "Bot", "External bot URL"],
  ["bot.externalTimeoutMs", "Bot", "Time limit per message (ms)"],
  ["handover.useEndpointConnection", "Handover connection", "Use the endpoint's connection"],
  ["handover.connection.baseUrl", "Handover connection", "Base URL"],
  ["handover.connection.tenant", "Handover connection", "8x8-Tenant"],
  ["handover.channelId", "Where handovers go", "Channel Id"],
  ["handover.queueId", "Where handovers go", "Queue Id"],
  ["handover.jsonProperties", "What the agent sees", "JSON properties", true],
  ["handover.handoverMessage", "During and after the handover", "Handover message", true],
  ["handover.inactivityTimeoutMinutes", "During and after the handover", "Inactivity timeout (minutes)"],
  ["handover.whenAgentLeaves", "During and after the handover", "When the agent leaves"],
  ["handover.handback", "During and after the handover", "Handback"],
  ["handover.desktopNotifications", "During and after the handover", "Desktop notifications"],
  ["retention.deliveriesDays", "Data kept", "Webhook deliveries (days)"],
  ["retention.outboxDays", "Data kept", "Outbox history (days)"],
  ["retention.conversationsDays", "Data kept", "Ended conversations (days)"],
];

/** Neither is the admin's: the format number, and the token an import never brings. */
const IGNORED = new Set(["version", "endpoint.token"]);

/** Choices in the words the pages use for them. */
const WORDS: Record<string, string> = {
  "sandbox:auto": "automatic (sandbox while no API key is set)",
  "sandbox:on": "always the sandbox",
  "sandbox:off": "always the real 8x8",
  "bot.kind:builtin": "built-in flow",
  "bot.kind:external": "external bot",
  "handover.whenAgentLeaves:resumeBot": "resume the bot",
  "handover.whenAgentLeaves:close": "close the conversation",
};

function show(path: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "boolean") return value ? "on" : "off";
  return WORDS[`${path}:${String(value)}`] ?? String(value);
}

function leaves(value: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [p, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

/** The fields that differ between the saved settings and an import, by section. */
export function settingsChanges(saved: Settings, incoming: Settings): SectionChanges[] {
  const before = leaves(saved);
  const after = leaves(incoming);
  const known = new Map(FIELDS.map(([path, section, label, long]) => [path, { section, label, long }]));
  const paths = [...FIELDS.map(([p]) => p), ...[...new Set([...before.keys(), ...after.keys()])].filter((p) => !known.has(p))];
  const sections: SectionChanges[] = [];
  for (const path of paths) {
    if (IGNORED.has(path)) continue;
    const a = before.get(path);
    const b = after.get(path);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    // A field this page has no words for yet still shows, under its own name.
    const meta = known.get(path) ?? { section: "Other", label: path, long: undefined };
    let section = sections.find((s) => s.section === meta.section);
    if (!section) sections.push((section = { section: meta.section, changes: [] }));
    section.changes.push(meta.long ? { path, label: meta.label } : { path, label: meta.label, before: show(path, a), after: show(path, b) });
  }
  return sections;
}
