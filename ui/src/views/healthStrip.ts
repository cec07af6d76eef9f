// The health strip at the top of the Backups page: last successful backup and its age, the
// last verification, the next scheduled run (API mode: the server's schedule), and a stale
// warning in plain words.

import * as api from "../api";
import type { BackupEntry } from "../bindings";
import type { Profile } from "../state";
import { healthStrip } from "../lib/health";
import { h } from "../ui/dom";
import { icon } from "../ui/icons";

/** The strip's element and a function that redraws it from the current entries. */
export function healthStripView(profile: Profile): { root: HTMLElement; update: (entries: BackupEntry[] | null) => void } {
  const root = h("section", { class: "health-strip", testid: "health-strip", "aria-label": "Backup health", hidden: true });
  let nextRunAt: string | null = null;
  let last: BackupEntry[] | null = null;
  function update(entries: BackupEntry[] | null): void {
    last = entries;
    if (!entries) {
      root.hidden = true;
      return;
    }
    const strip = healthStrip(entries, nextRunAt, new Date());
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
  if (profile.mode.type === "api") {
    void api
      .getSchedule(profile.name)
      .then((s) => {
        nextRunAt = s.enabled ? (s.next_run_at ?? null) : null;
        update(last);
      })
      .catch(() => {});
  }
  return { root, update };
}
