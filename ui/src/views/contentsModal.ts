// The "Contents" panel of a backup: what it holds, read from the backup itself (its
// checksum checked) without touching a database: schemas, tables with exact row counts and
// data sizes, sequences, views, functions, types, extensions, and rows per tenant. From
// here "Restore part…" opens with the same contents.

import * as api from "../api";
import type { BackupContents, BackupEntry, RestoreFeatures } from "../bindings";
import type { Profile } from "../state";
import { formatBytes } from "../lib/format";
import { filterTables, partialUnavailable, tableKey } from "../lib/partial";
import { jobBlocker } from "../state";
import { h, replace, setDisabled } from "../ui/dom";
import { icon } from "../ui/icons";
import { openModal } from "../ui/modal";
import { badge, button, errorBox, facts, field, spinner } from "../ui/widgets";
import { openPartialRestore } from "./partialRestore";
import "./partial.css";

export function openContents(profile: Profile, entry: BackupEntry, server: string, features: RestoreFeatures | null): void {
  // Closing the dialog before the backup is read stops the read (it may be gigabytes).
  const reading = new AbortController();
  const modal = openModal({ title: "What this backup holds", subtitle: entry.name, testid: "contents-modal", size: "lg", onClose: () => reading.abort() });
  const close = button({ label: "Close", variant: "secondary", testid: "contents-close", onClick: () => modal.close() });
  modal.setBody(h("div", { class: "loading-line", testid: "contents-loading" }, spinner(), h("span", { text: "Reading the backup… (nothing is restored)" })));
  modal.setFooter(close);
  api
    .backupContents(profile.name, entry.name, undefined, reading.signal)
    .then((contents) => {
      const part = button({ label: "Restore part…", variant: "primary", icon: "restore", testid: "contents-restore-part" });
      setDisabled(part, jobBlocker(profile.name) ?? partialUnavailable(features, server, "partial"));
      part.addEventListener("click", () => {
        modal.close();
        openPartialRestore(profile, entry, server, contents);
      });
      modal.setBody(...contentsBody(contents));
      modal.setFooter(close, part);
    })
    .catch((e: unknown) => {
      modal.setBody(errorBox(e, [], "Could not read the backup"));
    });
}

function contentsBody(c: BackupContents): HTMLElement[] {
  const checksum = c.checksumVerified === true ? "sha256 verified" : c.checksumVerified === false ? "sha256 does not match" : "no checksum recorded";
  const summary = facts([
    ["Format", `${c.format === "custom" ? "Custom archive" : "Plain SQL"} · ${c.compression}`],
    ["Size", `${formatBytes(c.bytes)} stored · ${formatBytes(c.sqlBytes)} of SQL`],
    ["Checksum", h("span", { testid: "contents-checksum", text: checksum })],
    ["Tables", h("span", { testid: "contents-table-count", text: String(c.tables.length) })],
    ["Rows", c.tables.reduce((n, t) => n + t.rows, 0).toLocaleString("en-US")],
  ]);
  const search = field({ label: "Find a table", testid: "contents-search", type: "search", placeholder: "schema.table" });
  const list = h("tbody");
  const render = (): void => {
    replace(
      list,
      ...filterTables(c.tables, search.input.value).map((t) =>
        h(
          "tr",
          { testid: `contents-row-${t.schema}.${t.name}`, "data-rows": String(t.rows) },
          h("td", { class: "mono" }, tableKey(t), t.hasTenantColumn ? badge("tenant", "accent", { class: "partial-badge", title: "Has the tenant column" }) : null),
          h("td", {
            class: "num",
            text: t.hasData ? t.rows.toLocaleString("en-US") : "no rows",
            title: !t.hasData ? "The backup holds this table's definition only" : t.rowsSource === "recorded" ? "Recorded when the backup was taken" : "Counted in the backup's data",
          }),
          h("td", { class: "num muted", text: formatBytes(t.bytes) }),
        ),
      ),
    );
  };
  search.input.addEventListener("input", render);
  render();
  const objects = (label: string, items: string[]): HTMLElement | null =>
    items.length ? h("p", { class: "contents-objects" }, h("strong", { text: `${label}: ` }), items.join(", ")) : null;
  const named = (list: Array<{ schema: string; name: string }>): string[] => list.map((o) => `${o.schema}.${o.name}`);
  const tenants = c.tenants;
  return [
    summary,
    h(
      "div",
      { class: "modal-section" },
      h("h3", { class: "section-label" }, icon("database", 14), " Tables"),
      search.root,
      h(
        "div",
        { class: "table-wrap contents-table-wrap" },
        h(
          "table",
          { class: "table", testid: "contents-tables" },
          h("thead", {}, h("tr", {}, h("th", { text: "Table" }), h("th", { class: "col-num", text: "Rows" }), h("th", { class: "col-num", text: "Data" }))),
          list,
        ),
      ),
    ),
    h(
      "div",
      { class: "modal-section" },
      objects("Schemas", c.schemas),
      objects(
        "Sequences",
        c.sequences.map((s) => (s.value === null ? `${s.schema}.${s.name}` : `${s.schema}.${s.name} = ${s.value}`)),
      ),
      objects("Views", named(c.views)),
      objects("Materialized views", named(c.materializedViews)),
      objects("Functions", named(c.functions)),
      objects("Types", named(c.types)),
      objects("Extensions", c.extensions),
      c.largeObjects ? objects("Large objects", [String(c.largeObjects)]) : null,
      tenants
        ? h(
            "p",
            { class: "contents-objects", testid: "contents-tenants" },
            h("strong", { text: `Tenants by ${tenants.column}: ` }),
            `${tenants.tenants.length}${tenants.truncated ? "+" : ""} — `,
            tenants.tenants
              .slice(0, 8)
              .map((t) => `${t.id} (${t.rows.toLocaleString("en-US")} rows)`)
              .join(", "),
            tenants.tenants.length > 8 ? ", …" : "",
          )
        : null,
    ),
  ];
}
