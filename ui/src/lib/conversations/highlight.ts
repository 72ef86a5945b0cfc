// The words of a search in a transcript line, found as the relay finds them (folded for
// case and accents, each word typed starting a word of the line; see
// crates/switchboard-store/src/transcript_search.rs), and the line cut into pieces to
// show with those words marked.

import { fold } from "./store.svelte";

export interface Piece {
  text: string;
  mark: boolean;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** The line folded, with where each folded character came from in the line. */
function folded(text: string): { folded: string; from: number[]; to: number[] } {
  let out = "";
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of text) {
    const f = fold(ch);
    for (let k = 0; k < f.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += f;
    i += ch.length;
  }
  return { folded: out, from, to };
}

/** The words typed, folded, each trimmed of what is not a letter or digit at its ends. */
function words(search: string): string[] {
  return fold(search)
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""))
    .filter((w) => w.length > 0);
}

/** Where `word` starts a word of `hay` (folded offsets), first to last; `whole`: and ends it. */
function starts(hay: string, word: string, whole = false): number[] {
  const found: number[] = [];
  for (let at = hay.indexOf(word); at >= 0; at = hay.indexOf(word, at + 1)) {
    const end = at + word.length;
    if ((at === 0 || !WORD_CHAR.test(hay[at - 1]!)) && (!whole || end === hay.length || !WORD_CHAR.test(hay[end]!))) found.push(at);
  }
  return found;
}

/** The parts of a word the line's tokenizer sees ("inv-991": "inv", "991"). */
function parts(word: string): string[] {
  return word.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * The relay's test for a line: every word of `search` is a word of `text`, the last one
 * (perhaps still being typed) the start of one.
 */
export function lineMatches(text: string, search: string): boolean {
  const hay = folded(text).folded;
  const ws = words(search);
  return ws.length > 0 && ws.every((w, i) => parts(w).every((p) => starts(hay, p, i < ws.length - 1).length > 0));
}

/**
 * `text` in pieces with the searched words marked. A line longer than the row starts a
 * little before its first mark ("…" in front), so the mark is in view.
 */
export function highlight(text: string, search: string, lead = 24): Piece[] {
  const { folded: hay, from, to } = folded(text);
  const ranges: [number, number][] = [];
  for (const w of words(search)) {
    const whole = starts(hay, w).map((at): [number, number] => [at, at + w.length]);
    // Typed as one word, written apart ("INV-991" and "INV 991"): mark the parts.
    const found = whole.length > 0 ? whole : parts(w).flatMap((p) => starts(hay, p).map((at): [number, number] => [at, at + p.length]));
    for (const [a, b] of found) ranges.push([from[a]!, to[b - 1]!]);
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([...r]);
  }
  let begin = 0;
  let prefix = "";
  const firstMark = merged[0]?.[0] ?? 0;
  if (firstMark > lead) {
    // Back to the start of a word some way before the mark.
    const space = text.lastIndexOf(" ", firstMark - Math.floor(lead / 2));
    if (space > 0) {
      begin = space + 1;
      prefix = "…";
    }
  }
  const pieces: Piece[] = [];
  let at = begin;
  for (const [a, b] of merged) {
    if (a > at) pieces.push({ text: (pieces.length === 0 ? prefix : "") + text.slice(at, a), mark: false });
    else if (pieces.length === 0 && prefix) pieces.push({ text: prefix, mark: false });
    pieces.push({ text: text.slice(a, b), mark: true });
    at = b;
  }
  if (at < text.length || pieces.length === 0) pieces.push({ text: (pieces.length === 0 ? prefix : "") + text.slice(at), mark: false });
  return pieces;
}
