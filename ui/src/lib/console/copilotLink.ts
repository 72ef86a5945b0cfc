// Which of the chat's contact-panel entries is the Copilot link the 8x8 agent received:
// the one under the configured label, or (the label changed since the handover) one
// whose value is a Copilot page address.

export interface FoundLink {
  label: string;
  url: string;
  /** Found by its address rather than the label now configured. */
  byAddress: boolean;
}

/** The width from which the console shows the page beside the chat rather than in a tab. */
export const BESIDE_MIN_WIDTH = 1200;

const isHttp = (v: string) => /^https?:\/\//i.test(v);

/** A Copilot page's address: its path ends in /copilot/ (behind any proxy prefix). */
function isCopilotPage(v: string): boolean {
  try {
    return isHttp(v) && /\/copilot\/?$/.test(new URL(v).pathname);
  } catch {
    return false;
  }
}

export function findCopilotLink(properties: unknown, label: string | null): FoundLink | null {
  if (!Array.isArray(properties)) return null;
  const entries = properties
    .filter((p): p is { key: unknown; value: unknown } => !!p && typeof p === "object")
    .map((p) => ({ key: String(p.key ?? ""), value: typeof p.value === "string" ? p.value : "" }));
  const byLabel = label ? entries.find((e) => e.key === label && isHttp(e.value)) : undefined;
  if (byLabel) return { label: byLabel.key, url: byLabel.value, byAddress: false };
  const byAddress = entries.find((e) => isCopilotPage(e.value));
  return byAddress ? { label: byAddress.key, url: byAddress.value, byAddress: true } : null;
}
