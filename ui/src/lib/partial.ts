// The rules of "Restore part…": which tables the picker shows for a search, what a choice
// restores (chosen tables, or with a tenant every table with its column), the options sent
// to the shell, the preview's totals, the roll back's choice (decided by the engine, read
// here), and why the action is not offered where the server cannot do it. Pure, so the picker is tested without a window.

import type { BackupContents, PartialRestoreInput, PartialRestoreOutcome, RestoreFeatures, TableContents } from "../bindings";

/** What the person chose in the picker. */
export interface PartialChoice {
  /** `schema.table`, as the engine reads names. */
  tables: string[];
  /** Tables restored whole beside a tenant's rows (only a roll back's choice has them). */
  wholeTables: string[];
  tenant: string | null;
  tenantColumn: string;
  /** A condition on the rows (only a roll back of a CLI or server restore has one). */
  where: string | null;
  cascadeToReferencing: boolean;
}

export const DEFAULT_TENANT_COLUMN = "tenant_id";

export function emptyChoice(): PartialChoice {
  return { tables: [], wholeTables: [], tenant: null, tenantColumn: DEFAULT_TENANT_COLUMN, where: null, cascadeToReferencing: false };
}

/** A name part quoted where PostgreSQL needs it (capitals, spaces, dots, quotes). */
function ident(part: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(part) ? part : `"${part.replace(/"/g, '""')}"`;
}

/** `schema.table` for a table of the contents, as the engine parses it back exactly. */
export function tableKey(t: Pick<TableContents, "schema" | "name">): string {
  return `${ident(t.schema)}.${ident(t.name)}`;
}

/** The tables matching a search (in schema, name or `schema.name`), case-insensitive. */
export function filterTables(tables: readonly TableContents[], query: string): TableContents[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...tables];
  return tables.filter((t) => `${t.schema}.${t.name}`.toLowerCase().includes(q) || tableKey(t).toLowerCase().includes(q));
}

/** The tables a choice restores: those chosen, or with a tenant and none chosen, every table
 *  with the tenant column whose rows the backup holds. */
export function restoredTables(contents: BackupContents, choice: PartialChoice): TableContents[] {
  if (choice.tables.length) return contents.tables.filter((t) => choice.tables.includes(tableKey(t)));
  if (choice.tenant !== null) return contents.tables.filter((t) => t.hasTenantColumn && t.hasData);
  return [];
}

/** Why the choice cannot be previewed yet, or null. */
export function choiceProblem(contents: BackupContents, choice: PartialChoice): string | null {
  if (!choice.tables.length && choice.tenant === null) return "Choose tables, or a tenant.";
  if (choice.tenant !== null) {
    const without = restoredTables(contents, choice).filter((t) => !t.hasTenantColumn);
    if (without.length) {
      return `${without.map(tableKey).join(", ")} ${without.length === 1 ? "has" : "have"} no ${choice.tenantColumn} column: leave ${without.length === 1 ? "it" : "them"} out to restore one tenant.`;
    }
  }
  return null;
}

/** What a choice replaces, in words: "tenant B's rows of every table with the tenant_id
 *  column", "the rows of public.sets, public.sessions". */
export function describeChoice(choice: PartialChoice): string {
  const tables = choice.tables.length ? choice.tables.join(", ") : `every table with the ${choice.tenantColumn} column`;
  const rows =
    choice.tenant !== null ? `tenant ${choice.tenant}'s rows of ${tables}` : choice.where !== null ? `the rows of ${tables} where ${choice.where}` : `the rows of ${tables}`;
  return choice.wholeTables.length ? `${rows}, and every row of ${choice.wholeTables.join(", ")}` : rows;
}

/** The options for `partial_restore`. */
export function partialInput(
  choice: PartialChoice,
  dryRun: boolean,
  confirm: string,
  features: RestoreFeatures,
  skipSafetyBackup: boolean,
): PartialRestoreInput {
  const input: PartialRestoreInput = {
    tables: [...choice.tables],
    wholeTables: [...choice.wholeTables],
    cascadeToReferencing: choice.cascadeToReferencing,
    dryRun,
    confirm: dryRun ? "" : confirm.trim(),
    skipSafetyBackup: skipSafetyBackup && features.skipSafetyBackup,
  };
  if (choice.tenant !== null) {
    input.tenant = choice.tenant;
    if (choice.tenantColumn !== DEFAULT_TENANT_COLUMN) input.tenantColumn = choice.tenantColumn;
  }
  if (choice.where !== null) input.where = choice.where;
  return input;
}

/** Whether a preview still describes the choice (a changed choice needs a new preview). */
export function previewMatches(preview: { choice: PartialChoice } | null, choice: PartialChoice): boolean {
  if (!preview) return false;
  const a = preview.choice;
  const same = (x: string[], y: string[]): boolean => x.length === y.length && x.every((t) => y.includes(t));
  return (
    a.tenant === choice.tenant &&
    a.where === choice.where &&
    same(a.wholeTables, choice.wholeTables) &&
    a.tenantColumn === choice.tenantColumn &&
    a.cascadeToReferencing === choice.cascadeToReferencing &&
    same(a.tables, choice.tables)
  );
}

export interface Totals {
  deleted: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows of tables not chosen that are deleted (by --cascade-to-referencing). */
  otherDeleted: number;
}

export function totals(outcome: PartialRestoreOutcome): Totals {
  const sum = (f: (t: PartialRestoreOutcome["tables"][number]) => number): number => outcome.tables.reduce((n, t) => n + f(t), 0);
  return {
    deleted: sum((t) => t.deleted),
    inserted: sum((t) => t.inserted),
    updated: sum((t) => t.updated),
    unchanged: sum((t) => t.unchanged),
    otherDeleted: outcome.otherTables.reduce((n, t) => n + t.deleted, 0),
  };
}

/** One line saying what a (previewed) restore does. */
export function describeOutcome(outcome: PartialRestoreOutcome): string {
  const t = totals(outcome);
  const parts = [`${t.deleted} deleted`, `${t.inserted} inserted`, `${t.updated} updated`, `${t.unchanged} left as they are`];
  if (t.otherDeleted) parts.push(`${t.otherDeleted} deleted in other tables`);
  const where = outcome.tenant !== null ? `tenant ${outcome.tenant}'s rows of ${outcome.tables.length} table(s)` : `${outcome.tables.length} table(s)`;
  return `${where}: ${parts.join(", ")}`;
}

/** The choice that rolls a partial restore back from its safety backup, as the engine decided
 *  it (the same rows of the tables it changed, and whole the tables its cascades reached);
 *  null without a safety backup. */
export function rollbackChoice(outcome: PartialRestoreOutcome): PartialChoice | null {
  const back = outcome.rollback;
  if (!back) return null;
  const c = back.selection;
  return {
    tables: [...c.tables],
    wholeTables: [...c.wholeTables],
    tenant: c.tenant ?? null,
    tenantColumn: c.tenantColumn ?? DEFAULT_TENANT_COLUMN,
    where: c.where ?? null,
    cascadeToReferencing: false,
  };
}

/** Why "Contents" or "Restore part…" is not offered for a profile's server, or null when it
 *  is (features unknown yet: null too, the dialog asks again). */
export function partialUnavailable(features: RestoreFeatures | null, server: string, what: "contents" | "partial"): string | null {
  if (!features) return null;
  if (what === "contents" && !features.contents) {
    return `${server} cannot list what a backup holds: its API has no such route (the RYTHM platform's has not). Use a direct profile, or our server.`;
  }
  if (what === "partial" && !features.partialRestore) {
    return `${server} restores whole databases only: its API has no partial restore (the RYTHM platform's has not). Use a direct profile, or our server.`;
  }
  return null;
}

/** The tenants the picker offers: most rows first, with their counts. */
export function tenantOptions(contents: BackupContents): Array<{ value: string; label: string }> {
  const tenants = contents.tenants?.tenants ?? [];
  return tenants.map((t) => ({ value: t.id, label: `${t.id} · ${t.rows.toLocaleString("en-US")} rows` }));
}
