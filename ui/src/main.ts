// Boots the app: theme, settings, profiles, then the hash router that mounts one page at a time
// into the sidebar layout (or the first-run welcome when there is no profile yet).

import "./styles.css";

import * as api from "./api";
import type { SettingsView } from "./bindings";
import { JOB_TITLES, fraction } from "./lib/jobs";
import { activeName, activeProfile, adoptRunningJobs, describeProfile, jobs, loadProfiles, profiles, refusedSessions, setActive, settings, signedIn } from "./state";
import { applyTheme } from "./theme";
import { h, replace, Scope } from "./ui/dom";
import { icon, type IconName } from "./ui/icons";
import { errorToast } from "./ui/toast";
import { button, errorBox } from "./ui/widgets";
import { activityPage } from "./views/activity";
import { backupsPage } from "./views/backups";
import { jobDock } from "./views/jobDock";
import { localCopiesPage } from "./views/localCopies";
import { profileForm } from "./views/profileForm";
import { profilesPage } from "./views/profiles";
import { schedulePage } from "./views/schedule";
import { needsUnlock, refreshSecretStore, secretStore, unlockSecrets, welcomeStoreNote } from "./views/secretStore";
import { settingsPage } from "./views/settings";

const FALLBACK_SETTINGS: SettingsView = {
  settings: { theme: "system", defaults: { retentionDays: 10, format: "plain", compression: "zstd" } },
  logDir: "",
  profilesFile: "",
  version: "",
};

interface Route {
  path: string;
  label: string;
  icon: IconName;
  testid: string;
  usesProfile: boolean;
  render: (scope: Scope) => HTMLElement;
}

function needProfile(render: (scope: Scope, p: NonNullable<ReturnType<typeof activeProfile>>) => HTMLElement) {
  return (scope: Scope): HTMLElement => {
    const p = activeProfile();
    return p ? render(scope, p) : h("p", { text: "Choose a profile." });
  };
}

const ROUTES: Route[] = [
  { path: "/backups", label: "Backups", icon: "archive", testid: "nav-backups", usesProfile: true, render: needProfile(backupsPage) },
  { path: "/local", label: "Local copies", icon: "hardDrive", testid: "nav-local", usesProfile: true, render: (s) => localCopiesPage(s, activeProfile()) },
  { path: "/schedule", label: "Schedule", icon: "clock", testid: "nav-schedule", usesProfile: true, render: needProfile(schedulePage) },
  { path: "/activity", label: "Activity", icon: "activity", testid: "nav-activity", usesProfile: false, render: activityPage },
  { path: "/profiles", label: "Connections", icon: "users", testid: "nav-profiles", usesProfile: false, render: profilesPage },
  { path: "/settings", label: "Settings", icon: "sliders", testid: "nav-settings", usesProfile: true, render: (s) => settingsPage(s, activeProfile()) },
];

const NEW_PROFILE: Route = {
  path: "/profiles/new",
  label: "Add profile",
  icon: "plus",
  testid: "",
  usesProfile: false,
  render: (scope) =>
    h(
      "section",
      { class: "page page-narrow" },
      h("div", { class: "card form-card" }, profileForm(scope, { onCancel: () => history.back(), onDone: () => (location.hash = "#/backups") })),
    ),
};

/** `#/profiles/edit/NAME`: the profile form for an existing profile. */
const EDIT_PROFILE_PREFIX = "/profiles/edit/";

function editProfileRoute(path: string): Route {
  const name = decodeURIComponent(path.slice(EDIT_PROFILE_PREFIX.length));
  return {
    path,
    label: "Edit profile",
    icon: "pencil",
    testid: "",
    usesProfile: false,
    render: (scope) => {
      const profile = profiles.value.find((p) => p.name === name);
      return h(
        "section",
        { class: "page page-narrow" },
        h(
          "div",
          { class: "card form-card" },
          profile
            ? profileForm(scope, { editing: profile, onCancel: () => history.back(), onDone: () => (location.hash = "#/profiles") })
            : h("p", { class: "muted", testid: "edit-profile-missing", text: `There is no profile named “${name}”.` }),
        ),
      );
    },
  };
}

const app = document.getElementById("app")!;
let shell: { main: HTMLElement; page: HTMLElement; nav: Map<string, HTMLAnchorElement>; scope: Scope } | null = null;
let pageScope = new Scope();
let currentRoute: Route | null = null;

function currentPath(): string {
  const path = location.hash.replace(/^#/, "");
  return path || "/backups";
}

function brand(): HTMLElement {
  return h(
    "div",
    { class: "brand" },
    h("span", { class: "brand-mark", "aria-hidden": "true" }, icon("database", 18)),
    h("span", { class: "brand-text" }, h("span", { class: "brand-name", text: "RYTHM" }), h("span", { class: "brand-sub", text: "Backup Admin" })),
  );
}

function profileSwitcher(scope: Scope): HTMLElement {
  const select = h("select", { id: "profile-select", class: "input select profile-select", testid: "profile-select" });
  const status = h("div", { class: "profile-status", testid: "profile-status" });
  const add = h("a", { class: "btn-icon", href: "#/profiles/new", "aria-label": "Add a profile", "data-tooltip": "Add a profile", testid: "sidebar-add-profile" }, icon("plus", 16));
  select.addEventListener("change", () => setActive(select.value));
  const render = (): void => {
    replace(select, ...profiles.value.map((p) => h("option", { value: p.name, text: jobs.value[p.name] ? `${p.name} (busy)` : p.name })));
    select.value = activeName.value ?? "";
    const p = activeProfile();
    if (!p) return status.replaceChildren();
    const d = describeProfile(p);
    const out = !signedIn(p);
    status.replaceChildren(
      h("span", { class: "status-line" }, h("span", { class: `dot ${out ? "dot-warn" : "dot-ok"}` }), h("span", { class: "status-mode", text: d.mode === "API" ? "Backup server" : "Direct" })),
      h("span", { class: "status-target mono", text: d.target, title: d.target }),
    );
    if (out) {
      status.append(h("a", { class: "status-signin", href: "#/backups", text: "Sign in required" }));
    }
  };
  scope.add(profiles.subscribe(render, false));
  scope.add(activeName.subscribe(render, false));
  scope.add(refusedSessions.subscribe(render, false));
  let busyKey = "";
  scope.add(
    jobs.subscribe(() => {
      const key = Object.keys(jobs.value).sort().join(",");
      if (key !== busyKey) {
        busyKey = key;
        render();
      }
    }, false),
  );
  render();
  return h(
    "div",
    { class: "switcher" },
    h("div", { class: "switcher-head" }, h("label", { for: "profile-select", class: "sidebar-label", text: "Profile" }), add),
    select,
    status,
  );
}

/** Jobs of profiles other than the active one, so they are not forgotten. */
function backgroundJobs(scope: Scope): HTMLElement {
  const root = h("div", { class: "bg-jobs", "aria-live": "polite" });
  const render = (): void => {
    const others = Object.values(jobs.value).filter((j) => j.profile !== activeName.value);
    replace(
      root,
      ...others.map((j) => {
        const f = fraction(j.progress);
        return h(
          "button",
          { type: "button", class: "bg-job", on: { click: () => setActive(j.profile) }, title: `Switch to ${j.profile}` },
          h("span", { class: "spinner spinner-sm", "aria-hidden": "true" }),
          h("span", { class: "bg-job-text", text: `${j.profile}: ${JOB_TITLES[j.kind]}${f !== null ? ` ${Math.round(f * 100)}%` : ""}` }),
        );
      }),
    );
  };
  scope.add(jobs.subscribe(render, false));
  scope.add(activeName.subscribe(render, false));
  render();
  return root;
}

function mountShell(): NonNullable<typeof shell> {
  if (shell) return shell;
  const scope = new Scope();
  const nav = new Map<string, HTMLAnchorElement>();
  const links = ROUTES.map((r) => {
    const a = h("a", { href: `#${r.path}`, class: "nav-link", testid: r.testid }, icon(r.icon, 17), h("span", { text: r.label }));
    nav.set(r.path, a);
    return h("li", {}, a);
  });
  const page = h("div", { class: "page-host" });
  const main = h("main", { id: "main", class: "main", tabindex: "-1" }, jobDock(scope), page);
  const version = settings.value?.version;
  const sidebar = h(
    "aside",
    { class: "sidebar" },
    brand(),
    profileSwitcher(scope),
    h("nav", { class: "nav", "aria-label": "Main" }, h("ul", {}, ...links)),
    h("div", { class: "sidebar-spacer" }),
    backgroundJobs(scope),
    h("div", { class: "sidebar-foot" }, h("span", { class: "muted small", text: version ? `Version ${version}` : "" })),
  );
  replace(app, h("a", { class: "skip-link", href: "#main", on: { click: (e) => { e.preventDefault(); main.focus(); } } }, "Skip to content"), h("div", { class: "layout" }, sidebar, main));
  shell = { main, page, nav, scope };
  return shell;
}

function unmountShell(): void {
  shell?.scope.dispose();
  shell = null;
}

function welcome(): HTMLElement {
  const feature = (name: IconName, title: string, text: string): HTMLElement =>
    h("li", { class: "feature" }, h("span", { class: "feature-icon" }, icon(name, 18)), h("div", {}, h("p", { class: "feature-title", text: title }), h("p", { class: "muted small", text })));
  return h(
    "main",
    { class: "welcome", id: "main", tabindex: "-1", testid: "welcome" },
    h(
      "div",
      { class: "welcome-card" },
      brand(),
      h("h1", { class: "welcome-title", text: "Backups you can trust, restores you can undo." }),
      h("p", { class: "welcome-lead", text: "Create, download and restore the RYTHM platform's PostgreSQL backups in Azure Blob Storage — through the backup server, or straight from the database." }),
      h(
        "ul",
        { class: "features" },
        feature("archive", "Every backup at a glance", "Size, checksum, author and when retention removes it."),
        feature("shield", "Safe restores", "Two confirmations and a safety backup you can roll back to."),
        secretStore.value?.kind === "encrypted-file"
          ? feature("key", "Secrets stay encrypted", "Passwords and tokens never appear again once entered.")
          : feature("key", "Secrets stay in your keychain", "Passwords and tokens never appear again once entered."),
      ),
      welcomeStoreNote(secretStore.value),
      h("div", { class: "welcome-actions" }, h("a", { class: "btn btn-primary btn-lg", href: "#/profiles/new", testid: "add-profile" }, icon("plus", 18), h("span", { text: "Add a connection profile" }))),
    ),
  );
}

function firstRunForm(scope: Scope): HTMLElement {
  return h(
    "main",
    { class: "welcome", id: "main", tabindex: "-1" },
    h("div", { class: "welcome-card welcome-form" }, brand(), profileForm(scope, { onCancel: () => (location.hash = "#/welcome"), onDone: () => (location.hash = "#/backups") })),
  );
}

function route(focusTitle: boolean): void {
  pageScope.dispose();
  pageScope = new Scope();
  const path = currentPath();
  if (profiles.value.length === 0) {
    unmountShell();
    currentRoute = null;
    replace(app, path === "/profiles/new" ? firstRunForm(pageScope) : welcome());
    if (focusTitle) app.querySelector<HTMLElement>("h1, h2")?.setAttribute("tabindex", "-1");
    return;
  }
  const r =
    path === NEW_PROFILE.path
      ? NEW_PROFILE
      : path.startsWith(EDIT_PROFILE_PREFIX)
        ? editProfileRoute(path)
        : ROUTES.find((x) => x.path === path) ?? ROUTES[0]!;
  currentRoute = r;
  const s = mountShell();
  for (const [p, a] of s.nav) {
    if (p === r.path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  let el: HTMLElement;
  try {
    el = r.render(pageScope);
  } catch (e) {
    console.error(e);
    el = errorBox({ code: "internal", message: String(e) }, [], "This page failed to open");
  }
  replace(s.page, el);
  document.title = `${r.label} · RYTHM Backup Admin`;
  if (focusTitle) {
    const title = s.page.querySelector<HTMLElement>("h1");
    if (title) {
      title.setAttribute("tabindex", "-1");
      title.focus({ preventScroll: true });
    }
    s.main.scrollTop = 0;
  }
}

async function boot(): Promise<void> {
  applyTheme("system");
  replace(app, h("div", { class: "boot", role: "status" }, h("span", { class: "spinner" }), h("span", { text: "Starting…" })));
  try {
    const view = await api.getSettings();
    settings.set(view);
    applyTheme(view.settings.theme);
  } catch (e) {
    settings.set(FALLBACK_SETTINGS);
    errorToast("Could not read the settings; using the defaults", e);
  }
  // Where secrets are kept (the first screen says so when it is not the OS keychain); a command
  // that finds the encrypted file locked asks for its master password, then runs again.
  api.setLockedHandler(unlockSecrets);
  await refreshSecretStore();
  try {
    await loadProfiles();
  } catch (e) {
    replace(
      app,
      h(
        "main",
        { class: "welcome", id: "main" },
        h("div", { class: "welcome-card" }, brand(), errorBox(e, [button({ label: "Try again", variant: "primary", icon: "refresh", testid: "retry-boot", onClick: () => void boot() })], "The saved profiles could not be read")),
      ),
    );
    return;
  }
  window.addEventListener("hashchange", () => route(true));
  // A page that shows the active profile is redrawn when it changes (switched, re-saved or
  // signed in), and only then.
  let shown = JSON.stringify(activeProfile());
  const redraw = (): void => {
    const now = JSON.stringify(activeProfile());
    if (now === shown) return;
    shown = now;
    if (shell && currentRoute?.usesProfile) route(false);
  };
  activeName.subscribe(redraw, false);
  profiles.subscribe(redraw, false);
  profiles.subscribe((list) => {
    // The last profile removed: back to the welcome screen.
    if (list.length === 0 && shell) route(true);
  }, false);
  route(false);
  void adoptRunningJobs();
  if (needsUnlock(secretStore.value)) void unlockSecrets();
}

void boot();
