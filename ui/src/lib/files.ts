// Files the UI hands to the user: CSV text, and saving a file through a temporary link
// (the one way a page can offer a download it made itself).

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function toCsv(rows: (string | number)[][]): string {
  const field = (v: string | number) => {
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return rows.map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

export function saveFile(name: string, contents: Blob) {
  const url = URL.createObjectURL(contents);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has started reading the file by now; a large one gets time to finish.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
