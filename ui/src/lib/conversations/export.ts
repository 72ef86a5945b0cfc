// Transcript export as JSON and CSV, optionally with e-mail addresses and phone numbers
// masked (for sharing a transcript outside the team). Pure functions: tested through the
// page, and the same output whatever the browser.

import type { Conversation, Entry } from "../types";

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// A phone number: an optional +, then at least 7 digits with common separators.
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;

export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, "");
  if (digits.length < 7) return phone;
  return `${phone.trim().startsWith("+") ? "+" : ""}***${digits.slice(-2)}`;
}

export function maskText(text: string): string {
  return text.replace(EMAIL, maskEmail).replace(PHONE, (m) => (m.replace(/\D/g, "").length >= 7 ? maskPhone(m) : m));
}

/** Masks every string inside a JSON value. */
function maskDeep(v: unknown): unknown {
  if (typeof v === "string") return maskText(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskDeep(x)]));
  return v;
}

export function transcriptJson(c: Conversation, transcript: Entry[], mask: boolean): string {
  const doc = {
    conversation: {
      id: c.id,
      mode: c.mode,
      phase: c.phase,
      gatewayId: c.gatewayId,
      user: c.user,
      queueName: c.queueName,
      agentId: c.agentId,
      createdAt: new Date(c.createdAtMs).toISOString(),
      endedAt: c.endedAtMs ? new Date(c.endedAtMs).toISOString() : null,
    },
    transcript: transcript.map((e) => ({
      at: new Date(e.atMs).toISOString(),
      lane: e.lane,
      direction: e.direction,
      text: e.text,
      ...(e.payload ? { payload: e.payload } : {}),
    })),
  };
  return JSON.stringify(mask ? maskDeep(doc) : doc, null, 2) + "\n";
}

function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function transcriptCsv(c: Conversation, transcript: Entry[], mask: boolean): string {
  const rows = [["time", "lane", "direction", "text"]];
  for (const e of transcript) {
    const text = e.text ?? "";
    rows.push([new Date(e.atMs).toISOString(), e.lane, e.direction, mask ? maskText(text) : text]);
  }
  void c;
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
