// What the backup buttons do: create and download run as jobs with progress; delete and prune
// ask first. Restore lives in restoreModal.ts (which uses `backUpAndDownload` before a restore
// on a server that takes no safety backup).

import * as api from "../api";
import type { BackupEntry, CreateOutcome, DownloadOutcome, UiError } from "../bindings";
import type { Profile } from "../state";
import { formatBytes, formatDuration, formatLocalDateTime, ageOf } from "../lib/format";
import { jobBlocker, refreshBackups, runJob, describeProfile } from "../state";
import { h } from "../ui/dom";
import { openModal } from "../ui/modal";
import { errorToast, toast } from "../ui/toast";
import { button, callout, errorBox, spinner } from "../ui/widgets";

function isCancelled(e: unknown): boolean {
  return (e as UiError | null)?.code === "cancelled";
}

export async function createBackup(profile: Profile): Promise<void> {
  try {
    const outcome = await runJob(profile.name, "create", null, (jobId, onEvent) =>
      api.createBackup(profile.name, jobId, onEvent),
    );
    const parts = [formatBytes(outcome.size)];
    if (outcome.durationMs !== null) parts.push(`took ${formatDuration(outcome.durationMs)}`);
    if (outcome.pruned.length) parts.push(`retention removed ${outcome.pruned.length} old backup${outcome.pruned.length === 1 ? "" : "s"}`);
    toast({ kind: "success", title: "Backup created", message: `${outcome.name} · ${parts.join(" · ")}` });
    if (outcome.pruneError) {
      toast({ kind: "info", title: "The backup is safe, but retention failed", message: outcome.pruneError, timeout: 0 });
    }
    highlightAfterRefresh(outcome.name);
  } catch (e) {
    if (isCancelled(e)) toast({ kind: "info", title: "Backup cancelled", message: "Nothing was stored." });
    else errorToast("The backup failed", e);
  } finally {
    void refreshBackups(profile.name);
  }
}

/** The row of a new backup flashes once after the list reloads. */
let highlight: string | null = null;
function highlightAfterRefresh(name: string): void {
  highlight = name;
}
export function takeHighlight(): string | null {
  const h = highlight;
  highlight = null;
  return h;
}

/** Downloads through the native save dialog; the outcome, or null when it failed or was
 *  cancelled (a notice says which). */
export async function downloadBackup(profile: Profile, entry: Pick<BackupEntry, "name">): Promise<DownloadOutcome | null> {
  // Until the first event the native save dialog is open; dismissing it (or Cancel, which
  // closes it) is a `cancelled` error that needs no notice.
  let transferStarted = false;
  try {
    const outcome = await runJob(profile.name, "download", entry.name, (jobId, onEvent) =>
      api.downloadBackup(profile.name, entry.name, jobId, (event) => {
        transferStarted = true;
        onEvent(event);
      }),
    );
    const verified =
      outcome.checksumVerified === true ? "checksum verified" : outcome.checksumVerified === false ? "checksum not verified" : "no checksum recorded (legacy)";
    toast({
      kind: "success",
      title: "Download complete",
      message: `${outcome.path} · ${formatBytes(outcome.size)} · ${verified}`,
      timeout: 12000,
      action: { label: "Show in folder", testid: "show-in-folder", run: () => void api.showInFolder(outcome.path).catch((e) => errorToast("Could not open the folder", e)) },
    });
    return outcome;
  } catch (e) {
    if (isCancelled(e)) {
      if (transferStarted) {
        toast({
          kind: "info",
          title: "Download cancelled",
          message: `What arrived is kept as ${entry.name}.part in the folder you chose. Download again to the same folder to continue where it stopped.`,
        });
      }
    }
    else errorToast("The download failed", e);
    return null;
  }
}

/** A backup of the current state, then its download (the save dialog asks where): what to do
 *  before a restore where the server takes no safety backup. The download, or null. */
export async function backUpAndDownload(profile: Profile): Promise<DownloadOutcome | null> {
  let created: CreateOutcome;
  try {
    created = await runJob(profile.name, "create", null, (jobId, onEvent) => api.createBackup(profile.name, jobId, onEvent));
  } catch (e) {
    if (isCancelled(e)) toast({ kind: "info", title: "Backup cancelled", message: "Nothing was stored." });
    else errorToast("The backup of the current state failed", e);
    return null;
  } finally {
    void refreshBackups(profile.name);
  }
  return downloadBackup(profile, { name: created.name });
}

export function openDeleteModal(profile: Profile, entry: BackupEntry, isNewest: boolean): void {
  const where = describeProfile(profile);
  const modal = openModal({ title: "Delete this backup?", tone: "danger", size: "sm", testid: "delete-modal" });
  const confirm = button({ label: "Delete backup", variant: "danger", icon: "trash", testid: "delete-confirm" });
  const cancel = button({ label: "Cancel", variant: "secondary", testid: "delete-cancel", onClick: () => modal.close() });
  const errorSlot = h("div");
  modal.setBody(
    h(
      "p",
      { class: "modal-lead" },
      h("code", { class: "mono", text: entry.name }),
      ` (${formatBytes(entry.size)}, created ${formatLocalDateTime(entry.createdAt)}, ${ageOf(entry.createdAt, new Date())}) will be removed from `,
      h("strong", { text: where.storagePhrase }),
      " for good. This can't be undone.",
    ),
    isNewest ? callout("warning", "alert", h("p", { text: "This is the newest backup. Create a new one first if you still need a recent copy." })) : null,
    errorSlot,
  );
  modal.setFooter(cancel, confirm);
  modal.focus(cancel);
  confirm.addEventListener("click", async () => {
    const blocker = jobBlocker(profile.name);
    if (blocker) {
      errorSlot.replaceChildren(errorBox({ code: "busy", message: blocker }));
      return;
    }
    confirm.disabled = true;
    cancel.disabled = true;
    modal.setBusy(true);
    confirm.replaceChildren(spinner("Deleting"), h("span", { text: "Deleting…" }));
    try {
      await api.deleteBackup(profile.name, entry.name);
      modal.setBusy(false);
      modal.close();
      toast({ kind: "success", title: "Backup deleted", message: entry.name });
      void refreshBackups(profile.name);
    } catch (e) {
      modal.setBusy(false);
      cancel.disabled = false;
      confirm.disabled = false;
      confirm.replaceChildren(h("span", { text: "Try again" }));
      errorSlot.replaceChildren(errorBox(e));
    }
  });
}

export function openPruneModal(profile: Profile): void {
  const modal = openModal({ title: "Prune old backups", subtitle: "Retention deletes backups older than the retention period.", testid: "prune-modal" });
  const cancel = button({ label: "Cancel", variant: "secondary", testid: "prune-cancel", onClick: () => modal.close() });
  modal.setBody(h("div", { class: "loading-line" }, spinner(), h("span", { text: "Checking what retention would delete…" })));
  modal.setFooter(cancel);
  api
    .prune(profile.name, null)
    .then((plan) => {
      if (plan.deleted.length === 0) {
        modal.setBody(
          callout(
            "success",
            "check",
            h("p", { class: "callout-title", text: "Nothing to prune" }),
            h("p", {
              testid: "prune-nothing",
              text: `All ${plan.kept} backup${plan.kept === 1 ? " is" : "s are"} younger than ${plan.retentionDays} days, or protected as the newest.`,
            }),
          ),
        );
        cancel.querySelector("span")!.textContent = "Close";
        modal.focus(cancel);
        return;
      }
      const total = plan.deleted.reduce((s, b) => s + b.size, 0);
      const confirm = button({ label: `Delete ${plan.deleted.length} backup${plan.deleted.length === 1 ? "" : "s"}`, variant: "danger", icon: "trash", testid: "prune-confirm" });
      const errorSlot = h("div");
      modal.setBody(
        h(
          "p",
          { class: "modal-lead" },
          `These ${plan.deleted.length} backups are older than ${plan.retentionDays} days and would be deleted (${formatBytes(total)}). `,
          `${plan.kept} stay, including the newest of each database.`,
        ),
        h(
          "ul",
          { class: "plain-list", testid: "prune-list" },
          ...plan.deleted.map((b) =>
            h(
              "li",
              { class: "plain-list-item", testid: `prune-item-${b.name}` },
              h("code", { class: "mono", text: b.name }),
              h("span", { class: "muted", text: `${formatLocalDateTime(b.createdAt)} · ${ageOf(b.createdAt, new Date())} · ${formatBytes(b.size)}` }),
            ),
          ),
        ),
        errorSlot,
      );
      modal.setFooter(cancel, confirm);
      modal.focus(cancel);
      confirm.addEventListener("click", async () => {
        const blocker = jobBlocker(profile.name);
        if (blocker) {
          errorSlot.replaceChildren(errorBox({ code: "busy", message: blocker }));
          return;
        }
        confirm.disabled = true;
        cancel.disabled = true;
        modal.setBusy(true);
        try {
          const done = await api.prune(profile.name, plan.deleted.map((b) => b.name));
          modal.setBusy(false);
          modal.close();
          toast({ kind: "success", title: `Pruned ${done.deleted.length} backup${done.deleted.length === 1 ? "" : "s"}`, message: `${done.kept} kept.` });
          void refreshBackups(profile.name);
        } catch (e) {
          modal.setBusy(false);
          cancel.disabled = false;
          confirm.disabled = false;
          errorSlot.replaceChildren(errorBox(e));
        }
      });
    })
    .catch((e: unknown) => {
      modal.setBody(errorBox(e, [], "Could not work out what to prune"));
      modal.focus(cancel);
    });
}
