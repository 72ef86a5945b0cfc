// A handed-over conversation's workspace as the relay answers it (the shape of
// switchboard-copilot's Workspace), for the page's tests on fixed data.

export function fixtureWorkspace(now = Date.now()) {
  const t0 = now - 6 * 60_000;
  const line = (lane, text, atMs, history = false) => ({ lane, text, atMs, history });
  return {
    conversation: {
      id: "conv-1", mode: "handover", phase: "queued", channel: "webchat", language: "en-GB",
      queueId: "101", queueName: "Sandbox support", agentId: null,
      createdAtMs: t0, queuedAtMs: now - 95_000, agentJoinedAtMs: null, endedAtMs: null,
    },
    identity: {
      name: "Nora Fixture", email: "nora@example.com", phone: "+441632960123", userId: "u-1", company: null, caseId: null,
      properties: [{ key: "Tier", value: "gold" }, { key: "Intent", value: "billing" }],
    },
    transcript: [
      line("bot", "Hello! How can I help you today?", t0, true),
      line("user", "I was charged twice for order A-10442, invoice INV-2291, £49.99", t0 + 20_000, true),
      line("bot", "I can help with billing. Is it about a refund?", t0 + 21_000, true),
      line("user", "This is really annoying, I want a person", t0 + 60_000, true),
      line("system", "Handed over to Sandbox support", now - 95_000),
    ],
    summary: {
      wanted: "I was charged twice for order A-10442, invoice INV-2291, £49.99",
      rulesHit: ["greeting", "billing", "handover"],
      handoverReason: "The customer asked for a person",
      entities: [
        { kind: "order", value: "A-10442", lineAtMs: t0 + 20_000 },
        { kind: "invoice", value: "INV-2291", lineAtMs: t0 + 20_000 },
        { kind: "amount", value: "£49.99", lineAtMs: t0 + 20_000 },
        { kind: "email", value: "nora@example.com", lineAtMs: t0 + 20_000 },
      ],
      botSeconds: 265, queueSeconds: 95, modelWritten: false,
    },
    sentiment: {
      language: "en",
      messages: [
        { atMs: t0 + 20_000, text: "I was charged twice for order A-10442, invoice INV-2291, £49.99", compound: -0.32, label: "negative" },
        { atMs: t0 + 60_000, text: "This is really annoying, I want a person", compound: -0.54, label: "negative" },
      ],
      trend: "worsening",
    },
    sentimentNote: null,
    suggestions: [
      { title: "refund", text: "Refunds reach your card within 5 working days.", score: 2.5, source: "flow rule refund", modelWritten: false },
      { title: "Double charge", text: "A double charge is usually a pending authorisation; it drops off within 3 days.", score: 1.2, source: "knowledge file § Double charge", modelWritten: false },
    ],
    model: null,
    generatedAtMs: now,
  };
}
