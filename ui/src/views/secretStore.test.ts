// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { SecretStoreInfo } from "../bindings";

const unlockSecretsApi = vi.fn();
vi.mock("../api", () => ({
  secretStore: vi.fn(async () => fileStore({})),
  unlockSecrets: (...args: unknown[]) => unlockSecretsApi(...args),
  listProfiles: vi.fn(async () => []),
  saveSettings: vi.fn(async () => undefined),
}));

const { needsUnlock, secretStore, unlockSecrets, welcomeStoreNote } = await import("./secretStore");

function fileStore(over: Partial<SecretStoreInfo>): SecretStoreInfo {
  return {
    kind: "encrypted-file",
    name: "encrypted file",
    summary: "Secrets are kept in an encrypted file, /home/a/.config/rythm-backup/secrets.vault, because no OS keychain is available: no D-Bus.",
    reason: "no OS keychain is available: no D-Bus",
    file: "/home/a/.config/rythm-backup/secrets.vault",
    fileExists: true,
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

beforeEach(() => {
  document.body.replaceChildren(Object.assign(document.createElement("div"), { id: "app" }));
  unlockSecretsApi.mockReset();
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
    secretStore.set(fileStore({}));
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
    secretStore.set(fileStore({ fileExists: false }));
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
    secretStore.set(fileStore({}));
    const done = unlockSecrets();
    await flush();
    byTestId("unlock-later").click();
    expect(await done).toBe(false);
  });
});
