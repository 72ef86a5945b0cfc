// Transcript export as JSON and CSV, optionally with e-mail addresses and phone numbers
// masked (for sharing a transcript outside the team). Pure functions: tested through the
// page, and the same output whatever the browser.
//
// Masking touches only what a person wrote or gave (the user's details, the lines' text
// and payloads), never the document's structure: ids, lanes and timestamps stay as they
// are, so a masked export is the same data, still parseable. Phone numbers are found by
// libphonenumber-js (Google's libphonenumber rules with its small "min" metadata) rather
// than a digit pattern, which also took dates and order numbers for phone numbers. This
// module is loaded on the first export only (139 kB, 37 kB gzipped), not with the page.

import { findPhoneNumbersInText, type CountryCode } from "libphonenumber-js/min";
import { saveFile, toCsv } from "../files";
import type { Conversation, Entry, JsonValue } from "../types";

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** The reader's country from the browser's language ("en-GB" → GB), so national
 * numbers ("020 7946 0958") are found too; without one only "+…" numbers are. */
function defaultCountry(): CountryCode | undefined {
  const region = (navigator.languages?.[0] ?? navigator.language ?? "").split(/[-_]/)[1];
  return region && /^[A-Z]{2}$/i.test(region) ? (region.toUpperCase() as CountryCode) : undefined;
}

export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** Keeps the last two digits (and a leading +) so lines can still be told apart. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  return `${phone.trim().startsWith("+") ? "+" : ""}***${digits.slice(-2)}`;
}

function maskPhones(text: string): string {
  let found;
  try {
    found = findPhoneNumbersInText(text, { defaultCountry: defaultCountry() });
  } catch {
    return text;
  }
  let out = "";
  let from = 0;
  for (const f of found) {
    out += text.slice(from, f.startsAt) + maskPhone(text.slice(f.startsAt, f.endsAt));
    from = f.endsAt;
  }
  return out + text.slice(from);
}

export function maskText(text: string): string {
  return maskPhones(text.replace(EMAIL, maskEmail));
}

/** Masks the strings inside a value a person gave (a payload, the user's details). */
function maskDeep(v: JsonValue): JsonValue {
  if (typeof v === "string") return maskText(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = maskDeep(x);
    return out;
  }
  return v;
}

function maskUser(user: Conversation["user"]): Conversation["user"] {
  if (!user) return user;
  const masked = maskDeep(user as unknown as JsonValue) as unknown as NonNullable<Conversation["user"]>;
  // These fields are an address and a number whatever their form: masked whole.
  if (user.email) masked.email = user.email.includes("@") ? maskEmail(user.email) : "***";
  if (user.phone) masked.phone = maskPhone(user.phone);
  return masked;
}

export function transcriptJson(c: Conversation, transcript: Entry[], mask: boolean): string {
  const text = (s: string) => (mask ? maskText(s) : s);
  const doc = {
    conversation: {
      id: c.id,
      mode: c.mode,
      phase: c.phase,
      gatewayId: c.gatewayId,
      user: mask ? maskUser(c.user) : c.user,
      queueName: c.queueName,
      agentId: c.agentId,
      createdAt: new Date(c.createdAtMs).toISOString(),
      endedAt: c.endedAtMs ? new Date(c.endedAtMs).toISOString() : null,
    },
    transcript: transcript.map((e) => ({
      at: new Date(e.atMs).toISOString(),
      lane: e.lane,
      direction: e.direction,
      text: text(e.text ?? ""),
      ...(e.payload ? { payload: mask ? maskDeep(e.payload) : e.payload } : {}),
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

export function transcriptCsv(transcript: Entry[], mask: boolean): string {
  const rows = [["time", "lane", "direction", "text"]];
  for (const e of transcript) {
    const text = e.text ?? "";
    rows.push([new Date(e.atMs).toISOString(), e.lane, e.direction, mask ? maskText(text) : text]);
  }
  return toCsv(rows);
}

export function download(name: string, type: string, text: string) {
  saveFile(name, new Blob([text], { type }));
}
