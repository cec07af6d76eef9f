// The Backups page: the table (sort, filter, refresh), its empty / loading / error states, the
// sign-in prompt when an API session expired, and the create / download / restore / delete
// and prune actions.

import * as api from "../api";
import type { BackupEntry, RestoreFeatures } from "../bindings";
import type { Profile } from "../state";
import { ageOf, formatBytes, formatExpiry, formatLocalDateTime, formatUtcDateTime } from "../lib/format";
import { partialUnavailable } from "../lib/partial";
import { ALL_FEATURES, targetFor } from "../lib/restore";
import { checksumState, DEFAULT_SORT, nextSort, totalSize, visibleEntries, type SortKey, type SortState } from "../lib/table";
import { afterSignIn, backups, describeProfile, jobBlocker, jobs, refreshBackups, type ListState } from "../state";
import { h, replace, Scope, setDisabled, uid } from "../ui/dom";
import { icon } from "../ui/icons";
import { badge, button, emptyState, errorBox, field } from "../ui/widgets";
import { createBackup, downloadBackup, openDeleteModal, openPruneModal, takeHighlight } from "./actions";
import { pageHeader } from "./page";
import { healthStripView } from "./healthStrip";
import { openContents } from "./contentsModal";
import { openPartialRestore } from "./partialRestore";
import { openRestoreModal } from "./restoreModal";
import { verifiedTd, verifyBackup } from "./verify";

/** The name, allowed to wrap after its `rythm-backup-` prefix when the table is narrow. */
export function nameText(name: string, title = name): HTMLElement {
  const el = h("span", { class: "mono name", title });
  const cut = name.startsWith("rythm-backup-") ? "rythm-backup-".length : -1;
  if (cut > 0) el.append(h("span", { class: "nowrap", text: name.slice(0, cut) }), h("wbr"), h("span", { class: "nowrap", text: name.slice(cut) }));
  else el.append(name);
  return el;
}

interface Column {
  key: SortKey | null;
  label: string;
  cls?: string;
}

const COLUMNS: Column[] = [
  { key: "name", label: "Name", cls: "col-name" },
  { key: "createdAt", label: "Created", cls: "col-created" },
  { key: "size", label: "Size", cls: "col-num" },
  { key: "format", label: "Format" },
  { key: "checksum", label: "Checksum" },
  { key: null, label: "Verified", cls: "col-verified" },
  { key: "expiresAt", label: "Expires" },
  { key: "createdBy", label: "Created by" },
  { key: null, label: "Actions", cls: "col-actions" },
];

// The filter and sort survive switching pages.
const viewState: { filter: string; sort: SortState } = { filter: "", sort: DEFAULT_SORT };

/** What each profile's server does around a restore (asked once): whether "Contents" and
 *  "Restore part…" are offered. A direct profile does everything. */
const featuresOf = new Map<string, RestoreFeatures>();

export function backupsPage(scope: Scope, profile: Profile): HTMLElement {
  const where = describeProfile(profile);
  const createBtn = button({ label: "Create backup", variant: "primary", icon: "plus", testid: "create-backup", onClick: () => void createBackup(profile) });
  const refreshBtn = button({ label: "Refresh", variant: "secondary", icon: "refresh", testid: "refresh", onClick: () => void refreshBackups(profile.name) });
  const pruneBtn = button({ label: "Prune now", variant: "secondary", icon: "scissors", testid: "prune", onClick: () => openPruneModal(profile) });

  const busyNote = h("p", { class: "busy-note", testid: "busy-reason", role: "status", hidden: true });

  const filter = field({ label: "Filter backups", testid: "backup-filter", type: "search", placeholder: "Filter by name, format, author…", value: viewState.filter });
  filter.root.classList.add("filter-field");
  filter.root.querySelector("label")?.classList.add("sr-only");
  filter.root.prepend(h("span", { class: "filter-icon" }, icon("search", 15)));
  const summary = h("p", { class: "table-summary", testid: "backup-count", "aria-live": "polite" });
  const toolbar = h("div", { class: "toolbar" }, filter.root, summary);

  const content = h("div", { class: "table-area" });
  const health = healthStripView(profile);

  const subtitle = h(
    "span",
    { class: "subtitle-parts" },
    h("span", { class: "badge badge-accent", text: where.mode }),
    h("span", { class: "mono small", text: where.target }),
    where.storage ? h("span", { class: "sep", text: "→" }) : null,
    where.storage ? h("span", { class: "small", text: where.storage }) : null,
  );

  const page = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    pageHeader({ title: "Backups", subtitle, actions: [refreshBtn, pruneBtn, createBtn] }),
    health.root,
    busyNote,
    toolbar,
    content,
  );

  const directOnly = profile.mode.type !== "direct";
  const server = profile.mode.type === "direct" ? `${profile.mode.database.host}:${profile.mode.database.port}` : profile.mode.baseUrl;
  if (profile.mode.type === "direct") featuresOf.set(profile.name, ALL_FEATURES);
  else if (!featuresOf.has(profile.name)) {
    api
      .restoreFeatures(profile.name)
      .then((f) => {
        featuresOf.set(profile.name, f);
        render();
      })
      .catch(() => {
        // Unknown: the dialogs ask again and say why when they cannot go on.
      });
  }

  function renderButtons(): void {
    const blocker = jobBlocker(profile.name);
    const state = backups.value[profile.name];
    const signIn = state?.status === "error" && state.error.code === "auth_required" ? "Sign in first: the server no longer accepts this app's session." : null;
    setDisabled(createBtn, blocker ?? signIn);
    setDisabled(
      pruneBtn,
      blocker ?? (directOnly ? "In API mode the server applies retention itself after each scheduled backup (see Schedule)." : null),
    );
    busyNote.hidden = !blocker;
    busyNote.replaceChildren(icon("info", 15), h("span", { text: blocker ?? "" }));
  }

  function sortHeader(col: Column): HTMLTableCellElement {
    const th = h("th", { scope: "col", class: col.cls });
    if (!col.key) {
      th.append(h("span", { class: col.cls === "col-actions" ? "sr-only" : undefined, text: col.label }));
      return th;
    }
    const key = col.key;
    const active = viewState.sort.key === key;
    th.setAttribute("aria-sort", active ? (viewState.sort.dir === "asc" ? "ascending" : "descending") : "none");
    const btn = h(
      "button",
      {
        type: "button",
        class: `sort${active ? " active" : ""}`,
        testid: `sort-${key}`,
        on: {
          click: () => {
            viewState.sort = nextSort(viewState.sort, key);
            render();
            content.querySelector<HTMLButtonElement>(`[data-testid="sort-${key}"]`)?.focus();
          },
        },
      },
      h("span", { text: col.label }),
      icon(active ? (viewState.sort.dir === "asc" ? "chevronUp" : "chevronDown") : "chevronsUpDown", 13),
    );
    th.append(btn);
    return th;
  }

  function row(entry: BackupEntry, newest: string | null, highlight: string | null): HTMLTableRowElement {
    const now = new Date();
    const blocker = jobBlocker(profile.name);
    const expiry = formatExpiry(entry.expiresAt, now);
    const sum = checksumState(entry);
    const dl = button({ label: `Download ${entry.name}`, tooltip: "Download…", icon: "download", iconOnly: true, testid: `download-${entry.name}`, size: "sm", onClick: () => void downloadBackup(profile, entry) });
    const rs = button({
      label: `Restore ${entry.name}`,
      tooltip: "Restore…",
      icon: "restore",
      iconOnly: true,
      testid: `restore-${entry.name}`,
      size: "sm",
      onClick: () => openRestoreModal(profile, targetFor(profile, "backup", entry.name, entry.createdAt, entry.database)),
    });
    const vf = button({ label: `Verify ${entry.name}`, tooltip: "Verify: restore into a scratch database and compare rows", icon: "shield", iconOnly: true, testid: `verify-${entry.name}`, size: "sm", onClick: () => void verifyBackup(profile, entry) });
    const features = featuresOf.get(profile.name) ?? null;
    const contents = button({
      label: `Contents of ${entry.name}`,
      tooltip: "Contents…",
      icon: "table",
      iconOnly: true,
      testid: `contents-${entry.name}`,
      size: "sm",
      onClick: () => openContents(profile, entry, server, features),
    });
    const part = button({
      label: `Restore part of ${entry.name}`,
      tooltip: "Restore part…",
      icon: "layers",
      iconOnly: true,
      testid: `restore-part-${entry.name}`,
      size: "sm",
      onClick: () => openPartialRestore(profile, entry, server),
    });
    const del = button({
      label: `Delete ${entry.name}`,
      tooltip: "Delete…",
      icon: "trash",
      iconOnly: true,
      variant: "danger",
      testid: `delete-${entry.name}`,
      size: "sm",
      onClick: () => openDeleteModal(profile, entry, entry.name === newest),
    });
    for (const b of [dl, rs, vf, del]) setDisabled(b, blocker);
    setDisabled(contents, blocker ?? partialUnavailable(features, server, "contents"));
    setDisabled(part, blocker ?? partialUnavailable(features, server, "partial"));
    const kindBadge = entry.type === "pre-restore" ? badge("safety", "warning", { title: "Taken automatically before a restore, to roll back with" }) : null;
    const kindText = entry.type === "pre-restore" ? "before a restore" : entry.type === "unknown" ? "origin unknown" : entry.type;
    // The server's word on a backup that did not complete (the RYTHM platform's `status`).
    const statusBadge =
      entry.status && entry.status !== "completed" ? badge(entry.status, "danger", { title: `The server reports this backup as ${entry.status}` }) : null;
    const tr = h(
      "tr",
      { testid: `backup-row-${entry.name}`, class: entry.name === highlight ? "row-new" : undefined },
      h(
        "td",
        { class: "col-name" },
        h(
          "div",
          { class: "name-cell" },
          nameText(entry.name),
          kindBadge,
          statusBadge,
          entry.legacy ? badge("legacy", "muted", { title: "In this store without our metadata (written by the RYTHM platform or the old scripts)" }) : null,
        ),
      ),
      h(
        "td",
        { class: "col-created" },
        h("div", { class: "two-line" }, h("span", { class: "num", text: formatLocalDateTime(entry.createdAt), title: formatUtcDateTime(entry.createdAt) }), h("span", { class: "muted small", text: ageOf(entry.createdAt, now) })),
      ),
      h("td", { class: "col-num num", title: entry.rawSize !== null ? `${formatBytes(entry.rawSize)} before compression` : undefined, text: formatBytes(entry.size) }),
      h(
        "td",
        { class: "col-format" },
        h("div", { class: "two-line" }, h("span", { text: entry.format === "custom" ? "Custom" : "Plain SQL" }), h("span", { class: "muted small", text: entry.compression, title: entry.compression === "none" ? "Not compressed" : `Compressed with ${entry.compression}` })),
      ),
      h(
        "td",
        {},
        sum === "recorded"
          ? h("span", { class: "badge badge-success", testid: `checksum-${entry.name}`, title: `sha256 ${entry.sha256 ?? ""}` }, icon("shield", 12), "sha256")
          : sum === "legacy"
            ? h("span", { class: "badge badge-muted", testid: `checksum-${entry.name}`, title: "No checksum recorded: a legacy backup is checked by its content only" }, "none")
            : h(
                "span",
                { class: "muted small", testid: `checksum-${entry.name}`, title: "This server records no checksum for its backups (the RYTHM platform keeps none): downloads and restores are checked by their content only" },
                "not recorded by the server",
              ),
      ),
      verifiedTd(entry, now),
      h("td", { class: `expiry expiry-${expiry.tone}`, testid: `expiry-${entry.name}`, title: `Retention deletes it after ${formatLocalDateTime(entry.expiresAt)}${entry.name === newest ? " — but the newest backup is always kept" : ""}` }, expiry.text, entry.name === newest && expiry.tone === "due" ? h("span", { class: "muted small", text: " (kept: newest)" }) : null),
      h(
        "td",
        { class: "col-by" },
        h("div", { class: "two-line" }, h("span", { class: entry.createdBy ? "ellipsis" : "muted", text: entry.createdBy ?? "—", title: entry.createdBy ?? undefined }), h("span", { class: "muted small", text: kindText })),
      ),
      h("td", { class: "col-actions" }, h("div", { class: "row-actions" }, dl, contents, rs, part, vf, del)),
    );
    return tr;
  }

  function skeleton(): HTMLElement {
    return h(
      "div",
      { class: "table-wrap", "aria-busy": "true", testid: "backups-loading" },
      h("p", { class: "sr-only", role: "status", text: "Loading backups…" }),
      h(
        "table",
        { class: "table" },
        h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", { class: c.cls, text: c.key ? c.label : "" })))),
        h("tbody", {}, ...Array.from({ length: 6 }, () => h("tr", { class: "skeleton-row" }, ...COLUMNS.map(() => h("td", {}, h("span", { class: "skeleton" })))))),
      ),
    );
  }

  function signInCard(): HTMLElement {
    if (profile.mode.type !== "api") return h("div");
    const baseUrl = profile.mode.baseUrl;
    const email = profile.mode.email;
    const pw = field({ label: "Password", testid: "signin-password", type: "password", autocomplete: "current-password", required: true });
    const submit = button({ label: "Sign in", variant: "primary", testid: "signin-submit", type: "submit" });
    const errorSlot = h("div");
    const form = h(
      "form",
      {
        class: "card signin-card",
        testid: "signin-form",
        on: {
          submit: async (e) => {
            e.preventDefault();
            if (!pw.input.value) {
              pw.setError("Enter your password.");
              pw.input.focus();
              return;
            }
            pw.setError(null);
            submit.disabled = true;
            errorSlot.replaceChildren();
            try {
              await api.signIn(profile.name, pw.input.value);
              pw.input.value = "";
              await afterSignIn(profile.name);
              void refreshBackups(profile.name);
            } catch (err) {
              errorSlot.replaceChildren(errorBox(err, [], undefined, "sign-in"));
              submit.disabled = false;
              pw.input.select();
            }
          },
        },
      },
      h("div", { class: "card-icon" }, icon("key", 20)),
      h("h2", { class: "card-title", text: "Sign in again" }),
      h("p", { class: "muted", text: `Your session with ${baseUrl} has ended. Sign in as ${email} to see and manage its backups.` }),
      pw.root,
      errorSlot,
      h("div", { class: "form-actions" }, submit),
    );
    queueMicrotask(() => pw.input.focus());
    return form;
  }

  let lastState: ListState | undefined;
  function render(): void {
    renderButtons();
    const state = backups.value[profile.name] ?? { status: "idle" };
    lastState = state;
    const entries = "entries" in state ? state.entries : null;
    health.update(entries);
    if (state.status === "error" && state.error.code === "auth_required" && profile.mode.type === "api") {
      summary.textContent = "";
      toolbar.hidden = true;
      replace(content, signInCard());
      return;
    }
    toolbar.hidden = false;
    if (!entries) {
      summary.textContent = "";
      if (state.status === "error") {
        replace(
          content,
          errorBox(state.error, [button({ label: "Try again", variant: "secondary", icon: "refresh", testid: "retry-list", onClick: () => void refreshBackups(profile.name) })], "Could not list the backups"),
        );
      } else {
        replace(content, skeleton());
      }
      return;
    }
    const errorBanner =
      state.status === "error"
        ? errorBox(state.error, [button({ label: "Try again", variant: "secondary", icon: "refresh", testid: "retry-list", onClick: () => void refreshBackups(profile.name) })], "Showing the last list: refreshing failed")
        : null;
    if (entries.length === 0) {
      summary.textContent = "";
      const blocker = jobBlocker(profile.name);
      const first = button({ label: "Create the first backup", variant: "primary", icon: "plus", testid: "create-backup-empty", onClick: () => void createBackup(profile) });
      setDisabled(first, blocker);
      replace(
        content,
        errorBanner,
        emptyState({
          icon: "archive",
          title: state.status === "loading" ? "Loading…" : "No backups yet",
          text:
            profile.mode.type === "direct"
              ? `Nothing is stored in ${where.storagePhrase} yet. Create a backup now: it runs pg_dump and stores the result there.`
              : `${where.target} has no backups yet. Create one now, or enable the daily schedule.`,
          actions: [first],
          testid: "backups-empty",
        }),
      );
      return;
    }
    const shown = visibleEntries(entries, viewState.filter, viewState.sort);
    summary.textContent =
      shown.length === entries.length
        ? `${entries.length} backup${entries.length === 1 ? "" : "s"} · ${formatBytes(totalSize(entries))}`
        : `${shown.length} of ${entries.length} backups`;
    const newest = entries.reduce<BackupEntry | null>((a, b) => (!a || Date.parse(b.createdAt) > Date.parse(a.createdAt) ? b : a), null)?.name ?? null;
    const highlight = state.status === "ready" ? takeHighlight() : null;
    if (shown.length === 0) {
      replace(
        content,
        errorBanner,
        emptyState({
          icon: "search",
          title: "No matching backups",
          text: `No backup matches “${viewState.filter}”.`,
          actions: [
            button({
              label: "Clear filter",
              variant: "secondary",
              testid: "clear-filter",
              onClick: () => {
                viewState.filter = "";
                filter.input.value = "";
                render();
                filter.input.focus();
              },
            }),
          ],
          testid: "backups-no-match",
        }),
      );
      return;
    }
    const captionId = uid("caption");
    replace(
      content,
      errorBanner,
      h(
        "div",
        { class: "table-wrap", "aria-busy": state.status === "loading" ? "true" : "false" },
        h(
          "table",
          { class: "table", testid: "backups-table", "aria-describedby": captionId },
          h("caption", { class: "sr-only", id: captionId, text: "Backups; use the column headers to sort." }),
          h("thead", {}, h("tr", {}, ...COLUMNS.map(sortHeader))),
          h("tbody", {}, ...shown.map((e) => row(e, newest, highlight))),
        ),
        state.status === "loading" ? h("div", { class: "table-loading-bar", "aria-hidden": "true" }) : null,
      ),
    );
  }

  filter.input.addEventListener("input", () => {
    viewState.filter = filter.input.value;
    render();
  });
  filter.input.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && filter.input.value) {
      e.preventDefault();
      filter.input.value = "";
      viewState.filter = "";
      render();
    }
  });

  scope.add(backups.subscribe(() => {
    if (backups.value[profile.name] !== lastState) render();
  }, false));
  // Buttons follow the job state; rebuilding rows is cheap but would steal focus, so only
  // re-render when whether a job runs changes.
  let wasBusy = jobBlocker(profile.name);
  scope.add(
    jobs.subscribe(() => {
      const now = jobBlocker(profile.name);
      if (now !== wasBusy) {
        wasBusy = now;
        const focused = document.activeElement?.getAttribute("data-testid");
        render();
        if (focused) page.querySelector<HTMLElement>(`[data-testid="${CSS.escape(focused)}"]`)?.focus();
      }
    }, false),
  );
  // Ages and expiry move on.
  scope.interval(() => {
    if (!page.contains(document.activeElement) || document.activeElement === filter.input) render();
  }, 60_000);

  render();
  const current = backups.value[profile.name];
  if (!current || current.status === "idle" || (current.status === "ready" && Date.now() - current.loadedAt > 30_000) || current.status === "error") {
    void refreshBackups(profile.name);
  }
  return page;
}
