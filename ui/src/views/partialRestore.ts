// "Restore part…" of a backup: a searchable table picker with each table's rows (from the
// backup's contents), an optional tenant (from the tenants found in the backup, with their
// rows), then a preview (a dry run: what would be deleted, inserted and left, with nothing
// changed). "Continue" hands the previewed choice to the restore dialog, whose two steps
// (review, then typing the database's name) confirm it like any restore.

import * as api from "../api";
import type { BackupContents, BackupEntry, PartialRestoreOutcome, RestoreFeatures, UiError } from "../bindings";
import type { Profile } from "../state";
import { formatBytes } from "../lib/format";
import {
  choiceProblem,
  emptyChoice,
  filterTables,
  partialInput,
  partialUnavailable,
  previewMatches,
  restoredTables,
  tableKey,
  tenantOptions,
  type PartialChoice,
} from "../lib/partial";
import { ALL_FEATURES, targetFor } from "../lib/restore";
import { jobBlocker, jobs, runJob } from "../state";
import { h, replace, Scope, setDisabled } from "../ui/dom";
import { openModal } from "../ui/modal";
import { badge, button, callout, checkbox, errorBox, field, selectField, spinner } from "../ui/widgets";
import { outcomeTable } from "./partialView";
import { openRestoreModal } from "./restoreModal";
import "./partial.css";

const ALL_ROWS = "";

export function openPartialRestore(profile: Profile, entry: BackupEntry, server: string, known?: BackupContents): void {
  // Closing the dialog before the backup is read stops the read.
  const reading = new AbortController();
  const modal = openModal({ title: "Restore part of a backup", subtitle: entry.name, testid: "partial-modal", size: "lg", tone: "danger", onClose: () => reading.abort() });
  const scope = new Scope();
  const originalClose = modal.close.bind(modal);
  modal.close = () => {
    scope.dispose();
    originalClose();
  };
  const cancel = button({ label: "Cancel", variant: "secondary", testid: "partial-cancel", onClick: () => modal.close() });
  modal.setFooter(cancel);
  modal.setBody(h("div", { class: "loading-line", testid: "partial-loading" }, spinner(), h("span", { text: "Reading what the backup holds…" })));
  const features = api.restoreFeatures(profile.name).catch((): RestoreFeatures => ALL_FEATURES);
  const contents = known ? Promise.resolve(known) : api.backupContents(profile.name, entry.name, undefined, reading.signal);
  Promise.all([contents, features])
    .then(([c, f]) => {
      const unavailable = partialUnavailable(f, server, "partial");
      if (unavailable) {
        modal.setBody(callout("info", "info", h("p", { testid: "partial-unavailable", text: unavailable })));
        return;
      }
      picker(c, f);
    })
    .catch((e: unknown) => modal.setBody(errorBox(e, [], "Could not read the backup")));

  function picker(c: BackupContents, features: RestoreFeatures): void {
    const choice: PartialChoice = emptyChoice();
    let preview: { choice: PartialChoice; outcome: PartialRestoreOutcome } | null = null;
    const search = field({ label: "Find a table", testid: "partial-search", type: "search", placeholder: "schema.table" });
    const list = h("div", { class: "partial-picker", role: "group", "aria-label": "Tables to restore", testid: "partial-tables" });
    const tenantChoices = [{ value: ALL_ROWS, label: "All rows of the chosen tables" }, ...tenantOptions(c)];
    const tenant = selectField({
      label: "Only one tenant's rows",
      testid: "partial-tenant",
      value: ALL_ROWS,
      options: tenantChoices,
      hint: c.tenants
        ? `Tenants found in the backup by ${c.tenants.column}. With a tenant and no table chosen, every table with the column is restored; other tenants' rows stay as they are.`
        : "No table of the backup has a tenant_id column.",
    });
    tenant.select.disabled = !c.tenants;
    const cascade = checkbox({
      label: "Delete rows of other tables that would point at removed rows",
      testid: "partial-cascade",
      hint: "Without it, a restore that would leave such rows fails and changes nothing.",
      onChange: (v) => {
        choice.cascadeToReferencing = v;
        update();
      },
    });
    const selected = h("p", { class: "muted small", testid: "partial-selected", "aria-live": "polite" });
    const previewSlot = h("div", { class: "partial-preview-slot" });
    const previewButton = button({ label: "Preview", variant: "secondary", icon: "search", testid: "partial-preview" });
    const cont = button({ label: "Continue", variant: "primary", testid: "partial-continue" });

    const renderList = (): void => {
      const shown = filterTables(c.tables, search.input.value);
      replace(
        list,
        ...(shown.length
          ? shown.map((t) => {
              const key = tableKey(t);
              const input = h("input", {
                type: "checkbox",
                class: "checkbox",
                testid: `partial-table-${t.schema}.${t.name}`,
                // A table whose rows the backup left out (a safety backup's other tables) has none to restore.
                props: { checked: choice.tables.includes(key), disabled: !t.hasData },
                on: {
                  change: () => {
                    choice.tables = input.checked ? [...choice.tables, key] : choice.tables.filter((k) => k !== key);
                    update();
                  },
                },
              });
              return h(
                "label",
                { class: "partial-pick" },
                input,
                h("span", { class: "mono partial-pick-name", text: key }),
                t.hasTenantColumn ? badge("tenant", "accent", { title: "Has the tenant column" }) : null,
                h("span", { class: "num partial-pick-rows", text: t.hasData ? `${t.rows.toLocaleString("en-US")} rows` : "no rows in this backup" }),
                h("span", { class: "muted small partial-pick-size", text: formatBytes(t.bytes) }),
              );
            })
          : [h("p", { class: "muted", text: `No table matches “${search.input.value}”.` })]),
      );
    };

    const update = (): void => {
      choice.tenant = tenant.value() === ALL_ROWS ? null : tenant.value();
      const restored = restoredTables(c, choice);
      const rows = restored.reduce((n, t) => n + t.rows, 0);
      const tenantRows = c.tenants?.tenants.find((t) => t.id === choice.tenant)?.rows;
      selected.textContent = !restored.length
        ? "No table chosen yet."
        : choice.tenant !== null
          ? `${restored.length} table(s) with the ${choice.tenantColumn} column; tenant ${choice.tenant} has ${tenantRows?.toLocaleString("en-US") ?? "no"} rows in them in the backup.`
          : `${restored.length} table(s) chosen, ${rows.toLocaleString("en-US")} rows in the backup.`;
      const problem = choiceProblem(c, choice);
      const blocker = jobBlocker(profile.name);
      setDisabled(previewButton, blocker ?? problem);
      const fresh = preview !== null && previewMatches(preview, choice);
      setDisabled(cont, blocker ?? problem ?? (fresh ? null : "Preview the restore first"));
      if (preview && !fresh) {
        replace(previewSlot, callout("info", "info", h("p", { testid: "partial-preview-stale", text: "The choice changed: preview it again." })));
        preview = null;
      }
    };
    search.input.addEventListener("input", renderList);
    tenant.select.addEventListener("change", update);
    scope.add(jobs.subscribe(update, false));

    previewButton.addEventListener("click", async () => {
      const asked = { ...choice, tables: [...choice.tables] };
      replace(previewSlot, h("div", { class: "loading-line", testid: "partial-previewing" }, spinner(), h("span", { text: "Restoring the backup into a scratch database to compare… nothing is changed." })));
      previewButton.disabled = true;
      try {
        const outcome = await runJob(profile.name, "preview", entry.name, (jobId, onEvent) =>
          api.partialRestore(profile.name, entry.name, partialInput(asked, true, "", features, false), jobId, onEvent),
        );
        preview = { choice: asked, outcome };
        replace(previewSlot, h("h3", { class: "section-label", text: "Preview: nothing was changed" }), outcomeTable(outcome, "partial-preview-table"));
        previewSlot.scrollIntoView({ block: "nearest" });
      } catch (e) {
        const err = e as UiError;
        replace(previewSlot, errorBox(e, [], err?.code === "cancelled" ? "The preview was cancelled" : "The preview found a problem"));
      }
      update();
    });

    cont.addEventListener("click", () => {
      if (!preview || !previewMatches(preview, choice)) return;
      const done = preview;
      modal.close();
      const target = targetFor(profile, "backup", entry.name, entry.createdAt, entry.database);
      target.features = features;
      target.partial = { choice: done.choice, preview: done.outcome };
      openRestoreModal(profile, target);
    });

    renderList();
    modal.setBody(
      h(
        "div",
        { class: "partial-layout" },
        h("div", { class: "modal-section" }, h("h3", { class: "section-label", text: "Tables" }), search.root, list, selected),
        h("div", { class: "modal-section" }, tenant.root, cascade.root),
        previewSlot,
      ),
    );
    modal.setFooter(cancel, previewButton, cont);
    update();
    modal.focus(search.input);
  }
}
