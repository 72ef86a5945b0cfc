// When a conversation was last active, as the list shows it: relative while recent
// ("just now", "2 min ago"), then a time of day, "yesterday 14:05", a weekday, a date.
// Computed from a clock the page ticks itself, so rows age without asking the relay.
// In the reader's locale (hours as they write them, month and weekday names).

const MINUTE = 60_000;

function hhmm(d: Date): string {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Calendar days from `at` to `now` (0: the same day), by the local calendar. */
function daysBetween(at: number, now: number): number {
  return Math.round((startOfDay(now) - startOfDay(at)) / (24 * 60 * MINUTE));
}

/** The short form shown in the row. */
export function relativeTime(at: number, now: number): string {
  const ago = now - at;
  // A clock a little behind the relay's reads as now, not as the future.
  if (ago < MINUTE) return "just now";
  if (ago < 60 * MINUTE) return `${Math.floor(ago / MINUTE)} min ago`;
  const d = new Date(at);
  const days = daysBetween(at, now);
  if (days <= 0) return hhmm(d);
  if (days === 1) return `yesterday ${hhmm(d)}`;
  if (days < 7) return `${d.toLocaleDateString(undefined, { weekday: "short" })} ${hhmm(d)}`;
  if (new Date(now).getFullYear() === d.getFullYear()) return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  return d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

/** The full date and time, for the hover. */
export function fullTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: "full", timeStyle: "medium" });
}
