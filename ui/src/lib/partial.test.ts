import { describe, expect, it } from "vitest";

import type { BackupContents, PartialRestoreOutcome, RestoreFeatures, TableContents } from "../bindings";
import {
  choiceProblem,
  describeChoice,
  describeOutcome,
  emptyChoice,
  filterTables,
  partialInput,
  partialUnavailable,
  previewMatches,
  restoredTables,
  rollbackChoice,
  tableKey,
  tenantOptions,
  totals,
} from "./partial";
import { ALL_FEATURES } from "./restore";

function table(schema: string, name: string, rows: number, tenant: boolean, hasData = true): TableContents {
  return { schema, name, rows, rowsSource: "counted", hasData, bytes: rows * 10, hasTenantColumn: tenant };
}

const contents: BackupContents = {
  source: "rythm-backup-2026-01-15T10-30-00-851Z.sql.zst",
  format: "plain",
  compression: "zstd",
  bytes: 1000,
  sha256: "a".repeat(64),
  checksumVerified: true,
  schemas: ["public"],
  tables: [
    table("public", "exercises", 30, false),
    table("public", "sessions", 120, true),
    table("public", "sets", 480, true),
    table("Mixed Case", "Odd \"T\"", 1, false),
  ],
  sequences: [],
  views: [],
  materializedViews: [],
  functions: [],
  types: [],
  extensions: [],
  largeObjects: 0,
  tenants: { column: "tenant_id", truncated: false, tenants: [{ id: "b", rows: 200 }, { id: "a", rows: 100 }] },
  sqlBytes: 5000,
};

const NONE: RestoreFeatures = { safetyBackup: false, skipSafetyBackup: false, terminateConnections: false, checksConfirmation: false, reportsRole: false, partialRestore: false, contents: false };

describe("the table picker", () => {
  it("names tables as the engine parses them back", () => {
    expect(tableKey(contents.tables[1]!)).toBe("public.sessions");
    expect(tableKey(contents.tables[3]!)).toBe('"Mixed Case"."Odd ""T"""');
  });
  it("searches schema and name, case-insensitively", () => {
    expect(filterTables(contents.tables, "SESS").map((t) => t.name)).toEqual(["sessions"]);
    expect(filterTables(contents.tables, "public.se").map((t) => t.name)).toEqual(["sessions", "sets"]);
    expect(filterTables(contents.tables, "mixed case.odd")).toHaveLength(1);
    expect(filterTables(contents.tables, "  ")).toHaveLength(4);
    expect(filterTables(contents.tables, "nope")).toHaveLength(0);
  });
  it("offers the tenants with their rows, most first", () => {
    expect(tenantOptions(contents).map((o) => o.value)).toEqual(["b", "a"]);
    expect(tenantOptions(contents)[0]!.label).toContain("200 rows");
    expect(tenantOptions({ ...contents, tenants: null })).toEqual([]);
  });
});

describe("what a choice restores", () => {
  it("is the chosen tables, or with a tenant every table with its column", () => {
    expect(restoredTables(contents, { ...emptyChoice(), tables: ["public.sets"] }).map((t) => t.name)).toEqual(["sets"]);
    expect(restoredTables(contents, { ...emptyChoice(), tenant: "b" }).map((t) => t.name)).toEqual(["sessions", "sets"]);
    expect(restoredTables(contents, emptyChoice())).toEqual([]);
  });
  it("leaves out, for a tenant, the tables whose rows the backup does not hold (a safety backup's others)", () => {
    const safety = { ...contents, tables: [...contents.tables, table("public", "audit", 0, true, false)] };
    expect(restoredTables(safety, { ...emptyChoice(), tenant: "b" }).map((t) => t.name)).toEqual(["sessions", "sets"]);
  });
  it("needs tables or a tenant, and tenant tables for a tenant", () => {
    expect(choiceProblem(contents, emptyChoice())).toMatch(/Choose/);
    expect(choiceProblem(contents, { ...emptyChoice(), tenant: "b" })).toBeNull();
    expect(choiceProblem(contents, { ...emptyChoice(), tenant: "b", tables: ["public.exercises"] })).toMatch(/no tenant_id column/);
    expect(choiceProblem(contents, { ...emptyChoice(), tables: ["public.exercises"] })).toBeNull();
  });
  it("sends a preview without a confirmation, and only options the server has", () => {
    const choice = { ...emptyChoice(), tenant: "b" };
    expect(partialInput(choice, true, "rythm", ALL_FEATURES, false)).toEqual({
      tables: [],
      wholeTables: [],
      tenant: "b",
      cascadeToReferencing: false,
      dryRun: true,
      confirm: "",
      skipSafetyBackup: false,
    });
    const real = partialInput({ ...choice, tenantColumn: "org_id" }, false, " rythm ", NONE, true);
    expect(real).toMatchObject({ confirm: "rythm", tenantColumn: "org_id", skipSafetyBackup: false, dryRun: false });
  });
  it("says what it replaces", () => {
    expect(describeChoice({ ...emptyChoice(), tenant: "b" })).toBe("tenant b's rows of every table with the tenant_id column");
    expect(describeChoice({ ...emptyChoice(), tables: ["public.sets", "public.sessions"] })).toBe("the rows of public.sets, public.sessions");
    expect(describeChoice({ ...emptyChoice(), tenant: "b", tables: ["public.sets"], wholeTables: ["public.audit"] })).toBe(
      "tenant b's rows of public.sets, and every row of public.audit",
    );
    expect(describeChoice({ ...emptyChoice(), tables: ["public.sets"], where: "id > 3" })).toBe("the rows of public.sets where id > 3");
  });
  it("sends whole tables and a condition when a roll back has them", () => {
    const input = partialInput({ ...emptyChoice(), tenant: "b", tables: ["public.sets"], wholeTables: ["public.audit"] }, false, "rythm", ALL_FEATURES, false);
    expect(input).toMatchObject({ tables: ["public.sets"], wholeTables: ["public.audit"], tenant: "b" });
    expect(input.where).toBeUndefined();
    expect(partialInput({ ...emptyChoice(), tables: ["public.sets"], where: "id > 3" }, true, "", ALL_FEATURES, false).where).toBe("id > 3");
  });
  it("needs a new preview when the choice changes", () => {
    const choice = { ...emptyChoice(), tables: ["public.sets", "public.sessions"] };
    expect(previewMatches(null, choice)).toBe(false);
    expect(previewMatches({ choice }, { ...choice, tables: ["public.sessions", "public.sets"] })).toBe(true);
    expect(previewMatches({ choice }, { ...choice, tables: ["public.sets"] })).toBe(false);
    expect(previewMatches({ choice }, { ...choice, tenant: "a" })).toBe(false);
    expect(previewMatches({ choice }, { ...choice, cascadeToReferencing: true })).toBe(false);
    expect(previewMatches({ choice }, { ...choice, wholeTables: ["public.audit"] })).toBe(false);
    expect(previewMatches({ choice }, { ...choice, where: "true" })).toBe(false);
  });
});

function outcome(over: Partial<PartialRestoreOutcome> = {}): PartialRestoreOutcome {
  return {
    source: contents.source,
    database: "rythm",
    dryRun: false,
    tables: [
      { schema: "public", name: "sessions", deleted: 1, inserted: 40, updated: 2, unchanged: 78, created: false, sequences: [] },
      { schema: "public", name: "sets", deleted: 0, inserted: 160, updated: 0, unchanged: 320, created: false, sequences: [] },
    ],
    otherTables: [{ schema: "public", name: "audit", deleted: 3, updated: 0, inserted: 0 }],
    tenant: "b",
    tenantColumn: "tenant_id",
    whereSql: null,
    intoSchema: null,
    refreshedViews: [],
    safetyBackup: "pre-restore-tables-2026-01-16T00-00-00-000Z.sql.zst",
    safetyTables: [{ schema: "public", name: "sessions" }, { schema: "public", name: "sets" }, { schema: "public", name: "audit" }],
    rollback: {
      backup: "pre-restore-tables-2026-01-16T00-00-00-000Z.sql.zst",
      selection: {
        tables: ["public.sessions", "public.sets"],
        wholeTables: ["public.audit"],
        tenant: "b",
        cascadeToReferencing: false,
        dryRun: false,
      },
    },
    restoredAs: null,
    notes: [],
    bytes: 1,
    sha256: "",
    checksumVerified: true,
    format: "plain",
    compression: "zstd",
    durationMs: 10,
    ...over,
  };
}

describe("the result", () => {
  it("adds up what changed", () => {
    expect(totals(outcome())).toEqual({ deleted: 1, inserted: 200, updated: 2, unchanged: 398, otherDeleted: 3 });
    expect(describeOutcome(outcome())).toBe("tenant b's rows of 2 table(s): 1 deleted, 200 inserted, 2 updated, 398 left as they are, 3 deleted in other tables");
  });
  it("rolls back with the engine's choice: the tenant's rows, and whole the tables its cascades reached", () => {
    expect(rollbackChoice(outcome())).toEqual({
      tables: ["public.sessions", "public.sets"],
      wholeTables: ["public.audit"],
      tenant: "b",
      tenantColumn: "tenant_id",
      where: null,
      cascadeToReferencing: false,
    });
    const where = rollbackChoice(outcome({ rollback: { backup: "x.sql", selection: { tables: ["public.sets"], wholeTables: [], where: "id > 3", cascadeToReferencing: false, dryRun: false } } }));
    expect(where).toMatchObject({ tables: ["public.sets"], tenant: null, where: "id > 3" });
    expect(rollbackChoice(outcome({ safetyBackup: null, rollback: null }))).toBeNull();
  });
});

describe("where it is offered", () => {
  it("is disabled with the reason against a server without it (the RYTHM platform)", () => {
    expect(partialUnavailable(NONE, "https://api.rythm.app", "partial")).toMatch(/restores whole databases only/);
    expect(partialUnavailable(NONE, "https://api.rythm.app", "contents")).toMatch(/cannot list/);
    expect(partialUnavailable(ALL_FEATURES, "x", "partial")).toBeNull();
    expect(partialUnavailable(null, "x", "partial")).toBeNull();
  });
});
