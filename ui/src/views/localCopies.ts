// Local copies: backups downloaded to this computer, restorable without reaching storage.

import * as api from "../api";
import type { LocalCopy } from "../bindings";
import type { Profile } from "../state";
import { ageOf, dirName, formatBytes, formatLocalDateTime } from "../lib/format";
import { targetFor } from "../lib/restore";
import { jobBlocker, jobs } from "../state";
import { h, replace, Scope, setDisabled } from "../ui/dom";
import { icon } from "../ui/icons";
import { errorToast } from "../ui/toast";
import { badge, button, emptyState, errorBox } from "../ui/widgets";
import { nameText } from "./backups";
import { busyNote, pageHeader } from "./page";
import { openRestoreModal } from "./restoreModal";

export function localCopiesPage(scope: Scope, profile: Profile | null): HTMLElement {
  const content = h("div", { class: "table-area" });
  const refresh = button({ label: "Refresh", variant: "secondary", icon: "refresh", testid: "refresh-local", onClick: () => void load() });
  const page = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    pageHeader({ title: "Local copies", subtitle: "Backups downloaded to this computer. Restore one without reaching the storage.", actions: [refresh] }),
    profile ? busyNote(scope, profile.name) : null,
    content,
  );
  let copies: LocalCopy[] | null = null;

  function restoreBlocker(copy: LocalCopy): string | null {
    if (!profile) return "Add a direct-mode profile to restore files.";
    if (profile.mode.type !== "direct") return `Restoring a file needs a direct-mode profile (the app runs psql itself); “${profile.name}” uses a backup server. Switch profiles in the sidebar.`;
    if (!copy.exists) return "The file was moved or deleted since it was downloaded.";
    return jobBlocker(profile.name);
  }

  function render(): void {
    if (copies === null) {
      replace(content, h("div", { class: "loading-line" }, h("span", { class: "spinner" }), h("span", { text: "Loading local copies…" })));
      return;
    }
    if (copies.length === 0) {
      replace(
        content,
        emptyState({ icon: "folder", title: "No local copies yet", text: "Download a backup from the Backups page; it appears here and can be restored offline.", testid: "local-empty", actions: [h("a", { class: "btn btn-secondary", href: "#/backups", text: "Go to Backups" })] }),
      );
      return;
    }
    const now = new Date();
    replace(
      content,
      profile && profile.mode.type !== "direct"
        ? h("p", { class: "busy-note", role: "note" }, icon("info", 15), h("span", { text: `Restoring a file needs a direct-mode profile; “${profile.name}” uses a backup server.` }))
        : null,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table", testid: "local-table" },
          h("caption", { class: "sr-only", text: "Downloaded backup files" }),
          h(
            "thead",
            {},
            h("tr", {}, ...["File", "Folder", "Size", "Downloaded", "Checksum", "From"].map((t) => h("th", { scope: "col", text: t })), h("th", { scope: "col", class: "col-actions" }, h("span", { class: "sr-only", text: "Actions" }))),
          ),
          h(
            "tbody",
            {},
            ...copies.map((c) => {
              const reason = restoreBlocker(c);
              const restore = button({
                label: "Restore…",
                size: "sm",
                variant: "secondary",
                testid: `restore-local-${c.name}`,
                onClick: () => {
                  if (!profile) return;
                  openRestoreModal(profile, targetFor(profile, "local", c.name, null, null, c.path));
                },
              });
              setDisabled(restore, reason);
              const show = button({
                label: `Show ${c.name} in its folder`,
                tooltip: "Show in folder",
                icon: "folder",
                iconOnly: true,
                size: "sm",
                testid: `show-in-folder-${c.name}`,
                onClick: () => void api.showInFolder(c.path).catch((e) => errorToast("Could not open the folder", e)),
              });
              setDisabled(show, c.exists ? null : "The file is no longer there.");
              const forget = button({
                label: `Remove ${c.name} from this list`,
                tooltip: "Remove from the list (the file stays)",
                icon: "x",
                iconOnly: true,
                size: "sm",
                testid: `forget-local-${c.name}`,
                onClick: async () => {
                  try {
                    await api.removeFromList(c.path);
                    await load();
                  } catch (e) {
                    errorToast("Could not update the list", e);
                  }
                },
              });
              return h(
                "tr",
                { testid: `local-row-${c.name}`, class: c.exists ? undefined : "row-missing" },
                h("td", { class: "col-name" }, h("div", { class: "name-cell" }, nameText(c.name, c.path), c.exists ? null : badge("missing", "warning", { title: "The file was moved or deleted since it was downloaded" }))),
                h("td", { class: "mono small ellipsis path-cell", title: c.path, text: dirName(c.path) }),
                h("td", { class: "num nowrap", text: formatBytes(c.size) }),
                h("td", {}, h("div", { class: "two-line" }, h("span", { class: "num", text: formatLocalDateTime(c.downloadedAt) }), h("span", { class: "muted small", text: ageOf(c.downloadedAt, now) }))),
                h("td", {}, c.checksumVerified ? h("span", { class: "badge badge-success" }, icon("shield", 12), "verified") : badge(c.sha256 ? "recorded" : "none", "muted")),
                h("td", { class: "nowrap", text: c.profile }),
                h("td", { class: "col-actions" }, h("div", { class: "row-actions" }, show, restore, forget)),
              );
            }),
          ),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    refresh.disabled = true;
    try {
      copies = await api.listLocalCopies();
      render();
    } catch (e) {
      replace(content, errorBox(e, [button({ label: "Try again", variant: "secondary", onClick: () => void load(), testid: "retry-local" })], "Could not list the local copies"));
    } finally {
      refresh.disabled = false;
    }
  }

  if (profile) {
    let was = jobBlocker(profile.name);
    scope.add(
      jobs.subscribe(() => {
        const now = jobBlocker(profile.name);
        if (now !== was) {
          was = now;
          // A finished download adds a file.
          if (!now) void load();
          else render();
        }
      }, false),
    );
  }
  render();
  void load();
  return page;
}
