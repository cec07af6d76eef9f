import { describe, expect, it } from "vitest";
import type { BackupEntry, Freshness, Verification } from "../bindings";
import { healthStrip, verifiedCell } from "./health";

const NOW = new Date("2026-11-25T12:00:00Z");

function entry(name: string, createdAt: string, o: Partial<BackupEntry> = {}): BackupEntry {
  return {
    name,
    size: 1,
    createdAt,
    format: "plain",
    compression: "zstd",
    sha256: null,
    rawSize: null,
    database: "rythm",
    serverVersion: null,
    pgDumpVersion: null,
    createdBy: null,
    toolVersion: null,
    durationMs: null,
    type: "scheduled",
    legacy: false,
    ageSeconds: 0,
    expiresAt: createdAt,
    rowCounts: null,
    verification: null,
    status: null,
    ...o,
  };
}

function verification(at: string, ok: boolean, o: Partial<Verification> = {}): Verification {
  return { at, ok, restoreSeconds: 12.4, tables: 3, rows: 100, mismatches: [], compared: true, ...o };
}

function freshness(o: Partial<Freshness> = {}): Freshness {
  return {
    lastBackup: null,
    lastSuccessAt: null,
    ageSeconds: null,
    lastVerification: null,
    lastSuccessfulVerification: null,
    stale: true,
    staleAfterHours: 26,
    ...o,
  };
}

function lastBackup(name: string, at: string, stale: boolean): Partial<Freshness> {
  return { lastBackup: name, lastSuccessAt: at, ageSeconds: Math.round((NOW.getTime() - Date.parse(at)) / 1000), stale };
}

describe("healthStrip", () => {
  it("says nothing was backed up yet", () => {
    const s = healthStrip(freshness(), null, NOW);
    expect(s.stale).toBe(true);
    expect(s.headline).toBe("No backup has been made yet.");
    expect(s.items.map((i) => i.text)).toEqual(["none yet", "no backup has been verified yet", "none scheduled"]);
  });

  it("words the engine's stale verdict with its threshold", () => {
    const s = healthStrip(freshness(lastBackup("a.sql", "2026-11-24T09:00:00Z", true)), "2026-11-26T02:00:00Z", NOW);
    expect(s.stale).toBe(true);
    expect(s.tone).toBe("danger");
    expect(s.headline).toMatch(/^Backups are stale: the last successful one is yesterday, more than 26 hours old/);
    const server = healthStrip(freshness({ ...lastBackup("a.sql", "2026-11-23T09:00:00Z", true), staleAfterHours: 48 }), null, NOW);
    expect(server.headline).toContain("more than 48 hours old");
  });

  it("never recomputes staleness: a 27-hour-old backup the engine calls fresh is fresh", () => {
    const s = healthStrip(freshness({ ...lastBackup("a.sql", "2026-11-24T09:00:00Z", false), staleAfterHours: 30 }), null, NOW);
    expect(s.stale).toBe(false);
    expect(s.headline).toBe("Backups are current, but none has been proven restorable yet: verify one.");
    expect(s.items[0]!.tone).toBe("ok");
  });

  it("reports the last verification, failed or passed", () => {
    const passed = { backup: "a.sql", verification: verification("2026-11-25T03:00:00Z", true) };
    const s = healthStrip(freshness({ ...lastBackup("a.sql", "2026-11-25T02:00:00Z", false), lastVerification: passed, lastSuccessfulVerification: passed }), null, NOW);
    expect(s.headline).toBe("Backups are current and the last verification passed.");
    expect(s.items[1]!.text).toBe("passed 9 hours ago, a restore takes 12 s");
    const failed = {
      backup: "b.sql",
      verification: verification("2026-11-25T05:00:00Z", false, {
        mismatches: [{ schema: "public", table: "orders", recorded: 20, restored: 19 }],
      }),
    };
    const f = healthStrip(freshness({ ...lastBackup("b.sql", "2026-11-25T04:00:00Z", false), lastVerification: failed, lastSuccessfulVerification: passed }), null, NOW);
    expect(f.tone).toBe("danger");
    expect(f.headline).toBe("The last verification failed: b.sql may not restore.");
    expect(f.items[1]!.text).toBe("FAILED 7 hours ago: public.orders recorded 20 rows, restored 19 rows");
  });
});

describe("verifiedCell", () => {
  it("shows never, verified with time and duration, or failed with the reason", () => {
    expect(verifiedCell(entry("a.sql", "2026-11-25T02:00:00Z"), NOW).text).toBe("Never");
    const ok = verifiedCell(entry("a.sql", "2026-11-25T02:00:00Z", { verification: verification("2026-11-25T11:00:00Z", true) }), NOW);
    expect([ok.text, ok.detail, ok.tone]).toEqual(["Verified", "1 hour ago · restore 12 s", "ok"]);
    const bad = verifiedCell(
      entry("a.sql", "2026-11-25T02:00:00Z", { verification: verification("2026-11-25T11:00:00Z", false, { error: "restore failed: duplicate key" }) }),
      NOW,
    );
    expect([bad.text, bad.detail, bad.tone]).toEqual(["Failed", "restore failed: duplicate key", "danger"]);
  });
});
