// Adding or editing a connection profile: API mode (server URL, email, password → sign in) or
// direct mode (PostgreSQL and Azure or a local folder; an Azure container can be shared with
// the RYTHM platform, which then lists and restores our backups). Secrets go to the shell
// once and are never shown again; when editing, an empty secret field keeps the stored
// secret. After saving, the connection check runs.

import { serverUrlProblem } from "../lib/serverUrl";
import * as api from "../api";
import type { Compression, DumpFormat, ProfileInput, ProfileSettings } from "../bindings";
import { afterSignIn, loadProfiles, profiles, setActive, settings, type Profile } from "../state";
import { h, Scope, uid } from "../ui/dom";
import { icon } from "../ui/icons";
import { toast } from "../ui/toast";
import { button, checkbox, errorBox, field, segmented, selectField, type Field } from "../ui/widgets";
import { connectionChecks } from "./connectionChecks";
import { storeWords } from "./secretStore";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const FORMAT_OPTIONS: ReadonlyArray<{ value: DumpFormat; label: string }> = [
  { value: "plain", label: "Plain SQL (psql)" },
  { value: "custom", label: "Custom archive (pg_restore)" },
];
export const COMPRESSION_OPTIONS: ReadonlyArray<{ value: Compression; label: string }> = [
  { value: "zstd", label: "zstd (fast, small)" },
  { value: "gzip", label: "gzip" },
  { value: "none", label: "None" },
];

function defaults(): ProfileSettings {
  return settings.value?.settings.defaults ?? { retentionDays: 10, format: "plain", compression: "zstd" };
}

function suggestedName(): string {
  const taken = new Set(profiles.value.map((p) => p.name));
  if (!taken.has("production")) return "production";
  for (let i = 2; i < 100; i++) if (!taken.has(`profile-${i}`)) return `profile-${i}`;
  return "";
}

/** The form; `done` is called with the saved profile's name when the person continues.
 *  With `editing`, it changes that profile (its name stays). */
export function profileForm(scope: Scope, o: { onCancel: (() => void) | null; onDone: (name: string) => void; editing?: Profile }): HTMLElement {
  const editing = o.editing ?? null;
  let mode: "api" | "direct" = editing?.mode.type ?? "api";
  let storage: "azure" | "local" = editing?.mode.type === "direct" ? editing.mode.storage.type : "azure";
  const d = editing?.settings ?? defaults();

  const name = field({ label: "Profile name", testid: "profile-name", value: suggestedName(), required: true, hint: "How this connection appears in the app: letters, digits, “-” or “_”.", autocomplete: "off" });

  // API mode
  const apiUrl = field({ label: "Server URL", testid: "api-url", type: "url", placeholder: "https://rythm.example.com", required: true, hint: "The RYTHM platform or a rythm-backup server." });
  const apiEmail = field({ label: "Email", testid: "api-email", type: "email", required: true, autocomplete: "username" });
  const apiPassword = field({ label: "Password", testid: "api-password", type: "password", required: true, autocomplete: "current-password", hint: `Used once to sign in; only the session token is kept, in ${storeWords()}.` });
  const apiSection = h("fieldset", { class: "form-section" }, h("legend", { class: "form-section-title", text: "Backup server" }), h("div", { class: "grid-2" }, h("div", { class: "span-2" }, apiUrl.root), apiEmail.root, apiPassword.root));

  // Direct mode
  const host = field({ label: "Host", testid: "db-host", placeholder: "db.internal", required: true, autocomplete: "off" });
  const port = field({ label: "Port", testid: "db-port", value: "5432", inputmode: "numeric", required: true, width: "sm" });
  const dbName = field({ label: "Database", testid: "db-name", placeholder: "rythm", required: true });
  const user = field({ label: "User", testid: "db-user", placeholder: "postgres", required: true, autocomplete: "off" });
  const dbPassword = field({ label: "Password", testid: "db-password", type: "password", autocomplete: "new-password", hint: `Stored in ${storeWords()}.` });
  const sslmode = selectField({
    label: "SSL mode",
    testid: "db-sslmode",
    value: "",
    options: [
      { value: "", label: "Default (prefer)" },
      { value: "disable", label: "disable" },
      { value: "require", label: "require" },
      { value: "verify-full", label: "verify-full" },
    ],
  });
  const connString = field({ label: "Azure Storage connection string", testid: "azure-connection-string", type: "password", required: true, autocomplete: "off", hint: `DefaultEndpointsProtocol=https;AccountName=…;AccountKey=… — stored in ${storeWords()}, never shown again.` });
  const container = field({ label: "Container", testid: "azure-container", value: "database-backups", required: true });
  let shared = editing?.mode.type === "direct" && editing.mode.storage.type === "azure" && editing.mode.storage.sharedWithPlatform;
  const sharedBox = checkbox({
    label: "Shared with the RYTHM platform",
    testid: "azure-shared",
    checked: shared,
    hint: "Backups are then plain, uncompressed .sql that the platform's admin page lists and restores, about three times the size of compressed ones; without it they do not appear there.",
    onChange: (c) => {
      shared = c;
      syncFormat();
    },
  });
  const localDir = field({ label: "Folder", testid: "local-dir", placeholder: "/var/backups/rythm", required: true, hint: "An absolute path; backups are written here with a metadata file beside each." });
  const azureBox = h("div", { class: "grid-2" }, h("div", { class: "span-2" }, connString.root), container.root, h("div", { class: "span-2" }, sharedBox.root));
  const localBox = h("div", { class: "grid-2" }, h("div", { class: "span-2" }, localDir.root));
  azureBox.hidden = storage !== "azure";
  localBox.hidden = storage !== "local";
  const storageChoice = segmented({
    legend: "Where backups are stored",
    name: uid("storage"),
    value: storage,
    options: [
      { value: "azure", label: "Azure Blob Storage", testid: "storage-azure", icon: "cloud" },
      { value: "local", label: "Local folder", testid: "storage-local", icon: "hardDrive" },
    ],
    onChange: (v) => {
      storage = v;
      azureBox.hidden = v !== "azure";
      localBox.hidden = v !== "local";
      syncFormat();
    },
  });
  const directSection = h(
    "div",
    { class: "stack" },
    h(
      "fieldset",
      { class: "form-section" },
      h("legend", { class: "form-section-title", text: "PostgreSQL database" }),
      h("div", { class: "grid-db" }, host.root, port.root, dbName.root),
      h("div", { class: "grid-3" }, user.root, dbPassword.root, sslmode.root),
    ),
    h("fieldset", { class: "form-section" }, h("legend", { class: "form-section-title", text: "Storage" }), storageChoice.root, azureBox, localBox),
  );
  directSection.hidden = mode !== "direct";
  apiSection.hidden = mode !== "api";

  // Settings
  const retention = field({ label: "Keep backups for (days)", testid: "profile-retention", value: String(d.retentionDays), inputmode: "numeric", width: "sm", required: true });
  const format = selectField({ label: "Format", testid: "profile-format", value: d.format, options: FORMAT_OPTIONS });
  const compression = selectField({ label: "Compression", testid: "profile-compression", value: d.compression, options: COMPRESSION_OPTIONS });
  /** A container shared with the platform takes plain, uncompressed backups only. */
  function syncFormat(): void {
    const fixed = shared && storage === "azure";
    if (fixed) {
      format.select.value = "plain";
      compression.select.value = "none";
    }
    format.select.disabled = fixed;
    compression.select.disabled = fixed;
  }
  if (editing) fillFrom(editing);
  syncFormat();
  const settingsSection = h(
    "details",
    { class: "form-more", testid: "profile-settings" },
    h("summary", {}, "Backup settings", h("span", { class: "muted small", text: ` · keep ${d.retentionDays} days, ${d.format}, ${d.compression}` })),
    h("div", { class: "grid-3" }, retention.root, format.root, compression.root),
  );

  const modeChoice = segmented({
    legend: "How this app reaches the backups",
    name: uid("mode"),
    value: mode,
    style: "cards",
    options: [
      { value: "api", label: "Backup server (API)", testid: "profile-mode-api", icon: "server", description: "Sign in to the RYTHM API or rythm-backup serve" },
      { value: "direct", label: "Direct", testid: "profile-mode-direct", icon: "database", description: "This app runs pg_dump and psql itself" },
    ],
    onChange: (v) => {
      mode = v;
      apiSection.hidden = v !== "api";
      directSection.hidden = v !== "direct";
      submitLabel.textContent = submitText();
    },
  });

  const errorSlot = h("div", { class: "form-error" });
  const submitLabel = h("span", { text: submitText() });
  const submit = h("button", { type: "submit", class: "btn btn-primary", testid: "profile-save" }, submitLabel);
  const cancel = o.onCancel ? button({ label: "Cancel", variant: "secondary", testid: "profile-cancel", onClick: o.onCancel }) : null;

  const resultSlot = h("div");
  const form = h(
    "form",
    { class: "profile-form", testid: "profile-form", novalidate: true, "aria-labelledby": "profile-form-title" },
    h(
      "div",
      { class: "form-head" },
      h("h2", { id: "profile-form-title", class: "form-title", text: editing ? `Edit “${editing.name}”` : "Add a connection profile" }),
      h("p", {
        class: "muted",
        text: editing
          ? "Change where this profile reaches the backups. Leave a password empty to keep the stored one; an API profile signs in again."
          : "A profile says where the backups are. You can add more later and switch between them.",
      }),
    ),
    name.root,
    modeChoice.root,
    apiSection,
    directSection,
    settingsSection,
    errorSlot,
    h("div", { class: "form-actions" }, cancel, submit),
  );

  const allFields: Field[] = [name, apiUrl, apiEmail, apiPassword, host, port, dbName, user, connString, container, localDir, retention];

  function validate(): Field | null {
    for (const f of allFields) f.setError(null);
    const problems: Array<[Field, string]> = [];
    const n = name.input.value.trim();
    if (!NAME.test(n)) problems.push([name, "Use 1–64 letters, digits, “-” or “_”, starting with a letter or digit."]);
    else if (n !== allowExisting && n !== editing?.name && profiles.value.some((p) => p.name === n)) problems.push([name, `A profile named “${n}” exists already. Choose another name.`]);
    if (mode === "api") {
      const url = apiUrl.input.value.trim();
      const urlProblem = serverUrlProblem(url);
      if (urlProblem) problems.push([apiUrl, urlProblem]);
      if (!/^[^\s@]+@[^\s@]+$/.test(apiEmail.input.value.trim())) problems.push([apiEmail, "Enter the email you sign in with."]);
      if (!apiPassword.input.value) problems.push([apiPassword, "Enter your password."]);
    } else {
      if (!host.input.value.trim()) problems.push([host, "Enter the database server's host name or address."]);
      const p = Number(port.input.value);
      if (!Number.isInteger(p) || p < 1 || p > 65535) problems.push([port, "A port from 1 to 65535."]);
      if (!dbName.input.value.trim()) problems.push([dbName, "Enter the database name."]);
      if (!user.input.value.trim()) problems.push([user, "Enter the database user."]);
      if (storage === "azure") {
        if (!connString.input.value.trim() && !keepsConnectionString()) problems.push([connString, "Paste the storage account's connection string."]);
        if (!container.input.value.trim()) problems.push([container, "Enter the container name."]);
      } else if (!localDir.input.value.trim()) problems.push([localDir, "Enter the folder to keep backups in."]);
    }
    const r = Number(retention.input.value);
    if (!Number.isInteger(r) || r < 1 || r > 3650) {
      problems.push([retention, "From 1 to 3650 days."]);
      (settingsSection as HTMLDetailsElement).open = true;
    }
    for (const [f, message] of problems) f.setError(message);
    return problems[0]?.[0] ?? null;
  }

  function submitText(): string {
    if (mode === "api") return "Sign in and save";
    return editing ? "Save changes and test" : "Save and test";
  }

  /** Editing: the profile's current values (never a secret: the page has none). */
  function fillFrom(p: Profile): void {
    name.input.value = p.name;
    name.input.readOnly = true;
    if (p.mode.type === "api") {
      apiUrl.input.value = p.mode.baseUrl;
      apiEmail.input.value = p.mode.email;
    } else {
      const db = p.mode.database;
      host.input.value = db.host;
      port.input.value = String(db.port);
      dbName.input.value = db.database;
      user.input.value = db.user;
      sslmode.select.value = db.sslmode ?? "";
      if (p.mode.storage.type === "azure") container.input.value = p.mode.storage.container;
      else localDir.input.value = p.mode.storage.dir;
      if (p.hasPassword) dbPassword.input.placeholder = "Stored — leave empty to keep it";
      if (p.hasConnectionString) connString.input.placeholder = "Stored — leave empty to keep it";
    }
  }

  /** Whether a stored secret may stay (editing, same mode, and the shell keeps it). */
  function keepsConnectionString(): boolean {
    return editing?.mode.type === "direct" && editing.mode.storage.type === "azure" && editing.hasConnectionString;
  }

  function buildProfile(): ProfileInput {
    const profileSettings: ProfileSettings = { retentionDays: Number(retention.input.value), format: format.value(), compression: compression.value() };
    const n = name.input.value.trim();
    if (mode === "api") {
      return { name: n, mode: { type: "api", baseUrl: apiUrl.input.value.trim().replace(/\/+$/, ""), email: apiEmail.input.value.trim() }, settings: profileSettings };
    }
    const ssl = sslmode.value();
    return {
      name: n,
      mode: {
        type: "direct",
        database: { host: host.input.value.trim(), port: Number(port.input.value), database: dbName.input.value.trim(), user: user.input.value.trim(), ...(ssl ? { sslmode: ssl } : {}) },
        storage: storage === "azure" ? { type: "azure", container: container.input.value.trim(), sharedWithPlatform: shared } : { type: "local", dir: localDir.input.value.trim() },
      },
      settings: profileSettings,
    };
  }

  // After a failed sign-in the profile exists; submitting the same name again is fine.
  let allowExisting: string | null = null;
  let busy = false;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    errorSlot.replaceChildren();
    const invalid = validate();
    if (invalid) {
      invalid.input.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    submitLabel.textContent = mode === "api" ? "Signing in…" : "Saving…";
    const profile = buildProfile();
    // API mode: the shell signs in with the password right after saving.
    if (mode === "api") profile.password = apiPassword.input.value;
    else {
      if (dbPassword.input.value) profile.password = dbPassword.input.value;
      if (storage === "azure") profile.azureConnectionString = connString.input.value.trim();
    }
    let stage: "save" | "sign-in" = "save";
    try {
      await api.saveProfile(profile);
      // Secrets leave the page as soon as they are handed over.
      for (const f of [apiPassword, dbPassword, connString]) f.input.value = "";
      if (mode === "api") await afterSignIn(profile.name);
      else await loadProfiles();
      setActive(profile.name);
      toast({ kind: "success", title: "Profile saved", message: `${profile.name} is ready.` });
      showResult(profile.name);
    } catch (err) {
      // The shell saves first and then signs in: these codes come from the sign-in.
      const code = (err as { code?: string }).code;
      if (mode === "api" && (code === "auth_required" || code === "not_admin" || code === "unreachable" || code === "busy")) stage = "sign-in";
      if (stage === "sign-in") {
        // The profile is kept (the keychain holds no token for it); fixing the password and
        // submitting again signs in, so the name check must not refuse it then.
        allowExisting = profile.name;
      }
      errorSlot.replaceChildren(errorBox(err, [], stage === "sign-in" ? "Could not sign in" : "Could not save the profile", stage === "sign-in" ? "sign-in" : "general"));
      const message = errorSlot.querySelector<HTMLElement>("[data-testid=error-message]");
      message?.setAttribute("tabindex", "-1");
      message?.focus({ preventScroll: true });
      // The whole box in view, not just its first line at the window's edge.
      errorSlot.firstElementChild?.scrollIntoView({ block: "center" });
    } finally {
      busy = false;
      submit.disabled = false;
      submitLabel.textContent = submitText();
    }
  });

  function showResult(profileName: string): void {
    const checks = connectionChecks(profileName);
    const done = button({ label: "Open backups", variant: "primary", icon: "archive", testid: "profile-done", onClick: () => o.onDone(profileName) });
    resultSlot.replaceChildren(
      h(
        "div",
        { class: "profile-saved" },
        h("div", { class: "saved-head" }, h("span", { class: "saved-icon" }, icon("check", 18)), h("div", {}, h("h2", { class: "form-title", text: `“${profileName}” is saved` }), h("p", { class: "muted", text: "The app now checks each part of the connection." }))),
        checks.root,
        h("div", { class: "form-actions" }, done),
      ),
    );
    form.replaceWith(resultSlot);
    done.focus();
  }

  void scope;
  // Editing: the name stays, so the first field that can change takes the focus.
  queueMicrotask(() => (editing ? (mode === "api" ? apiUrl : host) : name).input.focus());
  return form;
}
