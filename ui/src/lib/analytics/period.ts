// The analytics page's periods, as [from, to) in milliseconds, in the browser's time zone.

import { localDate } from "../when";

export type PeriodChoice = "today" | "7d" | "30d" | "custom";

const DAY_MS = 86_400_000;

function midnight(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** `from`/`to` of a custom period are dates (yyyy-mm-dd), both days included. */
export function periodRange(choice: PeriodChoice, now: Date, from: string, to: string): { fromMs: number; toMs: number } | string {
  switch (choice) {
    case "today":
      return { fromMs: midnight(now), toMs: now.getTime() + 1 };
    case "7d":
      return { fromMs: midnight(now) - 6 * DAY_MS, toMs: now.getTime() + 1 };
    case "30d":
      return { fromMs: midnight(now) - 29 * DAY_MS, toMs: now.getTime() + 1 };
    case "custom": {
      if (!from || !to) return "Choose both the first and the last day of the period.";
      const f = new Date(`${from}T00:00`);
      const t = new Date(`${to}T00:00`);
      if (Number.isNaN(f.getTime()) || Number.isNaN(t.getTime())) return "Those are not dates.";
      if (t < f) return "The last day is before the first: swap them.";
      // The day after the last one, at midnight (a date, so daylight saving cannot shift it).
      const end = new Date(t.getFullYear(), t.getMonth(), t.getDate() + 1).getTime();
      return { fromMs: f.getTime(), toMs: end };
    }
  }
}

/** A date input's value for the local day of `ms`. */
export const dateInput = localDate;

/** "1 m 5 s", "42 s", "—" for none. */
export function duration(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? "—" : `${Math.round((part / whole) * 1000) / 10} %`;
}
