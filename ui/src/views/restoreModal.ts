// The restore dialog: step 1 says what will happen and takes the options the server has (it
// asks the server first: the RYTHM platform takes no safety backup, so step 1 says so and
// offers a download of the current state instead); step 2 asks for the target database's
// name before "Restore" enables; then progress; then the result with the safety backup and
// "Roll back" (which goes through the same two steps).

import * as api from "../api";
import type { PartialRestoreOutcome, RestoreFeatures, RestoreSummary, UiError } from "../bindings";
import type { Profile } from "../state";
import { ageOf, formatBytes, formatDuration, formatLocalDateTime } from "../lib/format";
import { fraction, phaseAnnouncement, phaseLabel, progressFigures } from "../lib/jobs";
import {
  ALL_FEATURES,
  DEFAULT_CHOICES,
  canContinue,
  canRestore,
  confirmationMatches,
  effectiveDatabase,
  expectedConfirmation,
  newDatabaseProblem,
  offeredOptions,
  restoreOptions,
  summaryOfLocal,
  superuserWarning,
  takesSafetyBackup,
  type RestoreChoices,
  type RestoreTarget,
} from "../lib/restore";
import { cancelJob, jobBlocker, jobs, refreshBackups, runJob } from "../state";
import { h, Scope, setDisabled, uid } from "../ui/dom";
import { icon } from "../ui/icons";
import { openModal, type Modal } from "../ui/modal";
import { toast } from "../ui/toast";
import { button, callout, checkbox, errorBox, facts, field, progressBar, segmented, spinner } from "../ui/widgets";
import { describeChoice, describeOutcome, partialInput, rollbackChoice, tableKey } from "../lib/partial";
import { backUpAndDownload } from "./actions";
import { outcomeTable } from "./partialView";

const TITLES: Record<RestoreTarget["kind"], string> = {
  backup: "Restore backup",
  local: "Restore a local copy",
  rollback: "Roll back the restore",
};

export function openRestoreModal(profile: Profile, target: RestoreTarget): Modal {
  const modal = openModal({ title: TITLES[target.kind], subtitle: "Step 1 of 2 · Review", testid: "restore-modal", tone: "danger", size: "md" });
  const choices: RestoreChoices = { ...DEFAULT_CHOICES };
  const scope = new Scope();
  // Subscriptions of the step on screen; replaced when the step changes.
  let stepScope = new Scope();
  const newStep = (): Scope => {
    stepScope.dispose();
    stepScope = new Scope();
    return stepScope;
  };
  let typed = "";
  let closed = false;
  /** A backup and download of the current state runs (started from step 1). */
  let savingCurrent: "running" | null = null;
  const originalClose = modal.close.bind(modal);
  modal.close = () => {
    closed = true;
    stepScope.dispose();
    scope.dispose();
    originalClose();
  };

  const dbLabel = (): string => effectiveDatabase(target, choices) ?? "the server's database";

  /** Asks the server what it does around a restore, then shows step 1. */
  function ask(): void {
    newStep();
    modal.setTitle(TITLES[target.kind], "Step 1 of 2 · Review");
    const cancel = button({ label: "Cancel", variant: "secondary", testid: "restore-cancel", onClick: () => modal.close() });
    modal.setBody(h("div", { class: "loading-line", testid: "restore-asking" }, spinner(), h("span", { text: `Asking ${target.server} what it does around a restore…` })));
    modal.setFooter(cancel);
    // The role is asked beside the features; not knowing it is no reason to stop.
    const role = api.restoringRole(profile.name).catch(() => null);
    api
      .restoreFeatures(profile.name)
      .then(async (features: RestoreFeatures) => {
        target.features = features;
        target.role = await role;
        if (!closed) step1();
      })
      .catch((e: unknown) => {
        if (closed) return;
        const again = button({ label: "Try again", variant: "secondary", testid: "restore-retry", onClick: () => ask() });
        modal.setBody(errorBox(e, [], "Could not ask the server what a restore does"));
        modal.setFooter(cancel, again);
      });
  }

  /** The offer that stands in for a safety backup the server does not take: a backup of the
   *  current state, downloaded through the save dialog, before continuing. */
  function currentStateOffer(s: Scope): HTMLElement {
    const status = h("p", { class: "muted small", testid: "restore-current-status", "aria-live": "polite" });
    const save = button({ label: "Back up and download the current state", variant: "secondary", icon: "download", testid: "restore-download-current" });
    const render = (): void => {
      const job = jobs.value[profile.name];
      if (!job || savingCurrent === null) return;
      status.textContent = job.cancelling ? "Cancelling…" : `${phaseLabel(job.progress.phase, job.progress.kind)}…`;
    };
    s.add(jobs.subscribe(render, false));
    save.addEventListener("click", async () => {
      savingCurrent = "running";
      save.disabled = true;
      status.textContent = "Backing up the current state…";
      const copy = await backUpAndDownload(profile);
      savingCurrent = null;
      if (closed) return;
      save.disabled = false;
      if (copy) {
        status.replaceChildren(icon("check", 14), h("span", { testid: "restore-current-saved", text: ` A copy of the current state is saved at ${copy.path}.` }));
      } else {
        status.textContent = "No copy was saved.";
      }
    });
    return h("div", { class: "stack-sm" }, save, status);
  }

  const partialWhat = (): string => (target.partial ? describeChoice(target.partial.choice) : "");

  /** Step 1 of a partial restore: what is replaced (and its preview), the safety backup. */
  function step1Partial(): void {
    const s = newStep();
    const offered = offeredOptions(target);
    modal.setTitle(target.kind === "rollback" ? "Roll back the partial restore" : "Restore part of a backup", "Step 1 of 2 · Review what will happen");
    const warning = h("div");
    const renderWarning = (): void => {
      warning.replaceChildren(
        callout(
          "danger",
          "alert",
          h("p", { class: "callout-title", testid: "restore-partial-what" }, "Only ", h("strong", { text: partialWhat() }), " in ", h("strong", { text: dbLabel() }), " are replaced by the backup's. Everything else stays as it is."),
          h("p", {
            testid: "restore-safety-note",
            text: takesSafetyBackup(target, choices)
              ? "A safety backup of the affected tables is taken first, so you can roll back afterwards."
              : "No safety backup will be taken: you will not be able to roll back.",
          }),
        ),
      );
    };
    renderWarning();
    const preview = target.partial?.preview;
    const safety = checkbox({
      label: "Skip the safety backup",
      testid: "restore-skip-safety",
      checked: choices.skipSafetyBackup,
      hint: "Not recommended: without it there is nothing to roll back to.",
      onChange: (c) => {
        choices.skipSafetyBackup = c;
        renderWarning();
      },
    });
    safety.root.hidden = !offered.skipSafetyBackup;
    const cont = button({ label: "Continue", variant: "primary", testid: "restore-continue" });
    const cancel = button({ label: "Cancel", variant: "secondary", testid: "restore-cancel", onClick: () => modal.close() });
    const update = (): void => setDisabled(cont, jobBlocker(profile.name));
    s.add(jobs.subscribe(update, false));
    cont.addEventListener("click", () => step2());
    modal.setBody(
      warning,
      facts([
        ["Backup", h("code", { class: "mono", testid: "restore-backup-name", text: target.name })],
        ["Target database", h("strong", { testid: "restore-target-db", text: dbLabel() })],
        ["Server", h("span", { testid: "restore-target-server", text: target.server })],
      ]),
      preview ? h("div", { class: "modal-section" }, h("h3", { class: "section-label", text: "Preview (nothing was changed)" }), outcomeTable(preview, "restore-preview")) : null,
      offered.skipSafetyBackup ? h("div", { class: "modal-section" }, h("h3", { class: "section-label", text: "Options" }), safety.root) : null,
    );
    modal.setFooter(cancel, cont);
    update();
    modal.focus(cont);
  }

  function step1(): void {
    if (!target.features) {
      ask();
      return;
    }
    if (target.partial) {
      step1Partial();
      return;
    }
    const s = newStep();
    const offered = offeredOptions(target);
    const noSafetyBackup = !target.features.safetyBackup;
    modal.setTitle(TITLES[target.kind], "Step 1 of 2 · Review what will happen");
    const into = choices.intoNew && target.direct;
    const warning = h("div");
    // Whether the restore runs as a superuser: asked with the features in API mode, here
    // for direct profiles (shown when the answer comes; not knowing stops nothing).
    const superuserNote = h("div");
    const renderRole = (): void => {
      const text = superuserWarning(target.role);
      superuserNote.replaceChildren(...(text ? [callout("warning", "alert", h("p", { testid: "restore-superuser-warning", text }))] : []));
    };
    renderRole();
    if (target.role === undefined) {
      target.role = null;
      void api
        .restoringRole(profile.name)
        .catch(() => null)
        .then((role) => {
          target.role = role;
          if (!closed) renderRole();
        });
    }
    const renderWarning = (): void => {
      const db = dbLabel();
      warning.replaceChildren(
        choices.intoNew && target.direct
          ? callout("info", "info", h("p", {}, "A new database ", h("strong", { text: choices.newDatabase.trim() || "…" }), " is created on ", h("strong", { text: target.server }), " and filled from this backup. ", h("strong", { text: target.database ?? "" }), " is not touched."))
          : callout(
              "danger",
              "alert",
              h("p", { class: "callout-title" }, "All current data in ", h("strong", { text: db }), " will be replaced."),
              h("p", {
                testid: "restore-safety-note",
                text: takesSafetyBackup(target, choices)
                  ? "A safety backup of the database is taken first, so you can roll back afterwards."
                  : noSafetyBackup
                    ? `${target.server} takes no safety backup before a restore: once replaced, the current data cannot be rolled back. Download a copy of the current state first.`
                    : "No safety backup will be taken: you will not be able to roll back.",
              }),
              noSafetyBackup ? currentStateOffer(s) : null,
            ),
        superuserNote,
      );
    };
    renderWarning();

    const factsEl = facts([
      [target.kind === "local" ? "File" : "Backup", h("code", { class: "mono", testid: "restore-backup-name", text: target.name })],
      ["Created", target.createdAt ? `${formatLocalDateTime(target.createdAt)} (${ageOf(target.createdAt, new Date())})` : "Unknown"],
      ["Target database", h("strong", { testid: "restore-target-db", text: dbLabel() })],
      ["Server", h("span", { testid: "restore-target-server", text: target.server })],
      ...(target.path ? ([["Path", h("span", { class: "mono small", text: target.path })]] as Array<[string, HTMLElement]>) : []),
    ]);

    const newDb = field({ label: "New database name", testid: "restore-new-db", value: choices.newDatabase, placeholder: `${target.database ?? "db"}_restored`, autocomplete: "off" });
    newDb.root.hidden = !into;
    const options = h("div", { class: "stack-sm" });
    if (target.direct) {
      const modeGroup = segmented({
        legend: "Restore into",
        name: uid("restore-into"),
        value: into ? "new" : "replace",
        style: "cards",
        options: [
          { value: "replace", label: `Replace ${target.database ?? "the database"}`, testid: "restore-mode-replace", icon: "restore", description: "Overwrite the profile's database" },
          { value: "new", label: "A new database", testid: "restore-into-new", icon: "plus", description: "Leave the current one untouched" },
        ],
        onChange: (v) => {
          choices.intoNew = v === "new";
          newDb.root.hidden = !choices.intoNew;
          safety.root.hidden = choices.intoNew || !offered.skipSafetyBackup;
          if (choices.intoNew) newDb.input.focus();
          update();
        },
      });
      options.append(modeGroup.root, newDb.root);
    }
    // Only what the server does something with is offered.
    const terminate = checkbox({
      label: "End other connections to the database first",
      testid: "restore-terminate",
      checked: choices.terminateConnections,
      hint: "Sessions still connected would block the restore.",
      onChange: (c) => (choices.terminateConnections = c),
    });
    const safety = checkbox({
      label: "Skip the safety backup",
      testid: "restore-skip-safety",
      checked: choices.skipSafetyBackup,
      hint: "Not recommended: without it there is nothing to roll back to.",
      onChange: (c) => {
        choices.skipSafetyBackup = c;
        update();
      },
    });
    safety.root.hidden = into || !offered.skipSafetyBackup;
    terminate.root.hidden = !offered.terminateConnections;
    options.append(terminate.root, safety.root);
    const hasOptions = target.direct || offered.skipSafetyBackup || offered.terminateConnections;

    const cont = button({ label: "Continue", variant: "primary", testid: "restore-continue" });
    const cancel = button({ label: "Cancel", variant: "secondary", testid: "restore-cancel", onClick: () => modal.close() });
    const update = (): void => {
      // The warning holds the download offer, whose status must survive job updates.
      if (!noSafetyBackup) renderWarning();
      const targetDb = factsEl.querySelector('[data-testid="restore-target-db"]');
      if (targetDb) targetDb.textContent = dbLabel();
      const problem = choices.intoNew && target.direct ? newDatabaseProblem(choices.newDatabase, target.database) : null;
      newDb.setError(choices.newDatabase.trim() && problem ? problem : null);
      setDisabled(cont, jobBlocker(profile.name) ?? (canContinue(target, choices) ? null : problem ?? "Complete the options first"));
    };
    s.add(jobs.subscribe(update, false));
    newDb.input.addEventListener("input", () => {
      choices.newDatabase = newDb.input.value;
      update();
    });
    cont.addEventListener("click", () => {
      if (canContinue(target, choices)) step2();
    });
    modal.setBody(warning, factsEl, hasOptions ? h("div", { class: "modal-section" }, h("h3", { class: "section-label", text: "Options" }), options) : null);
    modal.setFooter(cancel, cont);
    update();
    modal.focus(cont);
  }

  function step2(): void {
    const s = newStep();
    modal.setTitle(TITLES[target.kind], "Step 2 of 2 · Confirm");
    const confirmation = expectedConfirmation(target, choices);
    const expected = confirmation.text;
    const byBackupName = confirmation.kind === "backup";
    const database = effectiveDatabase(target, choices);
    const replaces = !(target.direct && choices.intoNew);
    const id = uid("confirm");
    const input = h("input", {
      id,
      class: "input input-confirm mono",
      type: "text",
      testid: "restore-confirm-input",
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      "aria-describedby": `${id}-hint ${id}-state`,
      props: { value: typed },
    });
    const state = h("p", { id: `${id}-state`, class: "confirm-state", "aria-live": "polite" });
    const submit = button({ label: replaces ? "Restore and replace data" : "Restore", variant: "danger", icon: "restore", testid: "restore-submit" });
    const back = button({ label: "Back", variant: "secondary", testid: "restore-back", onClick: () => step1() });
    const update = (): void => {
      typed = input.value;
      const ok = canRestore(target, choices, typed, jobBlocker(profile.name) !== null);
      const blocker = jobBlocker(profile.name);
      setDisabled(submit, ok ? null : blocker ?? `Type ${expected} to enable`);
      const matches = confirmationMatches(typed, expected);
      state.replaceChildren();
      state.className = `confirm-state${matches ? " ok" : ""}`;
      if (matches) state.append(icon("check", 14), " Name matches");
      else if (typed.trim()) state.append("Doesn't match yet");
    };
    input.addEventListener("input", update);
    // Another job of the profile starting or ending changes whether Restore may run.
    s.add(jobs.subscribe(update, false));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !submit.disabled) {
        e.preventDefault();
        submit.click();
      }
    });
    submit.addEventListener("click", () => {
      if (canRestore(target, choices, typed, jobBlocker(profile.name) !== null)) void run();
    });
    modal.setBody(
      target.partial
        ? h("p", { class: "modal-lead" }, "You are about to replace ", h("strong", { text: partialWhat() }), " in ", h("strong", { text: database ?? "the server's database" }), " on ", h("strong", { text: target.server }), " with the rows of ", h("code", { class: "mono", text: target.name }), ".")
        : h(
        "p",
        { class: "modal-lead" },
        replaces ? "You are about to replace all data in " : "You are about to create ",
        h("strong", { text: database ?? "the server's database" }),
        " on ",
        h("strong", { text: target.server }),
        " with ",
        h("code", { class: "mono", text: target.name }),
        target.createdAt ? ` from ${formatLocalDateTime(target.createdAt)}.` : ".",
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: id, class: "field-label" }, byBackupName ? "Type the backup's name " : "Type ", h("strong", { class: "mono confirm-name", text: expected }), " to confirm"),
        input,
        h("p", {
          id: `${id}-hint`,
          class: "field-hint",
          text: byBackupName
            ? "Exactly as shown. The server does not say which database it restores into, so the backup's name confirms instead."
            : "Exactly as shown, case-sensitive.",
        }),
        state,
      ),
    );
    modal.setFooter(back, submit);
    update();
    modal.focus(input);
  }

  async function run(): Promise<void> {
    newStep();
    const options = restoreOptions(target, choices, typed);
    modal.setTitle(TITLES[target.kind], "Restoring…");
    modal.setBusy(true);
    const phase = h("p", { class: "job-phase", testid: "restore-phase" });
    const bar = progressBar("restore-progress");
    const figures = h("p", { class: "job-figures", testid: "restore-figures" });
    const live = h("p", { class: "sr-only", "aria-live": "polite" });
    const cancel = button({ label: "Cancel restore", variant: "secondary", testid: "restore-job-cancel", icon: "x" });
    cancel.addEventListener("click", () => {
      cancel.disabled = true;
      void cancelJob(profile.name);
    });
    modal.setBody(
      h("div", { class: "job-inline", testid: "restore-running" }, phase, bar.root, figures, live),
      h("p", { class: "muted small", text: "The restore runs in one transaction: if it fails or is cancelled, the database stays as it was." }),
    );
    modal.setFooter(cancel);
    let lastAnnounced = "";
    const render = (): void => {
      const job = jobs.value[profile.name];
      if (!job) return;
      const p = job.progress;
      phase.textContent = job.cancelling ? "Cancelling…" : phaseLabel(p.phase, p.kind);
      const f = fraction(p);
      bar.set(f, f === null ? phase.textContent : `${Math.round(f * 100)}%`);
      figures.textContent = progressFigures(p, Date.now()).join(" · ");
      const say = phaseAnnouncement(p);
      if (say !== lastAnnounced) {
        lastAnnounced = say;
        live.textContent = say;
      }
    };
    scope.add(jobs.subscribe(render, false));
    scope.interval(render, 1000);
    const kind = target.kind === "local" ? "restore-local" : target.kind === "rollback" ? "rollback" : "restore";
    const partial = target.partial;
    if (partial) {
      try {
        const input = partialInput(partial.choice, false, typed, target.features ?? ALL_FEATURES, choices.skipSafetyBackup);
        const outcome = await runJob(profile.name, kind, target.name, (jobId, onEvent) => api.partialRestore(profile.name, target.name, input, jobId, onEvent));
        scope.dispose();
        modal.setBusy(false);
        donePartial(outcome);
        void refreshBackups(profile.name);
      } catch (e) {
        scope.dispose();
        modal.setBusy(false);
        failed(e);
      }
      return;
    }
    try {
      const summary = await runJob(profile.name, kind, target.name, (jobId, onEvent) =>
        target.kind === "local" && target.path
          ? api.restoreLocalCopy(profile.name, target.path, options, jobId, onEvent).then((o) => summaryOfLocal(target.name, o))
          : api.restoreBackup(profile.name, target.name, options, jobId, onEvent),
      );
      scope.dispose();
      modal.setBusy(false);
      done(summary);
      void refreshBackups(profile.name);
    } catch (e) {
      scope.dispose();
      modal.setBusy(false);
      failed(e);
    }
  }

  function done(summary: RestoreSummary): void {
    modal.setTitle(target.kind === "rollback" ? "Rolled back" : "Restore complete", "");
    const db = summary.database ?? effectiveDatabase(target, choices) ?? "the server's database";
    const rows: Array<[string, HTMLElement | string]> = [
      ["Backup", h("code", { class: "mono", text: summary.name })],
      ["Database", h("strong", { text: db })],
    ];
    if (summary.durationMs !== null) rows.push(["Took", formatDuration(summary.durationMs)]);
    if (summary.bytes !== null) rows.push(["Read", formatBytes(summary.bytes)]);
    if (summary.checksumVerified !== null) rows.push(["Checksum", summary.checksumVerified ? "Verified" : "Not verified"]);
    if (summary.terminatedSessions) rows.push(["Sessions ended", String(summary.terminatedSessions)]);
    if (summary.createdDatabase) rows.push(["New database", "Created"]);
    const safetyName = summary.safetyBackup;
    const close = button({ label: "Done", variant: "primary", testid: "restore-close", onClick: () => modal.close() });
    const rollback = safetyName ? rollbackButton(safetyName, summary.database ?? target.database) : null;
    modal.setBody(
      callout(
        "success",
        "check",
        h("p", { class: "callout-title", testid: "restore-result", text: `${target.kind === "rollback" ? "Rolled back" : "Restored"} ${db} from ${summary.name}.` }),
        summary.message ? h("p", { text: summary.message }) : null,
      ),
      facts(rows),
      safetyName
        ? safetyBox(safetyName, "Safety backup taken before the restore", "If the restored data is not what you expected, roll back to it.")
        : h("p", {
            class: "muted small",
            testid: "restore-no-safety-backup",
            text:
              summary.noSafetyBackup === "not-offered"
                ? `No safety backup was taken: ${target.server} takes none before a restore.`
                : "No safety backup was taken.",
          }),
    );
    modal.setFooter(rollback, close);
    modal.focus(close);
    toast({ kind: "success", title: target.kind === "rollback" ? "Rolled back" : "Restore complete", message: `${db} now holds ${summary.name}.` });
  }

  /** "Roll back": the restore of `safetyName` into `database` (with a partial choice). */
  function rollbackButton(safetyName: string, database: RestoreTarget["database"], partial?: RestoreTarget["partial"]): HTMLButtonElement {
    const back = { kind: "rollback", name: safetyName, createdAt: new Date().toISOString(), database, server: target.server, direct: target.direct, features: target.features } as const;
    const onClick = (): void => {
      modal.close();
      openRestoreModal(profile, partial ? { ...back, partial } : back);
    };
    return button({ label: "Roll back", variant: "secondary", icon: "restore", testid: "rollback", onClick });
  }

  function safetyBox(safetyName: string, title: string, note: string): HTMLElement {
    return h(
      "div",
      { class: "safety-box" },
      h("span", { class: "safety-icon" }, icon("shield", 18)),
      h("div", {}, h("p", { class: "safety-title", text: title }), h("code", { class: "mono", testid: "safety-backup-name", text: safetyName }), h("p", { class: "muted small", text: note })),
    );
  }

  function donePartial(outcome: PartialRestoreOutcome): void {
    const rolledBack = target.kind === "rollback";
    modal.setTitle(rolledBack ? "Rolled back" : "Restore complete", "");
    const safetyName = outcome.safetyBackup;
    const back = rollbackChoice(outcome);
    const close = button({ label: "Done", variant: "primary", testid: "restore-close", onClick: () => modal.close() });
    const rollback = safetyName && back ? rollbackButton(safetyName, outcome.database, { choice: back, preview: null }) : null;
    modal.setBody(
      callout(
        "success",
        "check",
        h("p", { class: "callout-title", testid: "restore-result", text: `${rolledBack ? "Rolled back" : "Restored"} ${partialWhat()} in ${outcome.database}.` }),
      ),
      outcomeTable(outcome, "restore-partial-result"),
      safetyName
        ? safetyBox(
            safetyName,
            "Safety backup of the affected tables, taken before the restore",
            back ? `Roll back restores ${describeChoice(back)} from it.` : `It holds ${outcome.safetyTables.map(tableKey).join(", ")}.`,
          )
        : h("p", { class: "muted small", testid: "restore-no-safety-backup", text: "No safety backup was taken." }),
    );
    modal.setFooter(rollback, close);
    modal.focus(close);
    toast({ kind: "success", title: rolledBack ? "Rolled back" : "Restore complete", message: describeOutcome(outcome) });
  }

  function failed(e: unknown): void {
    const err = e as UiError;
    const cancelled = err?.code === "cancelled";
    modal.setTitle(cancelled ? "Restore cancelled" : "Restore failed", "");
    const again = button({ label: "Back to options", variant: "secondary", testid: "restore-retry", onClick: () => step1() });
    const close = button({ label: "Close", variant: "primary", testid: "restore-close", onClick: () => modal.close() });
    // Offline with a local copy: the safety backup is what needs the storage.
    const offlineHint =
      !cancelled && err?.code === "unreachable" && takesSafetyBackup(target, choices)
        ? callout(
            "info",
            "info",
            h("p", {
              testid: "restore-offline-hint",
              text: "The safety backup is written to the backup storage, which can't be reached. To restore without it (offline), go back to the options and tick “Skip the safety backup”.",
            }),
          )
        : null;
    modal.setBody(
      cancelled
        ? callout("info", "info", h("p", { text: "The restore was cancelled. The database is unchanged." }))
        : errorBox(e, [], "The restore did not complete"),
      ...(offlineHint ? [offlineHint] : []),
    );
    modal.setFooter(again, close);
    modal.focus(close);
  }

  step1();
  return modal;
}
