// The Copilot section's arithmetic: how many of 8x8's 30 additionalProperties the JSON
// properties already take (read from the text as typed, so the count follows every
// keystroke), the knowledge file's size in words an admin reads, and the number checks
// the server cannot see (a half-typed number is lost when the draft becomes JSON).

import type { KeyChange, Settings } from "../api.generated";
import type { FieldErrors } from "../validate";

/** 8x8 shows at most this many entries of user.additionalProperties. */
export const MAX_PROPERTIES = 30;
/** The server's limit on the knowledge text (crates/switchboard-settings/src/copilot.rs). */
export const MAX_KNOWLEDGE_BYTES = 512 * 1024;
export const EXPIRY_MIN = 1;
export const EXPIRY_MAX = 720;

export const CP = "handover.copilot";

/** The number of entries the JSON properties give, or null while they do not parse as an object. */
export function propertyCount(text: string): number | null {
  if (!text.trim()) return 0;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v).length : null;
  } catch {
    return null;
  }
}

/** Bytes of UTF-8, as the server counts the limit. */
export const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

export function sizeWords(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
}

export function validateCopilot(s: Settings, modelKey: KeyChange | undefined): FieldErrors {
  const errors: FieldErrors = {};
  if (modelKey?.action === "replace" && !modelKey.value.trim()) {
    errors["keys.copilotModel"] = "Type the model's API key, or Cancel to leave it as it is.";
  } else if (modelKey?.action === "replace" && /\s/.test(modelKey.value.trim())) {
    errors["keys.copilotModel"] = "An API key has no spaces; check what was pasted.";
  }
  const h = s.handover.copilot?.expiryHours;
  if (h !== undefined && (!Number.isInteger(h) || h < EXPIRY_MIN || h > EXPIRY_MAX)) {
    errors[`${CP}.expiryHours`] = `Type a whole number of hours from ${EXPIRY_MIN} to ${EXPIRY_MAX} (30 days).`;
  }
  return errors;
}
