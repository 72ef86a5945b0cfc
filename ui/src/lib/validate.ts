// Checks the forms run while the admin types, so a bad value is named beside its field
// before Save. They mirror the core's rules (settings.rs); the server still decides, and
// its 422 field messages replace these when the two disagree.

import type { KeyChange, Role, Settings } from "./types";
import { validateContactCenter } from "./form/contactCenter";
import { validateCopilot } from "./form/copilot";

export type FieldErrors = Record<string, string>;

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

export function checkBaseUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return "The Base URL is not a valid URL; use for example https://api.8x8.com.";
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") {
    return LOOPBACK.test(url.hostname)
      ? null
      : "The Base URL must use https (plain http is allowed only for localhost, where the sandbox runs).";
  }
  return `The Base URL must start with https://, not ${url.protocol}//.`;
}

export function checkPublicBaseUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return "The public base URL is not a valid URL; use the https address of your tunnel or reverse proxy.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "The public base URL must start with https://.";
  if (url.search || url.hash) return "The public base URL must not contain a query (?…) or fragment (#…).";
  return null;
}

const hasSpace = (s: string) => /\s/.test(s);

function checkTenant(tenant: string | null): string | null {
  return tenant && hasSpace(tenant.trim())
    ? "The 8x8-Tenant has no spaces; leave it empty if your organisation has one tenant."
    : null;
}

function checkId(id: string | null): string | null {
  return id && hasSpace(id.trim()) ? "An 8x8 id has no spaces; pick one from the list or leave it empty." : null;
}

/** `keysSet` says which roles have a key saved, so a message never offers to keep a key there is none of. */
export function validateSettings(
  s: Settings,
  keys: Partial<Record<Role | "copilotModel", KeyChange>>,
  keysSet: Partial<Record<Role, boolean>> = {},
): FieldErrors {
  const errors: FieldErrors = {};
  const put = (field: string, message: string | null) => {
    if (message) errors[field] = message;
  };
  put("connection.baseUrl", checkBaseUrl(s.connection.baseUrl));
  put("connection.tenant", checkTenant(s.connection.tenant));
  if (s.endpoint.publicBaseUrl?.trim()) put("endpoint.publicBaseUrl", checkPublicBaseUrl(s.endpoint.publicBaseUrl));
  if (!s.handover.useEndpointConnection) {
    put("handover.connection.baseUrl", checkBaseUrl(s.handover.connection.baseUrl));
    put("handover.connection.tenant", checkTenant(s.handover.connection.tenant));
  }
  put("handover.channelId", checkId(s.handover.channelId));
  put("handover.queueId", checkId(s.handover.queueId));
  if (!s.handover.handoverMessage.trim()) {
    put("handover.handoverMessage", 'Say something to the user while they wait, e.g. "Connecting you to an agent."');
  }
  const minutes = s.handover.inactivityTimeoutMinutes;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    put("handover.inactivityTimeoutMinutes", "The inactivity timeout must be a whole number between 1 and 1440 minutes (24 hours).");
  }
  Object.assign(errors, validateContactCenter(s.handover.contactCenter));
  Object.assign(errors, validateCopilot(s, keys.copilotModel));
  for (const role of ["endpoint", "handover"] as const) {
    const action = keys[role];
    if (action?.action !== "replace") continue;
    if (!action.value.trim()) {
      put(
        `keys.${role}`,
        keysSet[role]
          ? "Type the new API key, or Cancel to keep the saved one."
          : "Type the new API key, or Cancel to leave none set.",
      );
    }
    else if (hasSpace(action.value.trim())) put(`keys.${role}`, "An API key has no spaces; check what was pasted.");
  }
  return errors;
}
