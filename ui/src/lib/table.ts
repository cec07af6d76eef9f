// Sorting and filtering of the backups table. Pure functions over `BackupEntry`.

import type { BackupEntry } from "../bindings";

export type SortKey =
  | "name"
  | "createdAt"
  | "size"
  | "format"
  | "compression"
  | "checksum"
  | "expiresAt"
  | "createdBy";

export type SortDir = "asc" | "desc";

export interface SortState {
  key: SortKey;
  dir: SortDir;
}

/** The table starts newest first, as the engine lists. */
export const DEFAULT_SORT: SortState = { key: "createdAt", dir: "desc" };

export type ChecksumState = "recorded" | "legacy" | "not-recorded";

/** `recorded` when the backup carries a sha256 (verified on download and restore); `legacy`
 *  for a blob in one of our stores written without our metadata; `not-recorded` where the
 *  server keeps no checksum at all (the RYTHM platform), which is no fault of the backup. */
export function checksumState(entry: BackupEntry): ChecksumState {
  if (entry.sha256) return "recorded";
  return entry.legacy ? "legacy" : "not-recorded";
}

/** Clicking a column: the same column flips direction; a new one starts in its natural order. */
export function nextSort(current: SortState, key: SortKey): SortState {
  if (current.key === key) return { key, dir: current.dir === "asc" ? "desc" : "asc" };
  // Times and sizes are most useful biggest/newest first.
  const descFirst: SortKey[] = ["createdAt", "size", "expiresAt"];
  return { key, dir: descFirst.includes(key) ? "desc" : "asc" };
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

function compareBy(key: SortKey, a: BackupEntry, b: BackupEntry): number {
  switch (key) {
    case "name":
      return collator.compare(a.name, b.name);
    case "createdAt":
      return Date.parse(a.createdAt) - Date.parse(b.createdAt);
    case "size":
      return a.size - b.size;
    case "format":
      // The Format column shows the compression under the format: it breaks ties.
      return collator.compare(a.format, b.format) || collator.compare(a.compression, b.compression);
    case "compression":
      return collator.compare(a.compression, b.compression);
    case "checksum":
      return collator.compare(checksumState(a), checksumState(b));
    case "expiresAt":
      return Date.parse(a.expiresAt) - Date.parse(b.expiresAt);
    case "createdBy":
      // Unknown authors sort last in ascending order.
      if (a.createdBy === b.createdBy) return 0;
      if (a.createdBy === null) return 1;
      if (b.createdBy === null) return -1;
      return collator.compare(a.createdBy, b.createdBy);
  }
}

/** A sorted copy; ties fall back to newest first, then name, so the order is stable. */
export function sortEntries(entries: readonly BackupEntry[], sort: SortState): BackupEntry[] {
  const sign = sort.dir === "asc" ? 1 : -1;
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((x, y) => {
      const primary = compareBy(sort.key, x.entry, y.entry) * sign;
      if (primary !== 0) return primary;
      const newer = Date.parse(y.entry.createdAt) - Date.parse(x.entry.createdAt);
      if (newer !== 0) return newer;
      const byName = collator.compare(x.entry.name, y.entry.name);
      return byName !== 0 ? byName : x.index - y.index;
    })
    .map((x) => x.entry);
}

/** The text a filter matches against. */
function haystack(entry: BackupEntry): string {
  return [
    entry.name,
    entry.format,
    entry.compression,
    entry.type,
    entry.createdBy ?? "",
    entry.database ?? "",
    entry.legacy ? "legacy" : "",
    entry.status ?? "",
    entry.sha256 ?? "",
  ]
    .join(" ")
    .toLowerCase();
}

/** Entries matching every whitespace-separated word of `text`, case-insensitively. */
export function filterEntries(entries: readonly BackupEntry[], text: string): BackupEntry[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...entries];
  return entries.filter((entry) => {
    const hay = haystack(entry);
    return words.every((w) => hay.includes(w));
  });
}

/** Filter then sort: what the table shows. */
export function visibleEntries(
  entries: readonly BackupEntry[],
  filter: string,
  sort: SortState,
): BackupEntry[] {
  return sortEntries(filterEntries(entries, filter), sort);
}

/** Total bytes of the given entries. */
export function totalSize(entries: readonly BackupEntry[]): number {
  return entries.reduce((sum, e) => sum + e.size, 0);
}
