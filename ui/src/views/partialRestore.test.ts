// @vitest-environment happy-dom
// "Restore part…" in a window of its own: the picker (search, tenant, preview before
// Continue), and the restore dialog's two steps for the previewed choice, then its result
// and roll back, against a mocked shell.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { BackupContents, BackupEntry, PartialRestoreInput, PartialRestoreOutcome } from "../bindings";
import type { Profile } from "../state";
import { jobs } from "../state";
import { ALL_FEATURES } from "../lib/restore";

const partialRestore = vi.fn();
const backupContents = vi.fn();
vi.mock("../api", () => ({
  newJobId: () => "job-1",
  partialRestore: (...args: unknown[]) => partialRestore(...args),
  backupContents: (...args: unknown[]) => backupContents(...args),
  restoreFeatures: vi.fn(async () => ALL_FEATURES),
  cancelJob: vi.fn(async () => true),
  listBackups: vi.fn(async () => []),
}));

const { openPartialRestore } = await import("./partialRestore");

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
const SAFETY = "pre-restore-tables-2026-01-16T00-00-00-000Z.sql.zst";
const entry = { name: NAME, createdAt: "2026-01-15T10:30:00Z", database: "rythm" } as BackupEntry;
const table = (name: string, rows: number, tenant: boolean, hasData = true) => ({ schema: "public", name, rows, rowsSource: "counted" as const, hasData, bytes: rows * 9, hasTenantColumn: tenant });
const contents: BackupContents = {
  source: NAME,
  format: "plain",
  compression: "zstd",
  bytes: 100,
  sha256: "",
  checksumVerified: true,
  schemas: ["public"],
  tables: [table("exercises", 30, false), table("sessions", 120, true), table("sets", 480, true)],
  sequences: [],
  views: [],
  materializedViews: [],
  functions: [],
  types: [],
  extensions: [],
  largeObjects: 0,
  tenants: { column: "tenant_id", truncated: false, tenants: [{ id: "tenant-b", rows: 200 }] },
  sqlBytes: 1000,
};
function outcome(input: PartialRestoreInput): PartialRestoreOutcome {
  return {
    source: NAME,
    database: "rythm",
    dryRun: input.dryRun,
    tables: [
      { schema: "public", name: "sessions", deleted: 0, inserted: 40, updated: 0, unchanged: 0, created: false, sequences: [] },
      { schema: "public", name: "sets", deleted: 0, inserted: 160, updated: 0, unchanged: 0, created: false, sequences: [] },
    ],
    otherTables: [],
    tenant: input.tenant ?? null,
    tenantColumn: "tenant_id",
    whereSql: null,
    intoSchema: null,
    refreshedViews: [],
    safetyBackup: input.dryRun ? null : SAFETY,
    safetyTables: [{ schema: "public", name: "sessions" }, { schema: "public", name: "sets" }, { schema: "public", name: "audit" }],
    // The engine's roll back: the tenant's rows, and whole the table its cascades reached.
    rollback: input.dryRun
      ? null
      : {
          backup: SAFETY,
          selection: { tables: ["public.sessions", "public.sets"], wholeTables: ["public.audit"], ...(input.tenant ? { tenant: input.tenant } : {}), cascadeToReferencing: false, dryRun: false },
        },
    restoredAs: null,
    notes: [],
    bytes: 1,
    sha256: "",
    checksumVerified: true,
    format: "plain",
    compression: "zstd",
    durationMs: 5,
  };
}

const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no ${id}`);
  return el;
};
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

beforeEach(() => {
  document.body.replaceChildren(Object.assign(document.createElement("div"), { id: "app" }));
  partialRestore.mockReset();
  partialRestore.mockImplementation(async (_p: string, _n: string, input: PartialRestoreInput) => outcome(input));
  backupContents.mockReset();
  backupContents.mockImplementation(async () => contents);
  jobs.set({});
});
afterEach(() => {
  for (const close of document.querySelectorAll<HTMLButtonElement>('[data-testid="modal-close"]')) close.click();
});

describe("Restore part…", () => {
  it("searches, picks a tenant, previews (nothing changed) and only then continues", async () => {
    openPartialRestore(profile, entry, "db.internal:5432");
    await flush();
    const search = byTestId<HTMLInputElement>("partial-search");
    search.value = "sess";
    search.dispatchEvent(new Event("input"));
    expect(document.querySelector('[data-testid="partial-table-public.sets"]')).toBeNull();
    expect(byTestId("partial-table-public.sessions")).toBeTruthy();
    expect(byTestId<HTMLButtonElement>("partial-preview").disabled).toBe(true);
    const tenant = byTestId<HTMLSelectElement>("partial-tenant");
    tenant.value = "tenant-b";
    tenant.dispatchEvent(new Event("change"));
    expect(byTestId("partial-selected").textContent).toContain("tenant tenant-b has 200 rows");
    expect(byTestId<HTMLButtonElement>("partial-continue").disabled).toBe(true);
    byTestId<HTMLButtonElement>("partial-preview").click();
    await flush();
    expect(partialRestore).toHaveBeenCalledTimes(1);
    const previewInput = partialRestore.mock.calls[0]![2] as PartialRestoreInput;
    expect(previewInput).toMatchObject({ dryRun: true, tenant: "tenant-b", tables: [], confirm: "" });
    expect(byTestId("partial-preview-table-row-public.sessions").dataset["inserted"]).toBe("40");
    expect(byTestId<HTMLButtonElement>("partial-continue").disabled).toBe(false);
    // A changed choice needs a new preview.
    const sets = byTestId<HTMLInputElement>("partial-table-public.sessions");
    sets.checked = true;
    sets.dispatchEvent(new Event("change"));
    expect(byTestId<HTMLButtonElement>("partial-continue").disabled).toBe(true);
    expect(byTestId("partial-preview-stale")).toBeTruthy();
  });

  it("shows a table whose rows the backup lacks as such, and does not let it be chosen", async () => {
    backupContents.mockImplementation(async () => ({ ...contents, tables: [...contents.tables, table("audit", 0, true, false)] }));
    openPartialRestore(profile, entry, "db.internal:5432");
    await flush();
    const audit = byTestId<HTMLInputElement>("partial-table-public.audit");
    expect(audit.disabled).toBe(true);
    expect(audit.closest("label")?.textContent).toContain("no rows in this backup");
    expect(byTestId<HTMLInputElement>("partial-table-public.sets").disabled).toBe(false);
  });

  it("confirms in the restore dialog's two steps, restores, and rolls back with the engine's choice", async () => {
    openPartialRestore(profile, entry, "db.internal:5432");
    await flush();
    const tenant = byTestId<HTMLSelectElement>("partial-tenant");
    tenant.value = "tenant-b";
    tenant.dispatchEvent(new Event("change"));
    byTestId<HTMLButtonElement>("partial-preview").click();
    await flush();
    byTestId<HTMLButtonElement>("partial-continue").click();
    await flush();
    expect(byTestId("restore-partial-what").textContent).toContain("tenant tenant-b's rows");
    expect(byTestId("restore-preview-row-public.sets").dataset["inserted"]).toBe("160");
    byTestId<HTMLButtonElement>("restore-continue").click();
    const input = byTestId<HTMLInputElement>("restore-confirm-input");
    const submit = byTestId<HTMLButtonElement>("restore-submit");
    input.value = "rytm";
    input.dispatchEvent(new Event("input"));
    expect(submit.disabled).toBe(true);
    input.value = "rythm";
    input.dispatchEvent(new Event("input"));
    expect(submit.disabled).toBe(false);
    submit.click();
    await flush();
    const real = partialRestore.mock.calls[1]![2] as PartialRestoreInput;
    expect(real).toMatchObject({ dryRun: false, confirm: "rythm", tenant: "tenant-b" });
    expect(byTestId("safety-backup-name").textContent).toBe(SAFETY);
    byTestId<HTMLButtonElement>("rollback").click();
    await flush();
    expect(byTestId("restore-partial-what").textContent).toContain("tenant tenant-b's rows of public.sessions, public.sets, and every row of public.audit");
    byTestId<HTMLButtonElement>("restore-continue").click();
    const again = byTestId<HTMLInputElement>("restore-confirm-input");
    again.value = "rythm";
    again.dispatchEvent(new Event("input"));
    byTestId<HTMLButtonElement>("restore-submit").click();
    await flush();
    const [, name, rollback] = partialRestore.mock.calls[2]!;
    expect(name).toBe(SAFETY);
    expect(rollback).toMatchObject({ tenant: "tenant-b", tables: ["public.sessions", "public.sets"], wholeTables: ["public.audit"], dryRun: false, confirm: "rythm" });
  });

  it("says why it cannot go on against a server without partial restores", async () => {
    const api = await import("../api");
    vi.mocked(api.restoreFeatures).mockResolvedValueOnce({ ...ALL_FEATURES, partialRestore: false, contents: false });
    openPartialRestore({ ...profile, mode: { type: "api", baseUrl: "https://api.rythm.app", email: "a@b" } }, entry, "https://api.rythm.app");
    await flush();
    expect(byTestId("partial-unavailable").textContent).toContain("restores whole databases only");
    expect(partialRestore).not.toHaveBeenCalled();
  });
});
