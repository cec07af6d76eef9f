// What a partial restore did, or would do (its preview): a table per restored table with
// the rows deleted, inserted, updated and left as they are, the rows of other tables it
// deleted, sequences, refreshed views and notes. Shared by the picker's preview, step 1 of
// the restore dialog and its result.

import type { PartialRestoreOutcome } from "../bindings";
import { describeOutcome, tableKey } from "../lib/partial";
import { h } from "../ui/dom";

function num(n: number): string {
  return n.toLocaleString("en-US");
}

/** The per-table figures; rows carry `data-` attributes the end-to-end tests read. */
export function outcomeTable(outcome: PartialRestoreOutcome, testid: string): HTMLElement {
  const head = ["Table", "Deleted", "Inserted", "Updated", "Unchanged"];
  const rows = outcome.tables.map((t) =>
    h(
      "tr",
      {
        testid: `${testid}-row-${t.schema}.${t.name}`,
        "data-deleted": String(t.deleted),
        "data-inserted": String(t.inserted),
        "data-updated": String(t.updated),
        "data-unchanged": String(t.unchanged),
      },
      h("td", { class: "mono" }, tableKey(t), t.created ? h("span", { class: "badge badge-accent partial-badge", text: "created" }) : null),
      h("td", { class: `num${t.deleted ? " partial-minus" : ""}`, text: num(t.deleted) }),
      h("td", { class: `num${t.inserted ? " partial-plus" : ""}`, text: num(t.inserted) }),
      h("td", { class: "num", text: num(t.updated) }),
      h("td", { class: "num muted", text: num(t.unchanged) }),
    ),
  );
  const others = outcome.otherTables.map((t) =>
    h(
      "tr",
      { class: "partial-other", testid: `${testid}-other-${t.schema}.${t.name}`, "data-deleted": String(t.deleted) },
      h("td", { class: "mono" }, `${tableKey(t)} `, h("span", { class: "muted small", text: "(referencing, not chosen)" })),
      h("td", { class: `num${t.deleted ? " partial-minus" : ""}`, text: num(t.deleted) }),
      h("td", { class: "num", text: num(t.inserted) }),
      h("td", { class: "num", text: num(t.updated) }),
      h("td", { class: "num muted", text: "—" }),
    ),
  );
  const extras: HTMLElement[] = [];
  const sequences = outcome.tables.flatMap((t) => t.sequences);
  if (sequences.length) extras.push(h("p", { class: "muted small", text: `Sequences: ${sequences.join(", ")}` }));
  if (outcome.refreshedViews.length) extras.push(h("p", { class: "muted small", text: `Materialized views refreshed: ${outcome.refreshedViews.join(", ")}` }));
  for (const note of outcome.notes) extras.push(h("p", { class: "muted small", text: `Note: ${note}` }));
  return h(
    "div",
    { class: "partial-outcome", testid },
    h("p", { class: "partial-summary", testid: `${testid}-summary`, text: describeOutcome(outcome) }),
    h(
      "div",
      { class: "table-wrap partial-table-wrap" },
      h(
        "table",
        { class: "table partial-table" },
        h("thead", {}, h("tr", {}, ...head.map((c, i) => h("th", { scope: "col", class: i ? "col-num" : undefined, text: c })))),
        h("tbody", {}, ...rows, ...others),
      ),
    ),
    ...extras,
  );
}
