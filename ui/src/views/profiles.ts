// Connections: the saved profiles, with test, sign in / out, switch and remove.

import * as api from "../api";
import type { Profile } from "../state";
import { formatLocalDateTime } from "../lib/format";
import { activeName, describeProfile, jobBlocker, loadProfiles, markSignedOut, profiles, refusedSessions, setActive, signedIn } from "../state";
import { h, replace, Scope, setDisabled } from "../ui/dom";
import { icon } from "../ui/icons";
import { openModal } from "../ui/modal";
import { errorToast, toast } from "../ui/toast";
import { badge, button, errorBox } from "../ui/widgets";
import { connectionChecks } from "./connectionChecks";
import { pageHeader } from "./page";

function confirmRemove(p: Profile): void {
  const modal = openModal({ title: `Remove “${p.name}”?`, tone: "danger", size: "sm", testid: "remove-profile-modal" });
  const cancel = button({ label: "Cancel", variant: "secondary", testid: "remove-cancel", onClick: () => modal.close() });
  const confirm = button({ label: "Remove profile", variant: "danger", testid: "remove-confirm" });
  const slot = h("div");
  modal.setBody(
    h("p", { class: "modal-lead", text: "The profile and its secrets are removed from this computer. The backups themselves are not touched, and you can add the profile again later." }),
    slot,
  );
  modal.setFooter(cancel, confirm);
  modal.focus(cancel);
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await api.removeProfile(p.name);
      modal.close();
      toast({ kind: "success", title: "Profile removed", message: p.name });
      await loadProfiles();
      if (profiles.value.length === 0) location.hash = "#/welcome";
    } catch (e) {
      confirm.disabled = false;
      slot.replaceChildren(errorBox(e));
    }
  });
}

export function profilesPage(scope: Scope): HTMLElement {
  const list = h("div", { class: "profile-list" });
  const page = h(
    "section",
    { class: "page page-narrow", "aria-labelledby": "page-title" },
    pageHeader({
      title: "Connections",
      subtitle: "Each profile is one place with backups: a backup server, or a database and its storage.",
      actions: [h("a", { class: "btn btn-primary", href: "#/profiles/new", testid: "add-profile" }, icon("plus", 16), h("span", { text: "Add profile" }))],
    }),
    list,
  );

  function card(p: Profile): HTMLElement {
    const d = describeProfile(p);
    const active = activeName.value === p.name;
    const isSignedIn = signedIn(p);
    const checksSlot = h("div");
    const test = button({
      label: "Test connection",
      variant: "secondary",
      icon: "zap",
      size: "sm",
      testid: `test-connection-${p.name}`,
      onClick: () => {
        const checks = connectionChecks(p.name);
        replace(checksSlot, checks.root);
      },
    });
    const actions: HTMLElement[] = [test];
    if (!active) actions.push(button({ label: "Use", variant: "secondary", size: "sm", testid: `use-profile-${p.name}`, onClick: () => { setActive(p.name); location.hash = "#/backups"; } }));
    if (p.mode.type === "api") {
      if (!isSignedIn) {
        actions.push(h("a", { class: "btn btn-secondary btn-sm", href: "#/backups", testid: `sign-in-${p.name}`, on: { click: () => setActive(p.name) } }, icon("key", 15), h("span", { text: "Sign in" })));
      } else {
        const out = button({
          label: "Sign out",
          variant: "ghost",
          icon: "logOut",
          size: "sm",
          testid: `sign-out-${p.name}`,
          onClick: async () => {
            try {
              await api.signOut(p.name);
              markSignedOut(p.name);
              await loadProfiles().catch(() => undefined);
              toast({ kind: "success", title: "Signed out", message: `The session token for ${p.name} was removed from the keychain.` });
            } catch (e) {
              errorToast("Could not sign out", e);
            }
          },
        });
        setDisabled(out, jobBlocker(p.name));
        actions.push(out);
      }
    }
    const edit = button({ label: "Edit", variant: "secondary", icon: "pencil", size: "sm", testid: `edit-profile-${p.name}`, onClick: () => (location.hash = `#/profiles/edit/${encodeURIComponent(p.name)}`) });
    setDisabled(edit, jobBlocker(p.name));
    actions.push(edit);
    const remove = button({ label: "Remove", variant: "danger-ghost", icon: "trash", size: "sm", testid: `remove-profile-${p.name}`, onClick: () => confirmRemove(p) });
    setDisabled(remove, jobBlocker(p.name));
    actions.push(remove);

    const sessionLine =
      p.mode.type !== "api"
        ? null
        : !isSignedIn
          ? h("p", { class: "small text-warning", testid: `session-${p.name}` }, icon("key", 13), p.session?.expiresAt && Date.parse(p.session.expiresAt) < Date.now() ? ` Sign-in expired ${formatLocalDateTime(p.session.expiresAt)}` : ` Not signed in (${p.mode.email})`)
          : h(
              "p",
              { class: "small text-success", testid: `session-${p.name}` },
              icon("check", 13),
              ` Signed in as ${p.session?.email ?? p.mode.email}${p.session?.role ? ` (${p.session.role})` : ""}${p.session?.expiresAt ? ` until ${formatLocalDateTime(p.session.expiresAt)}` : ""}`,
            );

    return h(
      "article",
      { class: `card profile-card${active ? " is-active" : ""}`, testid: `profile-card-${p.name}`, "aria-label": p.name },
      h(
        "div",
        { class: "profile-card-head" },
        h("span", { class: "profile-avatar", "aria-hidden": "true" }, icon(p.mode.type === "api" ? "server" : "database", 18)),
        h(
          "div",
          { class: "min0" },
          h("h2", { class: "profile-card-title" }, h("span", { text: p.name }), badge(d.mode, "accent"), active ? badge("In use", "success") : null),
          h("p", { class: "mono small muted ellipsis", text: d.target, title: d.target }),
          d.storage ? h("p", { class: "small muted ellipsis", text: d.storage, title: d.storage }) : null,
          sessionLine,
          h("p", { class: "small muted", text: `Keeps ${p.settings.retentionDays} days · ${p.settings.format} · ${p.settings.compression}` }),
        ),
      ),
      h("div", { class: "profile-card-actions" }, ...actions),
      checksSlot,
    );
  }

  const render = (): void => replace(list, ...profiles.value.map(card));
  scope.add(profiles.subscribe(render, false));
  scope.add(refusedSessions.subscribe(render, false));
  scope.add(activeName.subscribe(render, false));
  render();
  return page;
}
