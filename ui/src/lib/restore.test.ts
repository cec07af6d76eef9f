import { describe, expect, it } from "vitest";

import type { ProfileMode, RestoreFeatures } from "../bindings";
import {
  ALL_FEATURES,
  canContinue,
  canRestore,
  confirmationMatches,
  DEFAULT_CHOICES,
  effectiveDatabase,
  expectedConfirmation,
  newDatabaseProblem,
  offeredOptions,
  restoreOptions,
  summaryOfLocal,
  takesSafetyBackup,
  targetFor,
} from "./restore";

const direct: { mode: ProfileMode } = {
  mode: { type: "direct", database: { host: "db.internal", port: 5432, database: "rythm", user: "backup" }, storage: { type: "azure", container: "database-backups", sharedWithPlatform: false } },
};
const apiMode: { mode: ProfileMode } = { mode: { type: "api", baseUrl: "https://api.rythm.app", email: "ops@rythm.app" } };
const NAME = "rythm-backup-2026-01-15T10-30-00-851Z.sql.zst";

describe("the target", () => {
  it("names the profile's database and server in direct mode", () => {
    const t = targetFor(direct, "backup", NAME, "2026-01-15T10:30:00Z", null);
    expect(t).toMatchObject({ database: "rythm", server: "db.internal:5432", direct: true, kind: "backup" });
  });
  it("uses the backup's database in API mode, or none when unknown", () => {
    expect(targetFor(apiMode, "backup", NAME, null, "rythm")).toMatchObject({ database: "rythm", server: "https://api.rythm.app", direct: false });
    expect(targetFor(apiMode, "backup", NAME, null, null).database).toBeNull();
  });
  it("keeps a local file's path", () => {
    expect(targetFor(direct, "local", NAME, null, null, "/tmp/x.sql").path).toBe("/tmp/x.sql");
  });
});

describe("step 2: the typed confirmation", () => {
  const t = targetFor(direct, "backup", NAME, null, null);
  it("is disabled until the exact database name is typed", () => {
    expect(canRestore(t, DEFAULT_CHOICES, "", false)).toBe(false);
    expect(canRestore(t, DEFAULT_CHOICES, "ryth", false)).toBe(false);
    expect(canRestore(t, DEFAULT_CHOICES, "RYTHM", false)).toBe(false);
    expect(canRestore(t, DEFAULT_CHOICES, "rythm2", false)).toBe(false);
    expect(canRestore(t, DEFAULT_CHOICES, "rythm", false)).toBe(true);
  });
  it("forgives surrounding whitespace only", () => {
    expect(confirmationMatches("  rythm ", "rythm")).toBe(true);
    expect(confirmationMatches("ry thm", "rythm")).toBe(false);
  });
  it("stays disabled while a job runs", () => {
    expect(canRestore(t, DEFAULT_CHOICES, "rythm", true)).toBe(false);
  });
  it("asks for the backup's name when the database is unknown (API mode) and says so", () => {
    const unknown = targetFor(apiMode, "backup", NAME, null, null);
    expect(expectedConfirmation(unknown, DEFAULT_CHOICES)).toEqual({ text: NAME, kind: "backup" });
    expect(canRestore(unknown, DEFAULT_CHOICES, "", false)).toBe(false);
    expect(canRestore(unknown, DEFAULT_CHOICES, "whatever", false)).toBe(false);
    expect(canRestore(unknown, DEFAULT_CHOICES, ` ${NAME} `, false)).toBe(true);
    expect(restoreOptions(unknown, DEFAULT_CHOICES, NAME)).toEqual({
      confirm: NAME,
      skipSafetyBackup: false,
      terminateConnections: false,
    });
    const known = targetFor(apiMode, "backup", NAME, null, "rythm");
    expect(expectedConfirmation(known, DEFAULT_CHOICES)).toEqual({ text: "rythm", kind: "database" });
    expect(canRestore(known, DEFAULT_CHOICES, "whatever", false)).toBe(false);
    expect(canRestore(known, DEFAULT_CHOICES, NAME, false)).toBe(false);
  });
});

describe("restoring into a new database (direct mode)", () => {
  const t = targetFor(direct, "backup", NAME, null, null);
  const intoNew = { ...DEFAULT_CHOICES, intoNew: true, newDatabase: "rythm_restored" };
  it("needs a valid, different name before Continue", () => {
    expect(canContinue(t, { ...intoNew, newDatabase: "" })).toBe(false);
    expect(canContinue(t, { ...intoNew, newDatabase: "9bad" })).toBe(false);
    expect(canContinue(t, { ...intoNew, newDatabase: "rythm" })).toBe(false);
    expect(canContinue(t, intoNew)).toBe(true);
    expect(newDatabaseProblem("rythm", "rythm")).toMatch(/current database/);
    expect(newDatabaseProblem("a".repeat(64), null)).toMatch(/63/);
  });
  it("confirms with the new name, not the profile's", () => {
    expect(effectiveDatabase(t, intoNew)).toBe("rythm_restored");
    expect(canRestore(t, intoNew, "rythm", false)).toBe(false);
    expect(canRestore(t, intoNew, "rythm_restored", false)).toBe(true);
  });
  it("asks the shell to create it and takes no safety backup", () => {
    expect(restoreOptions(t, intoNew, " rythm_restored ")).toEqual({
      confirm: "rythm_restored",
      skipSafetyBackup: false,
      terminateConnections: false,
      targetDatabase: "rythm_restored",
      create: true,
    });
    expect(takesSafetyBackup(t, intoNew)).toBe(false);
  });
  it("is ignored in API mode", () => {
    const api = targetFor(apiMode, "backup", NAME, null, "rythm");
    expect(effectiveDatabase(api, intoNew)).toBe("rythm");
    expect(restoreOptions(api, intoNew, "rythm")).toEqual({ confirm: "rythm", skipSafetyBackup: false, terminateConnections: false });
  });
});

describe("options", () => {
  const t = targetFor(direct, "backup", NAME, null, null);
  it("carries terminate and skip-safety choices", () => {
    expect(restoreOptions(t, { ...DEFAULT_CHOICES, terminateConnections: true, skipSafetyBackup: true }, "rythm")).toEqual({
      confirm: "rythm",
      skipSafetyBackup: true,
      terminateConnections: true,
    });
    expect(takesSafetyBackup(t, DEFAULT_CHOICES)).toBe(true);
    expect(takesSafetyBackup(t, { ...DEFAULT_CHOICES, skipSafetyBackup: true })).toBe(false);
  });
  it("offers and sends only what the server does", () => {
    const none: RestoreFeatures = { safetyBackup: false, skipSafetyBackup: false, terminateConnections: false, checksConfirmation: false, reportsRole: false, partialRestore: false, contents: false };
    const platform = { ...targetFor(apiMode, "backup", NAME, null, null), features: none };
    expect(targetFor(apiMode, "backup", NAME, null, null).features).toBeNull();
    expect(t.features).toEqual(ALL_FEATURES);
    expect(offeredOptions(platform)).toEqual({ skipSafetyBackup: false, terminateConnections: false });
    expect(offeredOptions(t)).toEqual({ skipSafetyBackup: true, terminateConnections: true });
    expect(takesSafetyBackup(platform, DEFAULT_CHOICES)).toBe(false);
    const asked = { ...DEFAULT_CHOICES, terminateConnections: true, skipSafetyBackup: true };
    expect(restoreOptions(platform, asked, NAME)).toEqual({ confirm: NAME, skipSafetyBackup: false, terminateConnections: false });
    // A server with a safety backup that cannot skip it: no skip is offered.
    const noSkip = { ...platform, features: { ...none, safetyBackup: true, terminateConnections: true } };
    expect(offeredOptions(noSkip)).toEqual({ skipSafetyBackup: false, terminateConnections: true });
    expect(takesSafetyBackup(noSkip, asked)).toBe(true);
  });
  it("turns a local restore's outcome into a summary", () => {
    const s = summaryOfLocal("x.sql", {
      source: "/tmp/x.sql",
      database: "rythm",
      server: "db:5432",
      createdDatabase: false,
      restoredAs: { name: "rythm", superuser: false },
      safetyBackup: "rythm-backup-2026-01-15T10-31-00-000Z.sql.zst",
      terminatedSessions: 0,
      bytes: 10,
      sha256: "ab",
      checksumVerified: true,
      format: "plain",
      compression: "none",
      durationMs: 5,
    });
    expect(s).toMatchObject({ name: "x.sql", database: "rythm", safetyBackup: "rythm-backup-2026-01-15T10-31-00-000Z.sql.zst", message: null, noSafetyBackup: null });
  });
});
