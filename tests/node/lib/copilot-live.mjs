// A sandbox conversation handed over with its Copilot link, for the Copilot page's tests
// and benchmark: the link is read where the 8x8 agent gets it, the handover request's
// `user.additionalProperties` (the entry named by the Copilot label).

import { until } from "./browser.mjs";

/**
 * The admin API from Node with the server's own token (no admin page needed): the
 * first argument of every helper below.
 */
export function adminApi(server) {
  return async (method, path, body) => {
    const response = await fetch(`${server.adminOrigin}/api${path}`, {
      method,
      headers: { "content-type": "application/json", origin: server.adminOrigin, ...server.auth },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

export const relayView = async (api, id) => (await api("GET", `/conversations/${id}`)).body;

/** The Copilot link 8x8's agent received for conversation `id`. */
export async function copilotLink(api, id, label = "Copilot") {
  return until(async () => {
    const props = (await relayView(api, id)).conversation.handover?.request?.user?.additionalProperties ?? [];
    return props.find((p) => p.key === label)?.value;
  }, "the Copilot link in the handover request");
}

/**
 * A tester user who writes `messages` to the bot, then asks for a person. Returns the
 * relay's conversation id, the 8x8 conversation id and the Copilot link.
 */
export async function handedOver(api, { name, email = "someone@example.com", language = "en", messages = [] }) {
  const c = (await api("POST", "/tester/conversations", { name, email, language })).body;
  for (const text of messages) await say(api, c.id, text);
  await api("POST", `/tester/conversations/${c.id}/messages`, { quickReply: { title: "Talk to a person", payload: "agent" } });
  const link = await copilotLink(api, c.id);
  const gateway = await until(async () => (await relayView(api, c.id)).conversation.gatewayId, "the 8x8 conversation");
  return { id: c.id, gateway, link };
}

/** The customer says `text` and the bot has answered it. */
export async function say(api, id, text) {
  const before = (await relayView(api, id)).transcript.length;
  await api("POST", `/tester/conversations/${id}/messages`, { text });
  await until(async () => (await relayView(api, id)).transcript.length > before, `"${text}" in the transcript`);
}

/** Queues answered by a person here (no scripted agent), or back to their script. */
export async function answerHere(api, queueId) {
  const r = await api("PUT", `/sandbox/queues/${queueId}/agent`, null);
  if (r.status !== 200) throw new Error(`taking queue ${queueId} over: ${r.status} ${JSON.stringify(r.body)}`);
}

export const agent = (api, gateway, action, body = {}) =>
  api("POST", `/sandbox/conversations/${gateway}/agent/${action}`, body);

/** Agent `agentId` accepts the conversation's offer as soon as 8x8 (the sandbox) makes it. */
export async function accept(api, gateway, agentId) {
  await until(async () => (await agent(api, gateway, "accept", { agentId })).status === 200, "the offer to accept");
}
