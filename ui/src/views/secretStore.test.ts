// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { SecretStoreInfo } from "../bindings";

const unlockSecretsApi = vi.fn();
/** What the app answers when the page reads the store again (`secret_store`). */
let current: SecretStoreInfo;
vi.mock("../api", () => ({
  secretStore: vi.fn(async () => current),
  unlockSecrets: (...args: unknown[]) => unlockSecretsApi(...args),
  listProfiles: vi.fn(async () => []),
  saveSettings: vi.fn(async () => undefined),
}));

const { charCount, needsUnlock, secretStore, unlockSecrets, welcomeStoreNote } = await import("./secretStore");
const { MIN_MASTER_PASSWORD_CHARS } = await import("../bindings");

function fileStore(over: Partial<SecretStoreInfo>): SecretStoreInfo {
  return {
    kind: "encrypted-file",
    name: "encrypted file",
    summary: "Secrets are kept in an encrypted file, /home/a/.config/rythm-backup/secrets.vault, because no OS keychain is available: no D-Bus.",
    reason: "no OS keychain is available: no D-Bus",
    file: "/home/a/.config/rythm-backup/secrets.vault",
    fileExists: true,
    fileRemoved: false,
    unlocked: false,
    fileEntries: 2,
    osKeychain: null,
    osKeychainProblem: "no D-Bus",
    canMove: false,
    moveBlocker: "no OS keychain is available: no D-Bus",
    ...over,
  };
}

const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no ${id}`);
  return el;
};
const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** The store as the page last knew it, and as the app answers now. */
function given(info: SecretStoreInfo): void {
  secretStore.set(info);
  current = info;
}

beforeEach(() => {
  document.body.replaceChildren(Object.assign(document.createElement("div"), { id: "app" }));
  unlockSecretsApi.mockReset();
  given(fileStore({}));
});

describe("the secret store in the UI", () => {
  it("asks to unlock only an existing, locked encrypted file", () => {
    expect(needsUnlock(fileStore({}))).toBe(true);
    expect(needsUnlock(fileStore({ unlocked: true }))).toBe(false);
    expect(needsUnlock(fileStore({ fileExists: false }))).toBe(false);
    expect(needsUnlock({ ...fileStore({}), kind: "os-keychain" })).toBe(false);
    expect(needsUnlock(null)).toBe(false);
  });

  it("says on the first screen where secrets go when it is not the OS keychain", () => {
    expect(welcomeStoreNote({ ...fileStore({}), kind: "os-keychain" })).toBeNull();
    const note = welcomeStoreNote(fileStore({ fileExists: false }));
    expect(note?.textContent).toContain("no OS keychain is available");
    expect(note?.textContent).toContain("master password");
  });

  it("shares one dialog between callers, keeps a wrong password out of the page, and unlocks", async () => {
    given(fileStore({}));
    unlockSecretsApi.mockRejectedValueOnce({ code: "secrets_locked", message: "the master password does not open the encrypted secrets file X" });
    unlockSecretsApi.mockResolvedValueOnce(fileStore({ unlocked: true }));
    const first = unlockSecrets();
    const second = unlockSecrets();
    await flush();
    expect(document.querySelectorAll('[data-testid="unlock-modal"]')).toHaveLength(1);
    expect(document.querySelector('[data-testid="master-password-repeat"]')).toBeNull();

    byTestId<HTMLInputElement>("master-password").value = "wrong password";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).toHaveBeenLastCalledWith("wrong password");
    expect(byTestId("unlock-error").textContent).toContain("does not open");
    expect(byTestId<HTMLInputElement>("master-password").value).toBe("");
    expect(document.body.innerHTML).not.toContain("wrong password");

    byTestId<HTMLInputElement>("master-password").value = "the right one";
    byTestId("unlock-submit").click();
    await flush();
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(document.querySelector('[data-testid="unlock-modal"]')).toBeNull();
    expect(secretStore.value?.unlocked).toBe(true);
  });

  it("asks for a new master password twice and refuses short or differing ones", async () => {
    given(fileStore({ fileExists: false }));
    unlockSecretsApi.mockResolvedValueOnce(fileStore({ unlocked: true }));
    const done = unlockSecrets();
    await flush();
    byTestId<HTMLInputElement>("master-password").value = "short";
    byTestId<HTMLInputElement>("master-password-repeat").value = "short";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).not.toHaveBeenCalled();
    byTestId<HTMLInputElement>("master-password").value = "long enough one";
    byTestId<HTMLInputElement>("master-password-repeat").value = "another long one";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).not.toHaveBeenCalled();
    expect(document.body.textContent).toContain("differ");
    byTestId<HTMLInputElement>("master-password").value = "long enough one";
    byTestId<HTMLInputElement>("master-password-repeat").value = "long enough one";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).toHaveBeenCalledWith("long enough one");
    expect(await done).toBe(true);
  });

  it("resolves false when the person chooses Not now", async () => {
    given(fileStore({}));
    const done = unlockSecrets();
    await flush();
    byTestId("unlock-later").click();
    expect(await done).toBe(false);
  });

  it("reads the store again first: a file another program removed asks for no password", async () => {
    // The page still thinks the file exists and is locked; meanwhile a command moved the secrets.
    secretStore.set(fileStore({}));
    current = fileStore({
      fileExists: false,
      fileRemoved: true,
      summary: "The encrypted file /home/a/.config/rythm-backup/secrets.vault that held the secrets was removed by another program (were the secrets moved to the OS keychain?). Start the app again to use the store that holds them now; nothing is saved until then.",
    });
    const done = unlockSecrets();
    await flush();
    expect(document.querySelector('[data-testid="unlock-modal"]')).toBeNull();
    expect(document.querySelector('[data-testid="master-password"]')).toBeNull();
    expect(byTestId("secrets-moved").textContent).toContain("Start the app again");
    byTestId("secrets-moved-close").click();
    expect(await done).toBe(false);
    expect(unlockSecretsApi).not.toHaveBeenCalled();
    expect(secretStore.value?.fileRemoved).toBe(true);
  });

  it("reads the store again first: a file made meanwhile is unlocked, not created anew", async () => {
    secretStore.set(fileStore({ fileExists: false }));
    current = fileStore({});
    const done = unlockSecrets();
    await flush();
    expect(document.querySelector('[data-testid="master-password-repeat"]')).toBeNull();
    byTestId("unlock-later").click();
    expect(await done).toBe(false);
    // Unlocked by now (another window, or the OS keychain): nothing to ask.
    current = fileStore({ unlocked: true });
    expect(await unlockSecrets()).toBe(true);
    expect(document.querySelector('[data-testid="unlock-modal"]')).toBeNull();
  });

  it("counts a new master password in characters, as the app does", async () => {
    expect(MIN_MASTER_PASSWORD_CHARS).toBe(8);
    // Four keys are eight UTF-16 units but four characters: too short for the app.
    expect(charCount("🔑🔑🔑🔑")).toBe(4);
    given(fileStore({ fileExists: false }));
    unlockSecretsApi.mockResolvedValueOnce(fileStore({ unlocked: true }));
    const done = unlockSecrets();
    await flush();
    expect(byTestId("unlock-modal").textContent).toContain(`At least ${MIN_MASTER_PASSWORD_CHARS} characters`);
    byTestId<HTMLInputElement>("master-password").value = "🔑🔑🔑🔑";
    byTestId<HTMLInputElement>("master-password-repeat").value = "🔑🔑🔑🔑";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).not.toHaveBeenCalled();
    byTestId<HTMLInputElement>("master-password").value = "🔑🔑🔑🔑🔑🔑🔑🔑";
    byTestId<HTMLInputElement>("master-password-repeat").value = "🔑🔑🔑🔑🔑🔑🔑🔑";
    byTestId("unlock-submit").click();
    await flush();
    expect(unlockSecretsApi).toHaveBeenCalledWith("🔑🔑🔑🔑🔑🔑🔑🔑");
    expect(await done).toBe(true);
  });
});
