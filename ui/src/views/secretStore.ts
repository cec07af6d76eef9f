// The secret store in the UI: which store holds the profiles' secrets and why (the first screen
// and Settings say it in words), the unlock dialog for the encrypted file's master password
// (at start, and whenever a command finds the secrets locked), changing that password, and the
// one-click move into the OS keychain. Password fields are emptied as soon as they are sent, so
// no master password stays in the page.

import * as api from "../api";
import { MIN_MASTER_PASSWORD_CHARS as MIN_CHARS } from "../bindings";
import type { SecretStoreInfo } from "../bindings";
import { loadProfiles } from "../state";
import { h, replace, Scope, setDisabled } from "../ui/dom";
import { openModal } from "../ui/modal";
import { errorToast, toast } from "../ui/toast";
import { button, callout, errorBox, facts, field } from "../ui/widgets";
import { Signal } from "../ui/signal";

/** Characters as Rust's `chars()` counts them (code points), not UTF-16 units. */
export function charCount(text: string): number {
  return [...text].length;
}

export const secretStore = new Signal<SecretStoreInfo | null>(null);

export async function refreshSecretStore(): Promise<SecretStoreInfo | null> {
  try {
    const info = await api.secretStore();
    secretStore.set(info);
    return info;
  } catch (e) {
    console.warn("could not read the secret store", e);
    return null;
  }
}

/** Whether the encrypted file exists and waits for its master password. */
export function needsUnlock(info: SecretStoreInfo | null): boolean {
  return !!info && info.kind === "encrypted-file" && info.fileExists && !info.unlocked;
}

/** "the OS keychain" or "the encrypted secrets file", for hints in forms. */
export function storeWords(): string {
  const info = secretStore.value;
  return info?.kind === "encrypted-file" ? "the encrypted secrets file (see Settings)" : "the OS keychain";
}

let pending: Promise<boolean> | null = null;

/**
 * Asks for the master password: to open the existing encrypted file, or to choose one for a new
 * file (typed twice). Resolves `true` once unlocked, `false` when the person chose "Not now".
 * Concurrent callers share one dialog. The store is read again first: another program may have
 * created the file, unlocked nothing, or moved the secrets away (then nothing is asked, since a
 * new file would hide them; the person is told to start the app again).
 */
export function unlockSecrets(): Promise<boolean> {
  pending ??= (async () => {
    const info = (await refreshSecretStore()) ?? secretStore.value;
    try {
      if (info?.fileRemoved) return await showRemoved(info);
      if (info?.unlocked) return true;
      return await showUnlock(info);
    } finally {
      pending = null;
    }
  })();
  return pending;
}

/** The encrypted file this app used was removed by another program: nothing to unlock. */
function showRemoved(info: SecretStoreInfo): Promise<boolean> {
  return new Promise((resolve) => {
    const modal = openModal({
      title: "The secrets have moved",
      subtitle: "Another program changed where they are kept",
      testid: "secrets-moved-modal",
      size: "sm",
      onClose: () => resolve(false),
    });
    modal.setBody(h("p", { class: "modal-lead", testid: "secrets-moved", text: info.summary }));
    modal.setFooter(button({ label: "Close", variant: "primary", testid: "secrets-moved-close", onClick: () => modal.close() }));
  });
}

function showUnlock(info: SecretStoreInfo | null): Promise<boolean> {
  const creating = !info?.fileExists;
  return new Promise((resolve) => {
    let unlocked = false;
    const modal = openModal({
      title: creating ? "Choose a master password" : "Unlock your secrets",
      subtitle: creating ? "No OS keychain is available on this computer" : "The saved passwords and tokens are encrypted",
      testid: "unlock-modal",
      size: "sm",
      onClose: () => resolve(unlocked),
    });
    const password = field({
      label: creating ? "New master password" : "Master password",
      testid: "master-password",
      type: "password",
      required: true,
      autocomplete: creating ? "new-password" : "current-password",
      hint: creating ? `At least ${MIN_CHARS} characters. It cannot be recovered: keep it safe.` : "Asked once while the app runs.",
    });
    const repeat = creating ? field({ label: "Repeat the master password", testid: "master-password-repeat", type: "password", required: true, autocomplete: "new-password" }) : null;
    const slot = h("div", { testid: "unlock-error", "aria-live": "polite" });
    const later = button({ label: "Not now", variant: "secondary", testid: "unlock-later", onClick: () => modal.close() });
    const submit = button({ label: creating ? "Save master password" : "Unlock", variant: "primary", icon: "key", testid: "unlock-submit" });
    const form = h(
      "form",
      { class: "form", on: { submit: (e) => e.preventDefault() } },
      h("p", { class: "modal-lead", testid: "unlock-store", text: info?.summary ?? "The secrets are kept in an encrypted file." }),
      password.root,
      repeat?.root ?? null,
      slot,
    );
    modal.setBody(form);
    modal.setFooter(later, submit);
    const send = async (): Promise<void> => {
      password.setError(null);
      repeat?.setError(null);
      slot.replaceChildren();
      const value = password.input.value;
      if (creating && charCount(value) < MIN_CHARS) {
        password.setError(`At least ${MIN_CHARS} characters.`);
        password.input.focus();
        return;
      }
      if (repeat && repeat.input.value !== value) {
        repeat.input.value = "";
        repeat.setError("The two passwords differ.");
        repeat.input.focus();
        return;
      }
      // Out of the page before the answer comes: nothing keeps the password around.
      password.input.value = "";
      if (repeat) repeat.input.value = "";
      submit.disabled = true;
      modal.setBusy(true);
      try {
        secretStore.set(await api.unlockSecrets(value));
        unlocked = true;
        // API profiles' sign-ins can be read now.
        void loadProfiles().catch(() => undefined);
        modal.setBusy(false);
        modal.close();
        toast({ kind: "success", title: creating ? "Master password saved" : "Secrets unlocked", message: "Passwords and tokens can be used until the app closes." });
      } catch (e) {
        modal.setBusy(false);
        submit.disabled = false;
        slot.replaceChildren(errorBox(e, [], creating ? "The master password was not saved" : "The secrets could not be unlocked"));
        password.input.focus();
      }
    };
    submit.addEventListener("click", () => void send());
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        void send();
      }
    });
    modal.focus(password.input);
  });
}

/** The first screen's sentence about where secrets will go, when it is not the OS keychain. */
export function welcomeStoreNote(info: SecretStoreInfo | null): HTMLElement | null {
  if (!info || info.kind !== "encrypted-file") return null;
  return callout(
    "info",
    "key",
    h("p", { class: "callout-title", text: "Secrets will be kept in an encrypted file" }),
    h("p", { class: "small", testid: "welcome-secret-store", text: `${info.summary} You choose the master password when you save the first profile; the app asks for it once each time it starts.` }),
  );
}

function changePassword(onDone: () => void): void {
  const modal = openModal({ title: "Change the master password", testid: "change-master-modal", size: "sm" });
  const current = field({ label: "Current master password", testid: "master-current", type: "password", required: true, autocomplete: "current-password" });
  const next = field({ label: "New master password", testid: "master-new", type: "password", required: true, autocomplete: "new-password", hint: `At least ${MIN_CHARS} characters.` });
  const repeat = field({ label: "Repeat the new master password", testid: "master-new-repeat", type: "password", required: true, autocomplete: "new-password" });
  const slot = h("div");
  const submit = button({ label: "Change master password", variant: "primary", testid: "master-change-submit" });
  modal.setBody(h("p", { class: "modal-lead", text: "Every secret is encrypted again under the new password, in one step: the file opens with the old password until the new one is in place." }), current.root, next.root, repeat.root, slot);
  modal.setFooter(button({ label: "Cancel", variant: "secondary", testid: "master-change-cancel", onClick: () => modal.close() }), submit);
  submit.addEventListener("click", async () => {
    slot.replaceChildren();
    next.setError(null);
    repeat.setError(null);
    if (charCount(next.input.value) < MIN_CHARS) return next.setError(`At least ${MIN_CHARS} characters.`);
    if (next.input.value !== repeat.input.value) return repeat.setError("The two passwords differ.");
    const [oldValue, newValue] = [current.input.value, next.input.value];
    for (const f of [current, next, repeat]) f.input.value = "";
    submit.disabled = true;
    try {
      secretStore.set(await api.changeMasterPassword(oldValue, newValue));
      modal.close();
      toast({ kind: "success", title: "Master password changed", message: "Every secret was encrypted again." });
      onDone();
    } catch (e) {
      submit.disabled = false;
      slot.replaceChildren(errorBox(e, [], "The master password was not changed"));
    }
  });
  modal.focus(current.input);
}

/** Settings' section body: the store in words, and what can be done with it. */
export function secretStoreSettings(scope: Scope): HTMLElement {
  const root = h("div", { class: "stack", testid: "secret-store" });
  const render = (info: SecretStoreInfo | null): void => {
    if (!info) {
      root.replaceChildren(h("p", { class: "muted", text: "The secret store could not be read." }));
      return;
    }
    const rows: Array<[string, string]> = [["Store", info.kind === "encrypted-file" ? `Encrypted file${info.unlocked ? " (unlocked)" : " (locked)"}` : `OS keychain: ${info.name}`]];
    if (info.kind === "encrypted-file") {
      rows.push(["File", info.file ?? ""], ["Secrets in it", String(info.fileEntries)]);
      rows.push(["OS keychain", info.osKeychain ? `${info.osKeychain}, available` : `none (${info.osKeychainProblem ?? "not reachable"})`]);
    }
    const actions: HTMLElement[] = [];
    if (info.kind === "encrypted-file") {
      const move = button({ label: "Move to the OS keychain", variant: "primary", icon: "key", testid: "move-to-keychain" });
      setDisabled(move, info.canMove ? null : info.moveBlocker ?? "not possible now");
      move.addEventListener("click", async () => {
        move.disabled = true;
        try {
          const outcome = await api.moveSecretsToKeychain();
          toast({ kind: "success", title: "Secrets moved to the OS keychain", message: `${outcome.moved} moved to the ${outcome.store}; the encrypted file is removed.` });
          await refreshSecretStore();
          await loadProfiles().catch(() => undefined);
        } catch (e) {
          errorToast("The secrets were not moved", e);
          await refreshSecretStore();
        }
      });
      actions.push(move);
      if (info.fileExists) {
        actions.push(button({ label: "Change master password", variant: "secondary", testid: "change-master-password", onClick: () => changePassword(() => undefined) }));
      }
      if (info.fileExists && !info.unlocked) {
        actions.push(button({ label: "Unlock", variant: "secondary", testid: "settings-unlock", onClick: () => void unlockSecrets() }));
      }
    }
    replace(
      root,
      h("p", { testid: "secret-store-summary", text: info.summary }),
      facts(rows),
      actions.length ? h("div", { class: "form-actions" }, ...actions) : null,
      info.kind === "encrypted-file" && !info.canMove && info.moveBlocker
        ? h("p", { class: "muted small", testid: "move-blocker", text: `Moving to the OS keychain is not possible now: ${info.moveBlocker}.` })
        : null,
    );
  };
  scope.add(secretStore.subscribe(render, false));
  render(secretStore.value);
  void refreshSecretStore();
  return root;
}
