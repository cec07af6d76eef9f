// Restore rehearsals from the Backups page: the Verify action (a job with progress, direct
// mode through the engine and API mode through the server's endpoint), its per-table report,
// and the Verified cell of the table.

import * as api from "../api";
import type { BackupEntry, UiError, VerifyOutcome } from "../bindings";
import type { Profile } from "../state";
import { formatDuration } from "../lib/format";
import { failureReason, verifiedCell } from "../lib/health";
import { refreshBackups, runJob } from "../state";
import { h } from "../ui/dom";
import { icon } from "../ui/icons";
import { openModal } from "../ui/modal";
import { errorToast, toast } from "../ui/toast";
import { button, callout } from "../ui/widgets";

/** The Verified column's cell. */
export function verifiedTd(entry: BackupEntry, now: Date): HTMLTableCellElement {
  const cell = verifiedCell(entry, now);
  const mark = cell.tone === "ok" ? icon("check", 12) : cell.tone === "danger" ? icon("alert", 12) : null;
  return h(
    "td",
    { class: "col-verified", testid: `verified-${entry.name}`, title: cell.title },
    h(
      "div",
      { class: "two-line" },
      h("span", { class: `badge badge-${cell.tone === "ok" ? "success" : cell.tone === "danger" ? "danger" : "muted"}` }, mark, cell.text),
      cell.detail ? h("span", { class: "muted small ellipsis", text: cell.detail }) : null,
    ),
  );
}

/** Runs a rehearsal of `entry` and shows its report. */
export async function verifyBackup(profile: Profile, entry: BackupEntry): Promise<void> {
  try {
    const outcome = await runJob(profile.name, "verify", entry.name, (jobId, onEvent) => api.verifyBackup(profile.name, entry.name, jobId, onEvent));
    if (outcome.ok) {
      toast({ kind: "success", title: "Backup verified", message: `${entry.name} restored in ${formatDuration(outcome.verification.restoreSeconds * 1000)}; every table as recorded.` });
    } else {
      toast({ kind: "error", title: "Verification failed", message: failureReason(outcome.verification) });
    }
    openReport(outcome);
  } catch (e) {
    if ((e as UiError | null)?.code === "cancelled") toast({ kind: "info", title: "Verification cancelled", message: "The scratch database was dropped." });
    else errorToast("The verification failed", e);
  } finally {
    void refreshBackups(profile.name);
  }
}

/** The per-table report: recorded and restored rows side by side. */
function openReport(outcome: VerifyOutcome): void {
  const v = outcome.verification;
  const recorded = new Map(v.mismatches.map((m) => [`${m.schema}.${m.table}`, m.recorded]));
  const rows = outcome.tables.map((t) => {
    const key = `${t.schema}.${t.table}`;
    const differs = recorded.has(key);
    const expected = differs ? recorded.get(key) : t.rows;
    return h(
      "tr",
      { class: differs ? "row-mismatch" : undefined },
      h("td", { class: "mono", text: key }),
      h("td", { class: "num", text: expected === null || expected === undefined ? (v.compared ? "missing" : "—") : String(expected) }),
      h("td", { class: "num", text: String(t.rows) }),
      h("td", {}, differs ? h("span", { class: "badge badge-danger", text: "differs" }) : h("span", { class: "badge badge-success", text: "ok" })),
    );
  });
  for (const m of v.mismatches.filter((m) => m.restored === null)) {
    rows.push(
      h(
        "tr",
        { class: "row-mismatch" },
        h("td", { class: "mono", text: `${m.schema}.${m.table}` }),
        h("td", { class: "num", text: String(m.recorded ?? "—") }),
        h("td", { class: "num", text: "missing" }),
        h("td", {}, h("span", { class: "badge badge-danger", text: "missing" })),
      ),
    );
  }
  const modal = openModal({
    title: outcome.ok ? "The backup restores" : "The backup failed verification",
    subtitle: `${outcome.name} · restored into ${outcome.scratchDatabase} on ${outcome.scratchServer} (dropped again)`,
    testid: "verify-report",
    tone: outcome.ok ? "default" : "danger",
    size: "lg",
  });
  modal.setBody(
    outcome.ok
      ? callout("success", "check", h("p", { text: `Restored in ${formatDuration(v.restoreSeconds * 1000)}: the time to expect for a recovery. ${v.compared ? "Every table has the rows recorded when the backup was taken." : "This backup recorded no row counts (a legacy backup): the restore itself succeeded."}` }))
      : callout("danger", "alert", h("p", { text: failureReason(v) })),
    h(
      "div",
      { class: "table-wrap report-table" },
      h(
        "table",
        { class: "table", testid: "verify-tables" },
        h("thead", {}, h("tr", {}, h("th", { text: "Table" }), h("th", { class: "num", text: "Recorded" }), h("th", { class: "num", text: "Restored" }), h("th", { text: "" }))),
        h("tbody", {}, ...rows),
      ),
    ),
  );
  modal.setFooter(button({ label: "Close", variant: "primary", testid: "verify-report-close", onClick: () => modal.close() }));
}
