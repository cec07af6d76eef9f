// The activity log: what this app did, when, for which profile, and how it ended.

import * as api from "../api";
import type { Action, ActivityEntry, ActivityResult } from "../bindings";
import { humanize } from "../lib/errors";
import { ageOf, formatLocalDateTime } from "../lib/format";
import { h, replace, Scope } from "../ui/dom";
import { icon } from "../ui/icons";
import { button, emptyState, errorBox } from "../ui/widgets";
import { pageHeader } from "./page";

const ACTIONS: Record<Action, string> = {
  "create-backup": "Create backup",
  "download-backup": "Download",
  "restore-backup": "Restore",
  "restore-local-copy": "Restore local copy",
  "preview-restore": "Preview a restore",
  "delete-backup": "Delete backup",
  prune: "Prune",
  "sign-in": "Sign in",
  "sign-out": "Sign out",
  "save-profile": "Save profile",
  "remove-profile": "Remove profile",
  "set-schedule": "Change schedule",
  "install-update": "Install update",
  "verify-backup": "Verify backup",
};

export function actionLabel(action: Action | string): string {
  return (ACTIONS as Record<string, string>)[action] ?? action.replace(/[-_]/g, " ").replace(/^./, (c) => c.toUpperCase());
}

const RESULTS: Record<ActivityResult, { text: string; cls: string; icon: "check" | "x" | "info" }> = {
  ok: { text: "Succeeded", cls: "badge-success", icon: "check" },
  failed: { text: "Failed", cls: "badge-danger", icon: "x" },
  cancelled: { text: "Cancelled", cls: "badge-muted", icon: "info" },
};

export function activityPage(scope: Scope): HTMLElement {
  const content = h("div", { class: "table-area" });
  const refresh = button({ label: "Refresh", variant: "secondary", icon: "refresh", testid: "refresh-activity", onClick: () => void load() });
  const page = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    pageHeader({ title: "Activity", subtitle: "Everything this app did, newest first.", actions: [refresh] }),
    content,
  );
  void scope;

  function render(entries: ActivityEntry[]): void {
    if (!entries.length) {
      replace(content, emptyState({ icon: "activity", title: "Nothing yet", text: "Backups, downloads, restores and deletions you run from this app are listed here.", testid: "activity-empty" }));
      return;
    }
    const now = new Date();
    replace(
      content,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", testid: "activity-table" },
          h("caption", { class: "sr-only", text: "Activity log" }),
          h("thead", {}, h("tr", {}, ...["Time", "Profile", "Action", "Result"].map((t) => h("th", { scope: "col", text: t })))),
          h(
            "tbody",
            {},
            ...entries.map((e) =>
              h(
                "tr",
                { testid: "activity-row" },
                h("td", { class: "col-created" }, h("div", { class: "two-line" }, h("span", { class: "num", text: formatLocalDateTime(e.time, true) }), h("span", { class: "muted small", text: ageOf(e.time, now) }))),
                h("td", { class: e.profile ? undefined : "muted", text: e.profile ?? "—" }),
                h("td", { text: actionLabel(e.action) }),
                h(
                  "td",
                  { class: "result-cell" },
                  h("span", { class: `badge ${RESULTS[e.result].cls}`, "data-result": e.result }, icon(RESULTS[e.result].icon, 12), RESULTS[e.result].text),
                  e.message ? h("p", { class: `small result-message ${e.result === "failed" ? "text-danger" : "muted"}`, text: e.message, title: e.code ? humanize({ code: e.code, message: e.message }).message : undefined }) : null,
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    refresh.disabled = true;
    try {
      render(await api.listActivity());
    } catch (e) {
      replace(content, errorBox(e, [button({ label: "Try again", variant: "secondary", onClick: () => void load() })], "Could not read the activity log"));
    } finally {
      refresh.disabled = false;
    }
  }
  replace(content, h("div", { class: "loading-line" }, h("span", { class: "spinner" }), h("span", { text: "Loading…" })));
  void load();
  return page;
}
