import { describe, expect, it } from "vitest";

import type { BackupEntry } from "../bindings";
import { checksumState, DEFAULT_SORT, filterEntries, nextSort, sortEntries, totalSize, visibleEntries } from "./table";

function entry(name: string, createdAt: string, o: Partial<BackupEntry> = {}): BackupEntry {
  return {
    name,
    size: 100,
    createdAt,
    format: "plain",
    compression: "zstd",
    sha256: "ab".repeat(32),
    rawSize: 600,
    database: "rythm",
    serverVersion: "16.4",
    pgDumpVersion: "16.4",
    createdBy: "scheduler",
    toolVersion: "0.1.0",
    durationMs: 1000,
    type: "scheduled",
    status: null,
    legacy: false,
    ageSeconds: 0,
    expiresAt: createdAt,
    rowCounts: null,
    verification: null,
    ...o,
  };
}

const a = entry("rythm-backup-2026-01-10T02-00-00-000Z.sql.zst", "2026-01-10T02:00:00Z", { size: 300, expiresAt: "2026-01-20T02:00:00Z" });
const b = entry("rythm-backup-2026-01-12T02-00-00-000Z.sql.zst", "2026-01-12T02:00:00Z", { size: 100, createdBy: "anna@rythm.app", type: "manual", expiresAt: "2026-01-22T02:00:00Z" });
const c = entry("rythm-backup-2026-01-11T09-00-00-000Z.sql", "2026-01-11T09:00:00Z", {
  size: 200,
  format: "plain",
  compression: "none",
  sha256: null,
  legacy: true,
  createdBy: null,
  database: null,
  expiresAt: "2026-01-21T09:00:00Z",
});
const d = entry("rythm-backup-2026-01-09T02-00-00-000Z.dump.zst", "2026-01-09T02:00:00Z", { format: "custom", size: 200, expiresAt: "2026-01-19T02:00:00Z" });
const all = [a, b, c, d];
const names = (list: BackupEntry[]): string[] => list.map((e) => e.name.slice(13, 23));

describe("sorting", () => {
  it("starts newest first", () => {
    expect(names(sortEntries(all, DEFAULT_SORT))).toEqual(["2026-01-12", "2026-01-11", "2026-01-10", "2026-01-09"]);
  });
  it("sorts by size both ways, ties newest first", () => {
    expect(names(sortEntries(all, { key: "size", dir: "asc" }))).toEqual(["2026-01-12", "2026-01-11", "2026-01-09", "2026-01-10"]);
    expect(names(sortEntries(all, { key: "size", dir: "desc" }))).toEqual(["2026-01-10", "2026-01-11", "2026-01-09", "2026-01-12"]);
  });
  it("sorts by name naturally", () => {
    expect(names(sortEntries(all, { key: "name", dir: "asc" }))).toEqual(["2026-01-09", "2026-01-10", "2026-01-11", "2026-01-12"]);
  });
  it("sorts by format, then compression", () => {
    const sorted = sortEntries(all, { key: "format", dir: "asc" });
    expect(sorted.map((e) => `${e.format}/${e.compression}`)).toEqual(["custom/zstd", "plain/none", "plain/zstd", "plain/zstd"]);
  });
  it("sorts by compression and by checksum state", () => {
    expect(sortEntries(all, { key: "compression", dir: "asc" })[0]).toBe(c);
    expect(sortEntries(all, { key: "checksum", dir: "asc" })[0]).toBe(c);
    expect(sortEntries(all, { key: "checksum", dir: "desc" }).at(-1)).toBe(c);
  });
  it("sorts by expiry", () => {
    expect(names(sortEntries(all, { key: "expiresAt", dir: "asc" }))).toEqual(["2026-01-09", "2026-01-10", "2026-01-11", "2026-01-12"]);
  });
  it("puts unknown authors last when ascending", () => {
    const sorted = sortEntries(all, { key: "createdBy", dir: "asc" });
    expect(sorted[0]?.createdBy).toBe("anna@rythm.app");
    expect(sorted.at(-1)?.createdBy).toBeNull();
  });
  it("does not change the input", () => {
    const copy = [...all];
    sortEntries(all, { key: "size", dir: "asc" });
    expect(all).toEqual(copy);
  });
  it("flips the direction on the same column and picks a natural one on a new column", () => {
    expect(nextSort(DEFAULT_SORT, "createdAt")).toEqual({ key: "createdAt", dir: "asc" });
    expect(nextSort(DEFAULT_SORT, "name")).toEqual({ key: "name", dir: "asc" });
    expect(nextSort(DEFAULT_SORT, "size")).toEqual({ key: "size", dir: "desc" });
    expect(nextSort({ key: "name", dir: "asc" }, "name")).toEqual({ key: "name", dir: "desc" });
  });
});

describe("filtering", () => {
  it("matches every word, case-insensitively, across fields", () => {
    expect(filterEntries(all, "ANNA")).toEqual([b]);
    expect(filterEntries(all, "legacy")).toEqual([c]);
    expect(filterEntries(all, "custom")).toEqual([d]);
    expect(filterEntries(all, "2026-01-1 manual")).toEqual([b]);
    expect(filterEntries(all, "zstd scheduler").length).toBe(2);
  });
  it("keeps everything for blank text and nothing for no match", () => {
    expect(filterEntries(all, "   ")).toHaveLength(4);
    expect(filterEntries(all, "nothing-like-this")).toEqual([]);
  });
  it("filters then sorts for the table", () => {
    expect(names(visibleEntries(all, "zstd", { key: "size", dir: "asc" }))).toEqual(["2026-01-12", "2026-01-09", "2026-01-10"]);
  });
});

describe("checksum state and totals", () => {
  it("tells recorded from legacy and from a server that records none", () => {
    expect(checksumState(a)).toBe("recorded");
    expect(checksumState(c)).toBe("legacy");
    // The RYTHM platform's own backups: no checksum, but no fault either.
    expect(checksumState({ ...c, legacy: false, status: "completed" })).toBe("not-recorded");
  });
  it("adds sizes", () => {
    expect(totalSize(all)).toBe(800);
  });
});
