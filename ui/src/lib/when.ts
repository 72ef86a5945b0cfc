// A moment as the Status page shows it: local time, "2026-12-05 14:03:27", the same in
// every locale and unambiguous. Written out rather than with toLocaleString: the Status
// page is the one the window opens on, and the first Intl date format made the page's
// process load ICU's locale and calendar data (≈ 3 MB of its memory at idle) while the
// start was still going (BENCHMARKS.md, "Footprint").

const two = (n: number) => String(n).padStart(2, "0");

/** The local day, "2026-12-05" (also what a date input takes). */
export function localDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${localDate(ms)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
