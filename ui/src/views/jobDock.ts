// The progress card of the active profile's running job, above every page: phase, bar, bytes
// dumped and uploaded, rate, elapsed, and Cancel. Phase changes are announced politely.

import { fraction, JOB_TITLES, phaseAnnouncement, phaseLabel, progressFigures } from "../lib/jobs";
import { activeName, cancelJob, jobs } from "../state";
import { h, Scope } from "../ui/dom";
import { icon } from "../ui/icons";
import { button, progressBar } from "../ui/widgets";

export function jobDock(scope: Scope): HTMLElement {
  const title = h("p", { class: "job-title", testid: "job-title" });
  const subject = h("p", { class: "job-subject mono small" });
  const phase = h("span", { class: "job-phase", testid: "job-phase" });
  const bar = progressBar("job-progress");
  const figures = h("p", { class: "job-figures", testid: "job-figures" });
  const live = h("p", { class: "sr-only", "aria-live": "polite", testid: "job-live" });
  const cancel = button({ label: "Cancel", variant: "secondary", icon: "x", size: "sm", testid: "job-cancel" });
  const root = h(
    "section",
    { class: "job-dock", testid: "job-dock", "aria-label": "Running job", hidden: true },
    h("div", { class: "job-icon" }, h("span", { class: "pulse" }), icon("upload", 18)),
    h("div", { class: "job-main" }, h("div", { class: "job-head" }, h("div", { class: "min0" }, title, subject), h("div", { class: "job-head-right" }, phase, cancel)), bar.root, figures),
    live,
  );
  let lastSaid = "";
  let jobIcon = "";

  function render(): void {
    const name = activeName.value;
    const job = name ? jobs.value[name] : undefined;
    // Restores show their progress in their own dialog.
    if (!job || job.kind === "restore" || job.kind === "restore-local" || job.kind === "rollback") {
      root.hidden = true;
      if (lastSaid && !job) {
        live.textContent = "";
        lastSaid = "";
      }
      return;
    }
    root.hidden = false;
    const p = job.progress;
    const iconName = job.kind === "create" ? "upload" : "download";
    if (iconName !== jobIcon) {
      jobIcon = iconName;
      root.querySelector(".job-icon svg")?.replaceWith(icon(iconName, 18));
    }
    title.textContent = JOB_TITLES[job.kind];
    subject.textContent = p.subject ?? "";
    subject.hidden = !p.subject;
    phase.textContent = job.cancelling ? "Cancelling…" : p.retry ? `Connection lost — retrying (attempt ${p.retry.attempt})` : phaseLabel(p.phase, p.kind);
    const f = fraction(p);
    bar.set(f, f === null ? phase.textContent : `${Math.round(f * 100)}%`);
    figures.textContent = progressFigures(p, Date.now()).join("  ·  ");
    cancel.disabled = job.cancelling;
    cancel.onclick = () => void cancelJob(job.profile);
    const say = phaseAnnouncement(p);
    if (say !== lastSaid) {
      lastSaid = say;
      live.textContent = say;
    }
  }
  scope.add(jobs.subscribe(render, false));
  scope.add(activeName.subscribe(render, false));
  scope.interval(render, 1000);
  render();
  return root;
}
