// The health strip at the top of the Backups page: last successful backup and its age, the
// last verification, the next scheduled run (API mode: the server's schedule), and a stale
// warning in plain words. The facts come from the engine (`backup_freshness`), asked again
// whenever the list changes; this view only shows them.

import * as api from "../api";
import type { BackupEntry, Freshness } from "../bindings";
import type { Profile } from "../state";
import { healthStrip } from "../lib/health";
import { h } from "../ui/dom";
import { icon } from "../ui/icons";

/** The strip's element and a function that redraws it when the list's entries change. */
export function healthStripView(profile: Profile): { root: HTMLElement; update: (entries: BackupEntry[] | null) => void } {
  const root = h("section", { class: "health-strip", testid: "health-strip", "aria-label": "Backup health", hidden: true });
  let nextRunAt: string | null = null;
  let freshness: Freshness | null = null;
  let shownFor: BackupEntry[] | null = null;
  // Only the answer to the latest request is shown: a slow one never overwrites a newer.
  let asked = 0;

  function render(): void {
    if (!freshness) {
      root.hidden = true;
      return;
    }
    const strip = healthStrip(freshness, nextRunAt, new Date());
    root.hidden = false;
    root.className = `health-strip health-${strip.tone}`;
    root.replaceChildren(
      h(
        "p",
        { class: "health-headline", testid: "health-headline", role: strip.stale ? "alert" : undefined },
        icon(strip.tone === "ok" ? "check" : "alert", 16),
        h("span", { text: strip.headline }),
      ),
      h(
        "dl",
        { class: "health-items" },
        ...strip.items.flatMap((item) => [h("dt", { text: item.label }), h("dd", { class: `health-${item.tone}`, text: item.text })]),
      ),
    );
  }

  function update(entries: BackupEntry[] | null): void {
    if (!entries) {
      shownFor = null;
      freshness = null;
      asked += 1;
      render();
      return;
    }
    if (entries === shownFor) return;
    shownFor = entries;
    const request = ++asked;
    void api
      .backupFreshness(profile.name)
      .then((f) => {
        if (request !== asked) return;
        freshness = f;
        render();
      })
      .catch(() => {
        // The list shows its own error; a strip that cannot be computed is not shown.
        if (request !== asked) return;
        freshness = null;
        render();
      });
  }

  if (profile.mode.type === "api") {
    void api
      .getSchedule(profile.name)
      .then((s) => {
        nextRunAt = s.enabled ? (s.next_run_at ?? null) : null;
        render();
      })
      .catch(() => {});
  }
  return { root, update };
}
