// The page header every screen starts with.

import { jobBlocker, jobs } from "../state";
import { h, Scope, type Child } from "../ui/dom";
import { icon } from "../ui/icons";

export function pageHeader(o: { title: string; subtitle?: Child; actions?: Child[]; testid?: string }): HTMLElement {
  return h(
    "header",
    { class: "page-header", testid: o.testid },
    h("div", { class: "page-heading" }, h("h1", { class: "page-title", text: o.title, id: "page-title" }), o.subtitle ? h("p", { class: "page-subtitle" }, o.subtitle) : null),
    o.actions?.length ? h("div", { class: "page-actions" }, ...o.actions) : null,
  );
}

/** A visible line saying why actions are disabled while the profile runs a job. */
export function busyNote(scope: Scope, profile: string): HTMLElement {
  const el = h("p", { class: "busy-note", testid: "busy-reason", role: "status", hidden: true });
  const render = (): void => {
    const reason = jobBlocker(profile);
    el.hidden = !reason;
    el.replaceChildren(icon("info", 15), h("span", { text: reason ?? "" }));
  };
  scope.add(jobs.subscribe(render, false));
  render();
  return el;
}
