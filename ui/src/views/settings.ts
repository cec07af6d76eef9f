// Settings: theme, the backup defaults new profiles start with, the active profile's own
// backup settings, updates, where secrets are kept, and the log folder.

import * as api from "../api";
import type { Settings, Theme, UpdateInfo } from "../bindings";
import type { Profile } from "../state";
import { formatBytes, formatLocalDateTime } from "../lib/format";
import { loadProfiles, settings } from "../state";
import { applyTheme } from "../theme";
import { h, replace, Scope, uid } from "../ui/dom";
import { icon } from "../ui/icons";
import { errorToast, toast } from "../ui/toast";
import { button, callout, errorBox, field, progressBar, segmented, selectField, spinner } from "../ui/widgets";
import { pageHeader } from "./page";
import { secretStoreSettings } from "./secretStore";
import { COMPRESSION_OPTIONS, FORMAT_OPTIONS } from "./profileForm";

async function persist(next: Settings): Promise<boolean> {
  try {
    const view = await api.saveSettings(next);
    settings.set(view);
    return true;
  } catch (e) {
    errorToast("Could not save the settings", e);
    return false;
  }
}

function section(title: string, description: string, ...body: HTMLElement[]): HTMLElement {
  const id = uid("sec");
  return h(
    "section",
    { class: "settings-section", "aria-labelledby": id },
    h("div", { class: "settings-intro" }, h("h2", { id, class: "settings-title", text: title }), h("p", { class: "muted small", text: description })),
    h("div", { class: "settings-body card" }, ...body),
  );
}

function retentionOk(value: string): boolean {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 3650;
}

export function settingsPage(scope: Scope, profile: Profile | null): HTMLElement {
  const view = settings.value;
  const page = h("section", { class: "page page-narrow", "aria-labelledby": "page-title" }, pageHeader({ title: "Settings" }));
  if (!view) {
    page.append(errorBox({ code: "internal", message: "The settings could not be loaded." }));
    return page;
  }
  const current = view.settings;

  // Appearance
  const theme = segmented<Theme>({
    legend: "Theme",
    name: uid("theme"),
    value: current.theme,
    options: [
      { value: "light", label: "Light", testid: "theme-light", icon: "sun" },
      { value: "dark", label: "Dark", testid: "theme-dark", icon: "moon" },
      { value: "system", label: "System", testid: "theme-system", icon: "monitor" },
    ],
    onChange: (value) => {
      applyTheme(value);
      void persist({ ...(settings.value?.settings ?? current), theme: value });
    },
  });

  // Defaults for new profiles
  const dRetention = field({ label: "Keep backups for (days)", testid: "default-retention", value: String(current.defaults.retentionDays), inputmode: "numeric", width: "sm", required: true });
  const dFormat = selectField({ label: "Format", testid: "default-format", value: current.defaults.format, options: FORMAT_OPTIONS });
  const dCompression = selectField({ label: "Compression", testid: "default-compression", value: current.defaults.compression, options: COMPRESSION_OPTIONS });
  const saveDefaults = button({
    label: "Save defaults",
    variant: "secondary",
    testid: "save-defaults",
    onClick: async () => {
      if (!retentionOk(dRetention.input.value)) {
        dRetention.setError("From 1 to 3650 days.");
        dRetention.input.focus();
        return;
      }
      dRetention.setError(null);
      const ok = await persist({
        ...(settings.value?.settings ?? current),
        defaults: { retentionDays: Number(dRetention.input.value), format: dFormat.value(), compression: dCompression.value() },
      });
      if (ok) toast({ kind: "success", title: "Defaults saved", message: "New profiles start with these settings." });
    },
  });

  const sections: HTMLElement[] = [
    section("Appearance", "Follow the system, or pick light or dark.", theme.root),
    section(
      "Defaults for new profiles",
      "Retention, dump format and compression that a new profile starts with.",
      h("div", { class: "grid-3" }, dRetention.root, dFormat.root, dCompression.root),
      h("div", { class: "form-actions" }, saveDefaults),
    ),
  ];

  // The active profile's own settings (the engine uses these).
  if (profile) {
    const p = profile;
    const pRetention = field({ label: "Keep backups for (days)", testid: "settings-profile-retention", value: String(p.settings.retentionDays), inputmode: "numeric", width: "sm", required: true });
    const pFormat = selectField({ label: "Format", testid: "settings-profile-format", value: p.settings.format, options: FORMAT_OPTIONS });
    const pCompression = selectField({ label: "Compression", testid: "settings-profile-compression", value: p.settings.compression, options: COMPRESSION_OPTIONS });
    const saveProfileSettings = button({
      label: `Save for ${p.name}`,
      variant: "secondary",
      testid: "save-profile-settings",
      onClick: async () => {
        if (!retentionOk(pRetention.input.value)) {
          pRetention.setError("From 1 to 3650 days.");
          pRetention.input.focus();
          return;
        }
        pRetention.setError(null);
        try {
          // No secrets: the stored ones stay.
          await api.saveProfile({
            name: p.name,
            mode: p.mode,
            settings: { retentionDays: Number(pRetention.input.value), format: pFormat.value(), compression: pCompression.value() },
          });
          await loadProfiles();
          toast({ kind: "success", title: "Profile settings saved", message: p.name });
        } catch (e) {
          errorToast("Could not save the profile", e);
        }
      },
    });
    sections.push(
      section(
        `Backups of “${p.name}”`,
        p.mode.type === "api"
          ? "Expiry in the table uses this retention; the server's own retention is on the Schedule page."
          : "Used for new backups and for pruning this profile's storage.",
        h("div", { class: "grid-3" }, pRetention.root, pFormat.root, pCompression.root),
        h("div", { class: "form-actions" }, saveProfileSettings),
      ),
    );
  }

  // Updates
  const updateSlot = h("div", { class: "update-slot", "aria-live": "polite", testid: "update-status" });
  const check = button({ label: "Check for updates", variant: "secondary", icon: "refresh", testid: "check-updates" });
  check.addEventListener("click", async () => {
    check.disabled = true;
    replace(updateSlot, h("div", { class: "loading-line" }, spinner(), h("span", { text: "Checking for updates…" })));
    try {
      showUpdate(await api.checkForUpdate());
    } catch (e) {
      replace(updateSlot, errorBox(e, [], "Could not check for updates"));
    } finally {
      check.disabled = false;
    }
  });
  function showUpdate(info: UpdateInfo): void {
    if (!info.available || !info.version) {
      replace(updateSlot, h("p", { class: "text-success update-line" }, icon("check", 15), h("span", { text: ` You're up to date (${view!.version}).` })));
      return;
    }
    const install = button({ label: `Install ${info.version}`, variant: "primary", icon: "download", testid: "install-update" });
    const progress = progressBar("update-progress");
    progress.root.hidden = true;
    install.addEventListener("click", async () => {
      install.disabled = true;
      check.disabled = true;
      install.replaceChildren(spinner("Installing"), h("span", { text: "Downloading…" }));
      progress.root.hidden = false;
      progress.set(null, "Downloading the update");
      try {
        const installed = await api.installUpdate((event) => {
          if (event.event === "progress") {
            const f = event.total ? event.downloaded / event.total : null;
            progress.set(f, `${formatBytes(event.downloaded)}${event.total ? ` of ${formatBytes(event.total)}` : ""}`);
          } else {
            progress.set(null, "Installing");
            install.replaceChildren(spinner("Installing"), h("span", { text: "Installing…" }));
          }
        });
        const restart = button({ label: "Restart now", variant: "primary", icon: "refresh", testid: "restart-app", onClick: () => void api.restartApp().catch((e) => errorToast("Could not restart", e)) });
        replace(
          updateSlot,
          callout(
            "success",
            "check",
            h("p", { class: "callout-title", testid: "update-installed", text: `Version ${installed.version ?? info.version} is installed` }),
            h("p", { text: "It takes effect when the app restarts." }),
            h("div", { class: "callout-actions" }, restart),
          ),
        );
      } catch (e) {
        progress.root.hidden = true;
        install.disabled = false;
        check.disabled = false;
        install.replaceChildren(h("span", { text: "Try again" }));
        updateSlot.append(errorBox(e, [], "The update could not be installed"));
      }
    });
    replace(
      updateSlot,
      callout(
        "info",
        "download",
        h("p", { class: "callout-title", testid: "update-available", text: `Version ${info.version} is available` }),
        h("p", { class: "small", text: `You have ${info.currentVersion}${info.date ? ` · released ${formatLocalDateTime(info.date)}` : ""}.` }),
        info.notes ? h("p", { class: "update-notes", text: info.notes }) : null,
        progress.root,
        h("div", { class: "callout-actions" }, install),
      ),
    );
  }
  sections.push(
    section(
      "Updates",
      "Updates are signed; the app verifies the signature before installing.",
      h("div", { class: "setting-row" }, h("div", {}, h("p", { class: "setting-label", text: "Version" }), h("p", { class: "muted small mono", testid: "app-version", text: view.version })), check),
      updateSlot,
    ),
  );

  // Where the profiles' secrets are kept
  sections.push(section("Passwords and tokens", "Where this computer keeps the profiles' secrets, and why.", secretStoreSettings(scope)));

  // Logs
  sections.push(
    section(
      "Logs",
      "What the app did, for troubleshooting. Logs never contain passwords or tokens.",
      h(
        "div",
        { class: "setting-row" },
        h("div", { class: "min0" }, h("p", { class: "setting-label", text: "Log folder" }), h("p", { class: "muted small mono ellipsis", testid: "log-dir", text: view.logDir, title: view.logDir })),
        button({ label: "Open log folder", variant: "secondary", icon: "folder", testid: "open-logs", onClick: () => void api.showInFolder(view.logDir).catch((e) => errorToast("Could not open the folder", e)) }),
      ),
    ),
  );
  page.append(...sections);
  return page;
}
