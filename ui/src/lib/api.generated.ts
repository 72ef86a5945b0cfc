// GENERATED FILE: do not edit. The admin API's types, derived from the Rust types by ts-rs
// (crates/switchboard-relay/src/admin/ts_export.rs lists them). After changing one of
// those types, regenerate with
//     UPDATE_TS=1 cargo test -p switchboard-relay --lib ts_export
// `cargo test` fails while this file differs from what the Rust types generate.
// UI-only types live in types.ts.

export type AdminStatus = { port: number, };

/**
 * What the handover does when the agent leaves without a transfer.
 */
export type AgentLeaves = "resumeBot" | "close";

/**
 * Which agents count as able to take a chat, in the same steps as Cognigy's "test
 * condition of queue" node (docs/contact-center.md §2).
 */
export type AgentStates = "available" | "availableOrBusy" | "availableBusyOrOffline" | "availableBusyOfflineOrBreak" | "loggedIn";

export type Analytics = { fromMs: number, toMs: number, conversations: number, contained: number, handedOver: number, abandoned: number, handoversByReason: Array<Count>, timeToAgent: Percentiles, timeToFirstReply: Percentiles, botTurns: number, fallbackTurns: number, topRules: Array<Count>, 
/**
 * 24 counts, hour 0 first, in the caller's time zone.
 */
byHour: Array<number>, 
/**
 * Every day of the period, in order, including days without conversations.
 */
byDay: Array<DayCount>, };

/**
 * `{type: queue|script, id}`; responses may also say `agent` (and more, extensible).
 */
export type Assignment = { type: string, id: string, };

export type AttachmentRef = { id: string, };

export type Availability = { 
/**
 * No agent in these states means nobody can take the chat.
 */
states: AgentStates, 
/**
 * Said when nobody can.
 */
message: string, 
/**
 * Offer to wait anyway (quick replies: wait / keep talking to the bot).
 */
offerWait: boolean, };

export type Backend = "secretService" | "memory" | "unavailable";

export type BotKind = "builtin" | "external";

export type BotSettings = { kind: BotKind, 
/**
 * The built-in flow as YAML, kept as the admin typed it (comments and all).
 */
flow: string, 
/**
 * The Rasa REST channel's webhook, e.g. `http://localhost:5005/webhooks/rest/webhook`.
 */
externalUrl: string | null, 
/**
 * How long the external bot may take to answer one message.
 */
externalTimeoutMs: number, };

/**
 * A channel as the pickers offer it.
 */
export type Channel = { id: string, name: string, type: string | null, webhookId: string | null, queueId: string | null, };

/**
 * `GET /api/channels`.
 */
export type ChannelList = { channels: Array<Channel>, };

export type ConnectionSettings = { 
/**
 * The 8x8 API's base URL; the Chat Gateway lives under `/chat-gateway/v1`.
 */
baseUrl: string, 
/**
 * Sent as `X-8x8-Tenant`; mandatory when the organisation has several tenants.
 */
tenant: string | null, };

export type ConnectionStatus = { 
/**
 * Where 8x8 calls go now (the sandbox's address while it is active).
 */
effectiveBaseUrl: string, configuredBaseUrl: string, tenant: string | null, apiKeySet: boolean, apiKeyFromEnvironment: boolean, };

export type ContactCenterChecks = { 
/**
 * Hand over only while 8x8's schedule is open.
 */
openingHours: OpeningHours | null, 
/**
 * Hand over only when the queue has agents in the chosen states.
 */
availability: Availability | null, 
/**
 * Ask before handing over into a long queue.
 */
queueLimit: QueueLimit | null, 
/**
 * What a check does when 8x8 cannot answer it.
 */
onError: OnCheckError, 
/**
 * Tell the waiting customer the queue's figures every this many seconds; 0 is off.
 */
queueUpdateSeconds: number, 
/**
 * The queue update; `{waiting}` and `{typical_wait}` are filled in.
 */
queueUpdateMessage: string, 
/**
 * Typed while queued (whole message, any letter case), ends the wait and gives the
 * conversation back to the bot; empty is off. The queued message also offers it as a
 * quick reply.
 */
cancelWord: string, 
/**
 * What the customer is told at each step; an empty text is silent.
 */
status: StatusMessages, };

export type Conversation = { id: string, mode: Mode, phase: Phase, 
/**
 * 8x8's conversation id, once there is one.
 */
gatewayId: string | null, 
/**
 * 8x8's own state (`created`, `active`, `idle`), as last reported.
 */
state: string | null, channelId: string | null, 
/**
 * The user as the conversation knows them: the tester's form, or 8x8's user data
 * with what later events add. Free-form JSON; these are the fields the UI reads.
 */
user: { name?: string | null, email?: string | null, language?: string | null, phone?: string | null, channel?: string | null, [key: string]: unknown }, greeted: boolean, queueId: string | null, queueName: string | null, agentId: string | null, transferPending: boolean, 
/**
 * The handover's record (handover mode): what 8x8 was sent, and the bookkeeping.
 */
handover: HandoverRecord | null, createdAtMs: number, updatedAtMs: number, queuedAtMs: number | null, agentJoinedAtMs: number | null, firstAgentReplyAtMs: number | null, endedAtMs: number | null, lastUserAtMs: number | null, lastText: string | null, 
/**
 * The handover the bot offered (a long queue, no agent available) and the customer
 * has not answered yet: the reason it was asked for, to hand over with if they wait.
 */
handoverOffer: string | null, };

/**
 * A page of the conversation list, newest first.
 */
export type ConversationPage = { conversations: Array<ConversationSummary>, };

/**
 * A conversation as the list shows it: everything but the bot's memory and the handover
 * record (which holds up to 200 history messages, and is read when one conversation is
 * opened); `handed_over` says whether there is one.
 */
export type ConversationSummary = { id: string, mode: Mode, phase: Phase, gatewayId: string | null, state: string | null, channelId: string | null, 
/**
 * The user as the conversation knows them: the tester's form, or 8x8's user data
 * with what later events add. Free-form JSON; these are the fields the UI reads.
 */
user: { name?: string | null, email?: string | null, language?: string | null, phone?: string | null, channel?: string | null, [key: string]: unknown }, greeted: boolean, queueId: string | null, queueName: string | null, agentId: string | null, transferPending: boolean, handedOver: boolean, createdAtMs: number, updatedAtMs: number, queuedAtMs: number | null, agentJoinedAtMs: number | null, firstAgentReplyAtMs: number | null, endedAtMs: number | null, lastUserAtMs: number | null, lastText: string | null, 
/**
 * In an answer to a search: the newest transcript line that matched, if a line did
 * (a conversation can match by its user's name or ids alone).
 */
matchedLine?: MatchedLine, };

/**
 * `ConversationUserData` (chat-gateway.md §4.1): what the agent sees about the customer.
 */
export type ConversationUser = { name?: string, userId?: string, email?: string, phone?: string, company?: string, caseId?: string, language?: string, 
/**
 * At most 30 (P18); the only custom data agents surely see.
 */
additionalProperties?: Array<KeyValue>, };

/**
 * A conversation and its transcript, as the UI opens it.
 */
export type ConversationView = { conversation: Conversation, transcript: Array<Entry>, };

/**
 * The JWT shared secret, in the one answer that ever shows it.
 */
export type CopilotJwtSecret = { 
/**
 * 256 random bits, base64url: give it to the agent desktop that verifies the
 * links' `auth` JWT (HS256). It is kept in the keychain and never shown again.
 */
secret: string, };

/**
 * A conversation's Copilot session as the admin sees it.
 */
export type CopilotLinkView = { 
/**
 * The link the agent got (and can open again); `null` once revoked, or when it can
 * no longer be rebuilt (signed links without a JWT secret).
 */
link: string | null, createdAtMs: number, revokedAtMs: number | null, 
/**
 * When the link stops working: the configured hours after the conversation ended;
 * `null` while the conversation goes on.
 */
expiresAtMs: number | null, };

/**
 * An OpenAI-compatible chat-completions service; its API key is in the keychain.
 * Off by default.
 */
export type CopilotModel = { enabled: boolean, 
/**
 * The chat-completions URL, e.g. `https://api.example.com/v1/chat/completions`.
 */
url: string, 
/**
 * The model's name as the service knows it.
 */
model: string, };

/**
 * The Copilot's settings, under `handover.copilot`.
 */
export type CopilotSettings = { 
/**
 * Put a Copilot link in every handover.
 */
enabled: boolean, 
/**
 * The key of the link's entry in `user.additionalProperties` (what the agent reads).
 */
label: string, 
/**
 * How long after the conversation ends the link keeps working.
 */
expiryHours: number, 
/**
 * Add `&auth=<JWT>` (HS256, signed with the keychain's shared secret) so an agent
 * desktop can verify the link before embedding it in an iframe.
 */
signedLinks: boolean, 
/**
 * An optional knowledge file's text (Markdown, or FAQ-style YAML) searched beside
 * the flow's answers.
 */
knowledge: string, 
/**
 * An optional OpenAI-compatible language model for the summary and suggestions.
 */
model: CopilotModel, };

export type Count = { label: string, count: number, };

/**
 * `CreateTransactionRequest`.
 */
export type CreateConversation = { channelId: string, user: ConversationUser, assignment?: Assignment, 
/**
 * At most 200 messages (P18).
 */
history?: History, };

/**
 * How big the database is on disk.
 */
export type DatabaseSize = { 
/**
 * The database and its WAL together.
 */
totalBytes: number, 
/**
 * The database's pages (`page_count × page_size`).
 */
fileBytes: number, 
/**
 * The write-ahead log (`-wal`), not yet copied back or not yet emptied.
 */
walBytes: number, 
/**
 * Pages inside the file that are free for reuse (`freelist_count × page_size`);
 * retention's incremental vacuum hands them back.
 */
freeBytes: number, };

export type DatabaseStatus = { path: string, schemaVersion: number, 
/**
 * How big the database is on disk; absent when it could not be read.
 */
size: DatabaseSize | null, retention: RetentionStatus, };

export type DayCount = { 
/**
 * The day's first instant (UTC milliseconds) in the caller's time zone.
 */
dayMs: number, count: number, };

export type DeliveryDetail = { delivery: DeliveryRecord, 
/**
 * Every delivery of the same event id, oldest first.
 */
group: Array<DeliverySummary>, explainer: SignatureExplainer, };

/**
 * Every delivery of one event: the first and its retries/duplicates, oldest first.
 */
export type DeliveryGroup = { 
/**
 * The event id, or `delivery-{id}` for a delivery without one.
 */
key: string, eventId: string | null, eventType: string | null, conversationId: string | null, 
/**
 * Deliveries after the first: what 8x8 (or a replay) sent again.
 */
retryCount: number, latestId: number, deliveries: Array<DeliverySummary>, };

/**
 * One delivery as the inspector shows it.
 */
export type DeliveryRecord = { id: number, receivedAtMs: number, 
/**
 * The request headers as received, by lower-case name.
 */
headers: Record<string, string>, 
/**
 * The raw body as text (lossy only if it was not UTF-8).
 */
body: string, eventId: string | null, eventType: string | null, conversationId: string | null, signature: string, signatureReason: string | null, httpStatus: number, duplicateOf: number | null, status: string, outcome: string | null, processedAtMs: number | null, };

/**
 * One delivery in a list: everything but the body and headers.
 */
export type DeliverySummary = { id: number, receivedAtMs: number, eventId: string | null, eventType: string | null, 
/**
 * `data.name` of an ACTIVITY: typing, quickReply/action …
 */
activity: string | null, conversationId: string | null, signature: string, signatureReason: string | null, httpStatus: number, duplicateOf: number | null, status: string, outcome: string | null, 
/**
 * `x-8x8-retry` as received (0 on the first attempt).
 */
retry: number | null, 
/**
 * Set on deliveries made inside the relay.
 */
origin: string | null, };

/**
 * Which way a transcript line travelled.
 */
export type Direction = "in" | "out" | "local" | "pending";

export type EndpointSettings = { enabled: boolean, acceptConversationActiveEvent: boolean, 
/**
 * The public base URL of a tunnel or reverse proxy in front of the endpoint listener.
 */
publicBaseUrl: string | null, 
/**
 * The secret path segment of the Endpoint URL.
 */
token: string, verifySignatures: boolean, };

export type EndpointStatus = { listen: string, port: number, url: string, 
/**
 * True when no public base URL is set: 8x8's cloud cannot reach a local address.
 */
localOnly: boolean, enabled: boolean, verifySignatures: boolean, rejectedTokenCount: number, };

export type EntityKind = "order" | "invoice" | "email" | "phone" | "amount";

/**
 * One line of the transcript.
 */
export type Entry = { id: number, conversationId: string, lane: Lane, direction: Direction, text: string, 
/**
 * Quick replies, cards, attachments.
 */
payload: JsonValue, atMs: number, };

/**
 * What the admin API's live stream (`GET /api/events`, SSE event `relay`) carries.
 */
export type Envelope = { seq: number, atMs: number, } & ({ "type": "statusChanged" } | { "type": "settingsChanged" } | { "type": "conversationChanged", conversationId: string, phase: Phase, } | { "type": "transcriptEntry", 
/**
 * A transcript `Entry` (switchboard-store), as JSON.
 */
entry: Entry, } | { "type": "typing", conversationId: string, who: "agent" | "user", typing: boolean, } | { "type": "deliveryReceived", eventType: string, accepted: boolean, } | { "type": "deliveryRecorded", id: number, eventType: string, httpStatus: number, signature: string, signatureReason: string | null, duplicateOf: number | null, } | { "type": "outboxUpdated", id: number, operation: string, status: OutboxStatus, attempts: number, lastError: string | null, });

/**
 * The body of every error answer of the admin API.
 */
export type ErrorBody = { code: ErrorCode, message: string, 
/**
 * Per-field problems (`invalid_settings`), named as the forms name fields.
 */
fields?: Array<FieldError>, };

/**
 * What went wrong, for the program: the UI branches on these, never on messages.
 * The 8x8 codes are also what a connection test reports (`TestOutcome.code`).
 */
export type ErrorCode = "unauthorized" | "foreign_host" | "foreign_origin" | "not_found" | "bad_request" | "bad_query" | "invalid_settings" | "invalid_json_properties" | "invalid_event" | "bad_import" | "key_from_environment" | "refused" | "no_sandbox" | "no_webhook" | "conflict" | "sandbox_refused" | "sandbox_unreachable" | "keychain_failed" | "settings_not_saved" | "stopping" | "internal" | "no_key" | "too_large" | "key_for_other_url" | "8x8_not_configured" | "8x8_unauthorized" | "8x8_forbidden" | "8x8_not_found" | "8x8_rate_limited" | "8x8_unavailable" | "8x8_rejected" | "8x8_timeout" | "8x8_unreachable" | "8x8_tls" | "8x8_transport" | "8x8_bad_response" | "invalid_request";

export type EventTemplate = { name: string, body: JsonValue, };

/**
 * One invalid field: where it is (a dotted path, as the forms name fields) and why.
 */
export type FieldError = { field: string, message: string, };

export type GroupPage = { groups: Array<DeliveryGroup>, 
/**
 * Pass as `before` for the next page; absent at the end.
 */
nextBefore: number | null, };

/**
 * What the agent receives on a handover, with sample values.
 */
export type HandoverPreview = { user: ConversationUser, history: History, notes: Array<string>, };

/**
 * What a handover in handover mode leaves on its conversation. `request` is exactly
 * what 8x8 was sent (the agent's view: user, JSON properties, history); the rest is the
 * relay's own bookkeeping and never goes to 8x8. Stored as one JSON object with these
 * fields side by side (`request`, `outboxId`, `handback`, `earlierGatewayIds`).
 */
export type HandoverRecord = { request: CreateConversation, 
/**
 * The outbox entry of the create; its answer carries 8x8's conversation id.
 */
outboxId: number | null, 
/**
 * Whether a handback (post-agent assignment) is to be scheduled once 8x8 answers.
 */
handback: boolean, 
/**
 * 8x8 conversations of earlier handovers of the same conversation: their late
 * events are recognised and ignored.
 */
earlierGatewayIds: Array<string>, };

export type HandoverSettings = { 
/**
 * Use the endpoint's Base URL, tenant and API key (one 8x8 connection for both roles).
 */
useEndpointConnection: boolean, 
/**
 * The handover's own connection, when it does not share the endpoint's.
 */
connection: ConnectionSettings, channelId: string | null, queueId: string | null, 
/**
 * Custom JSON shown to the agent, kept as the admin typed it.
 */
jsonProperties: string, 
/**
 * What the user is told when the bot hands over.
 */
handoverMessage: string, 
/**
 * A handed-over conversation with no user message for this long is ended.
 */
inactivityTimeoutMinutes: number, whenAgentLeaves: AgentLeaves, 
/**
 * Ask 8x8 to route the conversation back to the bot after the agent (post-agent assignment).
 */
handback: boolean, 
/**
 * A native notification when a conversation is handed over or an agent replies.
 * Only the desktop app shows them (the headless server has no desktop); files saved
 * before the field existed load with it on, through the section's serde default.
 */
desktopNotifications: boolean, 
/**
 * What the handover checks in the contact center first (opening hours, agents,
 * queue length) and what the customer is told while waiting. The flow's
 * `handover.contact_center` block, when it has one, replaces this one.
 */
contactCenter: ContactCenterChecks, 
/**
 * The agent's Copilot link in every handover; files from before it load with the
 * defaults (on, labelled "Copilot").
 */
copilot: CopilotSettings, };

export type History = { messages: Array<SendMessage>, };

/**
 * One HTTP exchange with 8x8 as the inspector shows it: what was asked, what came back
 * and how long it took. Never the headers, so never the API key.
 */
export type HttpExchange = { method: string, 
/**
 * The full URL asked (Base URL, path and query); no credentials are ever in it.
 */
url: string, 
/**
 * The HTTP status; `None` when no answer came (refused, timed out, TLS).
 */
status: number | null, 
/**
 * From sending the request to the end of the answer's body.
 */
durationMs: number, 
/**
 * The answer's body as text, cut to [`HttpExchange::BODY_LIMIT`] bytes.
 */
responseBody: string | null, 
/**
 * The whole body's size, to say how much was cut.
 */
responseBytes: number, };

export type Injected = { delivery: DeliverySummary, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * What the admin asks for one API key; absent means "leave it as it is".
 */
export type KeyChange = { "action": "replace", value: string, } | { "action": "remove" };

export type KeyChanges = { endpoint?: KeyChange, handover?: KeyChange, 
/**
 * The Copilot model's API key.
 */
copilotModel?: KeyChange, };

/**
 * Everything a key field may be told, for the admin API.
 */
export type KeyState = { set: boolean, fromEnvironment: boolean, };

export type KeyValue = { key: string, value: string, };

export type KeychainStatus = { backend: Backend, problem: string | null, };

/**
 * Whether each API key is set; the keys themselves never leave the keychain.
 */
export type Keys = { endpoint: KeyState, handover: KeyState, 
/**
 * The Copilot link's JWT shared secret (made by `POST /api/copilot/jwt-secret`).
 */
copilotJwtSecret: KeyState, 
/**
 * The Copilot model's API key.
 */
copilotModel: KeyState, };

/**
 * One answer of a knowledge search.
 */
export type KnowledgeHit = { title: string, text: string, 
/**
 * Where it comes from: "flow rule opening_hours", "knowledge file § Returns",
 * "knowledge file, question 3".
 */
source: string, score: number, };

/**
 * Who a transcript line is from (or, for `system`, what happened).
 */
export type Lane = "user" | "bot" | "agent" | "system";

export type LogDestination = { "kind": "stderr", format: string, } | { "kind": "files", directory: string, 
/**
 * How the files are named, e.g. `switchboard.YYYY-MM-DD.log`.
 */
pattern: string, keep: number, };

/**
 * A transcript line a search matched, shown in the list under the conversation.
 */
export type MatchedLine = { 
/**
 * The line's id in the transcript.
 */
id: number, lane: Lane, text: string, atMs: number, };

/**
 * How the conversation reached the relay.
 */
export type Mode = "endpoint" | "handover";

/**
 * Which parts a language model wrote, and what it said.
 */
export type ModelNote = { 
/**
 * The model's name as configured.
 */
model: string, 
/**
 * Its summary of the conversation.
 */
summary: string, 
/**
 * The parts it wrote: "summary", "suggestions".
 */
parts: Array<string>, writtenAtMs: number, };

export type NewUser = { name?: string | null, email?: string | null, language?: string | null, phone?: string | null, };

/**
 * When 8x8's statistics or schedule cannot be read: never a stuck conversation.
 */
export type OnCheckError = "handOver" | "treatAsClosed";

export type OpeningHours = { 
/**
 * 8x8's schedule id (`GET /cc/v1/schedules`).
 */
scheduleId: string, 
/**
 * Custom choices that count as closed too, e.g. `Choice #2`.
 */
closedChoices: Array<string>, 
/**
 * Said instead of handing over while closed; the bot carries on.
 */
message: string, };

/**
 * One entry as the inspector shows it.
 */
export type OutboxEntry = { id: number, orderingKey: string, operation: string, request: JsonValue, status: OutboxStatus, attempts: number, nextAttemptAtMs: number, lastError: string | null, lastStatus: number | null, response: JsonValue | null, createdAtMs: number, updatedAtMs: number, finishedAtMs: number | null, 
/**
 * The last attempt on the wire: method, URL, status, duration, the answer's body
 * (cut to a few kB). Absent before the first answer and for entries from before
 * schema version 12.
 */
exchange: HttpExchange | null, };

/**
 * `GET /api/inspector/outbox`: newest first.
 */
export type OutboxPage = { entries: Array<OutboxEntry>, 
/**
 * Pass as `before` for the next page; null at the end.
 */
nextBefore: number | null, };

export type OutboxStatus = "pending" | "sending" | "delivered" | "failed";

export type Percentiles = { 
/**
 * How many conversations the figures are over.
 */
count: number, p50Ms: number | null, p90Ms: number | null, };

/**
 * Where the conversation is, as agents and testers see it.
 */
export type Phase = "bot" | "handover" | "queued" | "agent" | "transferred" | "ended";

/**
 * `POST /api/handover/preview`.
 */
export type PreviewRequest = { jsonProperties: string, handoverMessage?: string | null, };

/**
 * A queue's figures as a check reads them: 8x8's real-time statistics, reduced to what a
 * handover decides on (docs/contact-center.md §1).
 */
export type QueueFigures = { queueId: string, queueName: string | null, 
/**
 * Interactions waiting now (the whole queue; 8x8 gives no per-conversation position).
 */
waiting: number, 
/**
 * Seconds the longest-waiting interaction has waited.
 */
longestWaitSeconds: number, 
/**
 * The 30-minute average wait, seconds: the queue's typical wait.
 */
averageWaitSeconds: number, agentsAvailable: number, agentsBusy: number, agentsWorkingOffline: number, agentsOnBreak: number, agentsLoggedOut: number, agentsWrapUp: number, };

/**
 * `GET /api/contact-center/queues`.
 */
export type QueueFiguresList = { queues: Array<QueueFigures>, };

export type QueueLimit = { 
/**
 * More than this many waiting is too long; `None` does not look at it.
 */
maxWaiting: number | null, 
/**
 * Someone waiting longer than this many seconds is too long; `None` does not look.
 */
maxLongestWaitSeconds: number | null, 
/**
 * Said with the choice to wait or keep talking to the bot; `{waiting}` and
 * `{longest_wait}` are filled in.
 */
message: string, };

export type QuickReplyChoice = { title: string, payload: string, };

export type Recheck = { ok: boolean, code: string | null, message: string, };

/**
 * What [`register_webhook`] did.
 */
export type RegistrationAction = "created" | "updated" | "unchanged";

/**
 * A live event as the admin UI receives it (inside an [`Envelope`]). Read back from JSON
 * too: on PostgreSQL the relays pass their events to each other as `NOTIFY` payloads.
 */
export type RelayEvent = { "type": "statusChanged" } | { "type": "settingsChanged" } | { "type": "conversationChanged", conversationId: string, phase: Phase, } | { "type": "transcriptEntry", 
/**
 * A transcript `Entry` (switchboard-store), as JSON.
 */
entry: Entry, } | { "type": "typing", conversationId: string, who: "agent" | "user", typing: boolean, } | { "type": "deliveryReceived", eventType: string, accepted: boolean, } | { "type": "deliveryRecorded", id: number, eventType: string, httpStatus: number, signature: string, signatureReason: string | null, duplicateOf: number | null, } | { "type": "outboxUpdated", id: number, operation: string, status: OutboxStatus, attempts: number, lastError: string | null, };

/**
 * What a replay does with the event id.
 */
export type ReplayMode = "dedupe" | "reprocess";

/**
 * `POST /api/inspector/deliveries/{id}/replay`.
 */
export type ReplayRequest = { mode: ReplayMode, 
/**
 * An edited body (JSON); absent = the stored body as received.
 */
body?: JsonValue, };

/**
 * What one pass removed, and when it ran.
 */
export type RetentionPass = { 
/**
 * When the pass ran, by the clock it was given (ms since the epoch).
 */
atMs: number, deliveries: number, outbox: number, conversations: number, 
/**
 * Transcript lines removed with their conversations.
 */
transcriptLines: number, 
/**
 * Bytes the database file gave back to the file system (incremental vacuum).
 */
freedBytes: number, tookMs: number, };

/**
 * How many days finished records are kept before the relay deletes them (in the
 * background, a few hundred rows at a time; see switchboard-store's `retention`).
 * Only what is done is ever deleted: deliveries the engine has finished with, outbox
 * calls 8x8 accepted or refused for good, and conversations that have ended (with their
 * transcripts), counted from their last change.
 */
export type RetentionSettings = { 
/**
 * Webhook deliveries as received (the inspector's raw record), accepted or not.
 */
deliveriesDays: number, 
/**
 * Outbox calls that were delivered to 8x8 or failed for good.
 */
outboxDays: number, 
/**
 * Ended conversations with their transcripts.
 */
conversationsDays: number, };

/**
 * How long finished records are kept, and what the last pass removed.
 */
export type RetentionStatus = { deliveriesDays: number, outboxDays: number, conversationsDays: number, 
/**
 * The last pass over this database (kept across restarts); none yet on a new one.
 */
lastPass: RetentionPass | null, };

export type Role = "endpoint" | "handover";

export type SandboxChoice = "auto" | "on" | "off";

export type SandboxStatus = { 
/**
 * Whether the endpoint role talks to the emulator now.
 */
active: boolean, reason: string, 
/**
 * The emulator's address while it runs (it stays available when not active).
 */
baseUrl: string | null, setupProblem: string | null, };

export type SandboxView = { available: boolean, forced: boolean, endpointActive: boolean, handoverActive: boolean, baseUrl: string | null, channelId: string | null, queueId: string | null, };

/**
 * `PUT /api/settings`: the settings and any key change, saved together or not at all.
 */
export type SaveRequest = { settings: Settings, keys?: KeyChanges, };

/**
 * A schedule to pick; `name` is the id when 8x8 gives none.
 */
export type ScheduleChoice = { id: string, name: string, };

/**
 * `GET /api/contact-center/schedules`.
 */
export type ScheduleList = { schedules: Array<ScheduleChoice>, };

/**
 * A schedule's state now (`GET /cc/v1/schedules/{id}/status`).
 */
export type ScheduleState = { "kind": "open" } | { "kind": "closed" } | { "kind": "choice", "choice": string };

/**
 * `GET /api/contact-center/schedules/{id}/status`.
 */
export type ScheduleStatus = { scheduleId: string, state: ScheduleState, 
/**
 * "Open", "Closed" or the choice, as 8x8 names it.
 */
label: string, };

/**
 * A message as `POST …/messages` and `history.messages[]` take it (chat-gateway.md §4.3).
 */
export type SendMessage = { 
/**
 * `user` or `bot`.
 */
authorType: string, text?: string, attachments?: Array<AttachmentRef>, cards?: Array<JsonValue>, };

export type SentimentLabel = "positive" | "neutral" | "negative";

export type SentimentMessage = { atMs: number, text: string, 
/**
 * VADER's compound score, -1 (most negative) to 1 (most positive).
 */
compound: number, label: SentimentLabel, };

export type SentimentTrend = "improving" | "steady" | "worsening";

export type Settings = { 
/**
 * Bumped when the shape changes, so that an old file can be migrated, not misread.
 */
version: number, 
/**
 * Whether the relay talks to the built-in 8x8 emulator instead of 8x8.
 */
sandbox: SandboxChoice, connection: ConnectionSettings, endpoint: EndpointSettings, handover: HandoverSettings, 
/**
 * The bot: the built-in flow or an external bot by URL.
 */
bot: BotSettings, 
/**
 * How long finished records are kept in the database; files saved before the
 * section existed load with the defaults.
 */
retention: RetentionSettings, };

/**
 * `GET /api/settings`, and the answer of every change to them.
 */
export type SettingsView = { settings: Settings, keys: Keys, keychain: KeychainStatus, endpointUrl: string, localOnly: boolean, sandbox: SandboxView, warnings: Array<Warning>, };

/**
 * The signature explainer: the parts of `x-8x8-signature` and what was signed, so a
 * failure can be read rather than guessed at.
 */
export type SignatureExplainer = { 
/**
 * `valid`, `invalid`, `unsigned` or `skipped`, as recorded at receipt.
 */
verdict: string, reason: string | null, 
/**
 * The JWS protected header, decoded.
 */
protectedHeader: JsonValue | null, kid: string | null, 
/**
 * CRC-32 of the raw body: unsigned (what 8x8 signs) and as a signed int (P14).
 */
crc32: number, crc32Signed: number, 
/**
 * The compact JSON the signature covers, rebuilt from this body and these headers.
 */
signedPayload: string | null, 
/**
 * Why the payload could not be rebuilt (a header missing or malformed).
 */
problem: string | null, 
/**
 * `x-8x8-transmission-time` minus the receipt time, and the window allowed.
 */
transmissionSkewMs: number | null, freshnessWindowMs: number, 
/**
 * The signature checked again now with the current key of the receiving Base URL
 * (freshness aside: a stored delivery is old by now).
 */
recheck: Recheck | null, };

/**
 * `GET /api/status`: the relay as the first screen shows it.
 */
export type Status = { version: string, shell: string, startedAtMs: number, endpoint: EndpointStatus, admin: AdminStatus, sandbox: SandboxStatus, connection: ConnectionStatus, keychain: KeychainStatus, database: DatabaseStatus, settingsLocation: string, 
/**
 * Where this process writes its log.
 */
log: LogDestination, uiBuilt: boolean, };

/**
 * What the customer is told; `{agent}` is the agent's display name (or "An agent").
 */
export type StatusMessages = { queued: string, agentJoined: string, transferred: string, agentLeft: string, ended: string, cancelled: string, };

/**
 * An answer the agent may copy into 8x8.
 */
export type Suggestion = { 
/**
 * The rule's name, or "rule at line N".
 */
title: string, 
/**
 * The reply text to copy.
 */
text: string, 
/**
 * Higher is better; only the order is meaningful.
 */
score: number, 
/**
 * Where it comes from, e.g. "flow rule billing" or "language model gpt-4o-mini".
 */
source: string, 
/**
 * Written by the language model rather than taken from the flow.
 */
modelWritten: boolean, };

/**
 * `POST /api/inspector/synthetic`.
 */
export type SyntheticRequest = { template: string, conversationId: string, 
/**
 * The template as edited; absent = the template as it is.
 */
body?: JsonValue, };

/**
 * `GET /api/inspector/templates`.
 */
export type TemplateList = { templates: Array<EventTemplate>, };

/**
 * A connection test's verdict: `ok`, or the failure's code and plain words.
 */
export type TestOutcome = { ok: boolean, code?: ErrorCode, message: string, };

/**
 * `POST /api/connection/test`.
 */
export type TestRequest = { role: Role, baseUrl: string, tenant?: string | null, 
/**
 * The key as typed in the form; `None` tests the stored one.
 */
apiKey?: string | null, 
/**
 * The sandbox choice as the form has it now; `None` takes the saved one. With no key
 * typed, a role that would be on the sandbox tests the sandbox.
 */
sandbox?: SandboxChoice | null, };

export type UserInput = { quickReply: QuickReplyChoice, } | { text: string, };

/**
 * Something about the settings the admin should know, though nothing is invalid.
 */
export type Warning = { code: WarningCode, message: string, };

export type WarningCode = "signatures_off" | "endpoint_local_only" | "sandbox_setup_failed" | "handover_channel_elsewhere";

export type Webhook = { id: string, name: string, uri: string, version: string | null, };

export type WebhookRegistration = { action: RegistrationAction, webhook: Webhook, verified: boolean, message: string, };

export type WebhookState = { registered: boolean, webhook: Webhook | null, 
/**
 * False when the registered webhook points somewhere else (the Endpoint URL drifted).
 */
upToDate: boolean, endpointUrl: string, };

/**
 * Everything the agent's page shows for one conversation.
 */
export type Workspace = { conversation: WorkspaceConversation, identity: WorkspaceIdentity, transcript: Array<WorkspaceLine>, summary: WorkspaceSummary, 
/**
 * `None` where the sentiment analysis does not apply (a language it does not cover,
 * or no customer message yet); `sentiment_note` says why.
 */
sentiment: WorkspaceSentiment | null, 
/**
 * Why there is no sentiment, in the agent's words; `None` when there is one.
 */
sentimentNote: string | null, 
/**
 * The flow's answers that fit the customer's last message, best first (at most 3).
 */
suggestions: Array<Suggestion>, 
/**
 * Set when a language model wrote part of the page (see [`ModelNote`]).
 */
model: ModelNote | null, generatedAtMs: number, };

export type WorkspaceConversation = { id: string, mode: Mode, phase: Phase, 
/**
 * The customer's channel as the conversation knows it (e.g. "webchat"), else 8x8's
 * channel id.
 */
channel: string | null, 
/**
 * The customer's language as given (e.g. "en-GB").
 */
language: string | null, queueId: string | null, queueName: string | null, agentId: string | null, createdAtMs: number, queuedAtMs: number | null, agentJoinedAtMs: number | null, endedAtMs: number | null, };

export type WorkspaceEntity = { kind: EntityKind, 
/**
 * As written by the customer (phone numbers in E.164 when they parse as one).
 */
value: string, 
/**
 * The transcript line it was found on.
 */
lineAtMs: number, };

/**
 * The customer as 8x8's agent was told about them.
 */
export type WorkspaceIdentity = { name: string | null, email: string | null, phone: string | null, userId: string | null, company: string | null, caseId: string | null, 
/**
 * Exactly the `additionalProperties` sent to 8x8, in order.
 */
properties: Array<KeyValue>, };

/**
 * One line of the transcript as the agent reads it.
 */
export type WorkspaceLine = { lane: Lane, text: string, atMs: number, 
/**
 * Part of the bot history sent to 8x8 with the handover.
 */
history: boolean, };

export type WorkspaceSentiment = { 
/**
 * The language the analysis covers ("en"): the page says so.
 */
language: string, 
/**
 * Each customer message, in order.
 */
messages: Array<SentimentMessage>, trend: SentimentTrend, };

/**
 * What the customer wanted, readable in five seconds. Taken from the transcript only:
 * nothing here is made up.
 */
export type WorkspaceSummary = { 
/**
 * The customer's first substantive message (or the one before the handover), trimmed.
 */
wanted: string | null, 
/**
 * The flow's rules that answered, in order ("billing", "rule at line 12", "fallback",
 * "greeting", "handover").
 */
rulesHit: Array<string>, handoverReason: string | null, 
/**
 * Order numbers, invoices, emails, phone numbers and amounts the customer wrote.
 */
entities: Array<WorkspaceEntity>, 
/**
 * From the first line to the handover (or now, while still with the bot).
 */
botSeconds: number | null, 
/**
 * From queued to the agent joining (or now, while waiting).
 */
queueSeconds: number | null, 
/**
 * Whether a language model wrote a summary too (in [`Workspace::model`]).
 */
modelWritten: boolean, };
