// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { JobEvent, RestoreInput, RestoreSummary } from "../bindings";
import type { Profile } from "../state";
import { jobs } from "../state";

const restoreBackup = vi.fn();
const restoreFeatures = vi.fn();
const restoringRole = vi.fn();
const createBackup = vi.fn();
const downloadBackup = vi.fn();
vi.mock("../api", () => ({
  newJobId: () => "job-1",
  restoreBackup: (...args: unknown[]) => restoreBackup(...args),
  restoreFeatures: (...args: unknown[]) => restoreFeatures(...args),
  restoringRole: (...args: unknown[]) => restoringRole(...args),
  createBackup: (...args: unknown[]) => createBackup(...args),
  downloadBackup: (...args: unknown[]) => downloadBackup(...args),
  restoreLocalCopy: vi.fn(),
  cancelJob: vi.fn(async () => true),
  listBackups: vi.fn(async () => []),
  saveSettings: vi.fn(async () => undefined),
}));

const { openRestoreModal } = await import("./restoreModal");
const { targetFor } = await import("../lib/restore");

const profile: Profile = {
  name: "prod",
  mode: { type: "direct", database: { host: "db.internal", port: 5432, database: "rythm", user: "backup" }, storage: { type: "local", dir: "/srv/b" } },
  settings: { retentionDays: 10, format: "plain", compression: "zstd" },
  hasPassword: true,
  hasConnectionString: false,
  session: null,
  signedIn: true,
};
const NAME = "rythm-backup-2026-01-15T10-30-00-851Z.sql.zst";
const SAFETY = "rythm-backup-2026-01-15T11-00-00-000Z.sql.zst";

const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no ${id}`);
  return el;
};
const type = (id: string, text: string): void => {
  const input = byTestId<HTMLInputElement>(id);
  input.value = text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
};
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  document.body.replaceChildren(Object.assign(document.createElement("div"), { id: "app" }));
  restoreBackup.mockReset();
  restoreFeatures.mockReset();
  restoringRole.mockReset();
  restoringRole.mockResolvedValue({ name: "backup", superuser: false });
  createBackup.mockReset();
  downloadBackup.mockReset();
  jobs.set({});
});
afterEach(() => {
  document.querySelector<HTMLButtonElement>('[data-testid="modal-close"]')?.click();
});

describe("restore modal", () => {
  it("states what will happen in step 1", () => {
    openRestoreModal(profile, targetFor(profile, "backup", NAME, "2026-01-15T10:30:00Z", "rythm"));
    expect(byTestId("restore-target-db").textContent).toBe("rythm");
    expect(byTestId("restore-target-server").textContent).toBe("db.internal:5432");
    expect(byTestId("restore-backup-name").textContent).toBe(NAME);
    const text = byTestId("restore-modal").textContent ?? "";
    expect(text).toContain("All current data in rythm will be replaced");
    expect(text).toContain("safety backup");
  });

  it("enables Restore only once the database name is typed, then restores and offers roll back", async () => {
    const summary: RestoreSummary = {
      name: NAME,
      database: "rythm",
      restoredAs: null,
      safetyBackup: SAFETY,
      message: null,
      bytes: 100,
      checksumVerified: true,
      terminatedSessions: 0,
      createdDatabase: false,
      durationMs: 1200,
      noSafetyBackup: null,
    };
    let sent: RestoreInput | null = null;
    restoreBackup.mockImplementation(async (_p: string, _n: string, options: RestoreInput, _id: string, onEvent: (e: JobEvent) => void) => {
      sent = options;
      onEvent({ event: "phaseStarted", phase: "restoring", name: null, total: 100 });
      return summary;
    });
    openRestoreModal(profile, targetFor(profile, "backup", NAME, "2026-01-15T10:30:00Z", "rythm"));
    byTestId("restore-continue").click();
    const submit = byTestId<HTMLButtonElement>("restore-submit");
    expect(submit.disabled).toBe(true);
    type("restore-confirm-input", "rythm_wrong");
    expect(submit.disabled).toBe(true);
    type("restore-confirm-input", "Rythm");
    expect(submit.disabled).toBe(true);
    type("restore-confirm-input", "rythm");
    expect(submit.disabled).toBe(false);
    submit.click();
    await flush();
    await flush();
    expect(restoreBackup).toHaveBeenCalledOnce();
    expect(sent).toEqual({ confirm: "rythm", skipSafetyBackup: false, terminateConnections: false });
    expect(byTestId("safety-backup-name").textContent).toBe(SAFETY);
    // Roll back goes through the same two steps, for the safety backup.
    byTestId("rollback").click();
    expect(byTestId("restore-backup-name").textContent).toBe(SAFETY);
    byTestId("restore-continue").click();
    expect(byTestId<HTMLButtonElement>("restore-submit").disabled).toBe(true);
  });

  it("restores into a new database with that name as the confirmation", async () => {
    restoreBackup.mockResolvedValue({ name: NAME, database: "rythm_copy", safetyBackup: null, message: null, bytes: null, checksumVerified: null, terminatedSessions: null, createdDatabase: true, durationMs: null, noSafetyBackup: null });
    openRestoreModal(profile, targetFor(profile, "backup", NAME, null, null));
    byTestId<HTMLInputElement>("restore-into-new").click();
    const cont = byTestId<HTMLButtonElement>("restore-continue");
    expect(cont.disabled).toBe(true);
    type("restore-new-db", "rythm_copy");
    expect(cont.disabled).toBe(false);
    cont.click();
    type("restore-confirm-input", "rythm");
    expect(byTestId<HTMLButtonElement>("restore-submit").disabled).toBe(true);
    type("restore-confirm-input", "rythm_copy");
    byTestId("restore-submit").click();
    await flush();
    expect(restoreBackup.mock.calls[0]?.[2]).toEqual({ confirm: "rythm_copy", skipSafetyBackup: false, terminateConnections: false, targetDatabase: "rythm_copy", create: true });
  });

  it("keeps Restore disabled, with the reason, while another job of the profile runs", () => {
    openRestoreModal(profile, targetFor(profile, "backup", NAME, null, null));
    byTestId("restore-continue").click();
    jobs.set({ prod: { id: "x", profile: "prod", kind: "create", progress: { kind: "create", subject: null, startedAt: 0, phase: null, phaseStartedAt: 0, bytes: 0, rawBytes: null, total: null, samples: [], retry: null, note: null }, cancelling: false, orphan: false } });
    type("restore-confirm-input", "rythm");
    const submit = byTestId<HTMLButtonElement>("restore-submit");
    expect(submit.disabled).toBe(true);
    expect(submit.title).toMatch(/A backup is being created for “prod”/);
  });

  it("shows a failed restore in words with the details folded", async () => {
    restoreBackup.mockRejectedValue({ code: "database_in_use", message: "database rythm has 2 other session(s) connected", detail: "DatabaseInUse {..}" });
    openRestoreModal(profile, targetFor(profile, "backup", NAME, null, null));
    byTestId("restore-continue").click();
    type("restore-confirm-input", "rythm");
    byTestId("restore-submit").click();
    await flush();
    expect(byTestId("error-message").textContent).toMatch(/Other sessions are connected/);
    expect(byTestId("error-detail").textContent).toContain("2 other session(s)");
  });

  it("says in step 1 when the restore runs as a superuser, and not otherwise", async () => {
    restoringRole.mockResolvedValue({ name: "postgres", superuser: true });
    openRestoreModal(profile, targetFor(profile, "backup", NAME, "2026-01-15T10:30:00Z", "rythm"));
    await flush();
    await flush();
    const warning = byTestId("restore-superuser-warning").textContent ?? "";
    expect(warning).toContain("postgres, a superuser");
    expect(warning).toContain("database owner's role");
    document.querySelector<HTMLButtonElement>('[data-testid="modal-close"]')?.click();
    restoringRole.mockResolvedValue({ name: "rythm_owner", superuser: false });
    openRestoreModal(profile, targetFor(profile, "backup", NAME, "2026-01-15T10:30:00Z", "rythm"));
    await flush();
    await flush();
    expect(document.querySelector('[data-testid="restore-superuser-warning"]')).toBeNull();
    expect(byTestId("restore-target-db").textContent).toBe("rythm");
  });

  it("against a server that takes no safety backup, says so, hides its options and offers a copy first", async () => {
    const platform: Profile = { ...profile, name: "rythm", mode: { type: "api", baseUrl: "https://rythm.example.com", email: "ops@rythm.app" } };
    restoreFeatures.mockResolvedValue({ safetyBackup: false, skipSafetyBackup: false, terminateConnections: false, checksConfirmation: false, reportsRole: false });
    createBackup.mockResolvedValue({ name: SAFETY, size: 1, createdAt: "2026-01-15T11:00:00Z", format: "plain", compression: "none", type: "manual", sha256: null, rawSize: null, database: "rythm", durationMs: null, message: null, pruned: [], pruneError: null });
    downloadBackup.mockResolvedValue({ name: SAFETY, path: `/home/ops/${SAFETY}`, size: 1, sha256: "ab", checksumVerified: null, resumedFrom: 0, durationMs: 5 });
    openRestoreModal(platform, targetFor(platform, "backup", NAME, "2026-01-15T10:30:00Z", null));
    expect(byTestId("restore-asking").textContent).toContain("https://rythm.example.com");
    await flush();
    expect(restoreFeatures).toHaveBeenCalledWith("rythm");
    const note = byTestId("restore-safety-note").textContent ?? "";
    expect(note).toContain("takes no safety backup");
    expect(note).toContain("Download a copy of the current state first");
    expect(byTestId("restore-modal").textContent).not.toContain("A safety backup of the database is taken first");
    expect(document.querySelector('[data-testid="restore-skip-safety"]')?.closest(".check-field")?.hasAttribute("hidden") ?? true).toBe(true);
    expect(document.querySelector('[data-testid="restore-terminate"]')?.closest(".check-field")?.hasAttribute("hidden") ?? true).toBe(true);
    byTestId("restore-download-current").click();
    await flush();
    await flush();
    await flush();
    expect(createBackup).toHaveBeenCalledOnce();
    expect(downloadBackup.mock.calls[0]?.[1]).toBe(SAFETY);
    expect(byTestId("restore-current-saved").textContent).toContain(`/home/ops/${SAFETY}`);

    restoreBackup.mockResolvedValue({ name: NAME, database: null, safetyBackup: null, message: "Database restored successfully", bytes: null, checksumVerified: null, terminatedSessions: null, createdDatabase: null, durationMs: null, noSafetyBackup: "not-offered" });
    byTestId("restore-continue").click();
    type("restore-confirm-input", NAME);
    byTestId("restore-submit").click();
    await flush();
    await flush();
    expect(restoreBackup.mock.calls[0]?.[2]).toEqual({ confirm: NAME, skipSafetyBackup: false, terminateConnections: false });
    expect(byTestId("restore-no-safety-backup").textContent).toBe("No safety backup was taken: https://rythm.example.com takes none before a restore.");
    expect(document.querySelector('[data-testid="rollback"]')).toBeNull();
  });
});
