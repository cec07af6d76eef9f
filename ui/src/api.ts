// The only place that talks to the Tauri shell: one typed wrapper per command, with the
// generated bindings (src/bindings, from src-tauri/bindings.rs). Command names are the Rust
// functions' (snake_case); arguments are camelCase, as Tauri maps them. Every rejection is
// normalised to a `UiError` ({code, message, detail?}).

import { Channel, invoke } from "@tauri-apps/api/core";

import type {
  ActivityEntry,
  BackupContents,
  BackupEntry,
  Check,
  CreateOutcome,
  DownloadOutcome,
  Freshness,
  JobEvent,
  JobView,
  LocalCopy,
  MoveOutcome,
  PartialRestoreInput,
  PartialRestoreOutcome,
  ProfileInput,
  ProfileView,
  PruneOutcome,
  RestoreFeatures,
  RestoreInput,
  RestoreOutcome,
  RestoreSummary,
  RoleInfo,
  ScheduleConfig,
  ScheduleUpdate,
  SecretStoreInfo,
  Settings,
  SettingsView,
  TokenInfo,
  UiError,
  UpdateEvent,
  UpdateInfo,
  VerifyOutcome,
} from "./bindings";
import { toUiError } from "./lib/errors";

export type { UiError };

/** Receives a job's progress events. */
export type OnJobEvent = (event: JobEvent) => void;

/** The secret store's own commands: their `secrets_locked` answers go to the unlock dialog that
 *  called them, never back into `onLocked`. */
const SECRET_COMMANDS = new Set(["secret_store", "unlock_secrets", "change_master_password", "move_secrets_to_keychain"]);

/** Asks for the master password when a command finds the secrets locked; `true` once unlocked. */
let onLocked: (() => Promise<boolean>) | null = null;

export function setLockedHandler(handler: () => Promise<boolean>): void {
  onLocked = handler;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    const error = toUiError(raw);
    // The encrypted secret store needs its master password: ask, then try once more.
    if (error.code === "secrets_locked" && onLocked && !SECRET_COMMANDS.has(command) && (await onLocked())) {
      try {
        return await invoke<T>(command, args);
      } catch (again) {
        throw toUiError(again);
      }
    }
    throw error;
  }
}

function channel<T>(onEvent: (event: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onEvent;
  return ch;
}

/** A fresh job id (1–64 of `[A-Za-z0-9_-]`); the UI picks it so it can cancel before the call returns. */
export function newJobId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `job-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

// Profiles and sign-in

export const listProfiles = (): Promise<ProfileView[]> => call("list_profiles");

/** Saves a profile and its secrets; an API profile given a password signs in right away (the
 * profile stays saved when that fails, and the error says why). */
export const saveProfile = (input: ProfileInput): Promise<ProfileView> => call("save_profile", { input });

/** `false` when there was no such profile. */
export const removeProfile = (name: string): Promise<boolean> => call("remove_profile", { name });

export const testConnection = (name: string): Promise<Check[]> => call("test_connection", { name });

export const signIn = (profile: string, password: string): Promise<TokenInfo> => call("sign_in", { profile, password });

/** `false` when no sign-in was stored. */
export const signOut = (profile: string): Promise<boolean> => call("sign_out", { profile });

// The secret store (OS keychain, or the encrypted file when no keychain is reachable)

export const secretStore = (): Promise<SecretStoreInfo> => call("secret_store");

/** Opens the encrypted file for this run of the app; with no file yet, `password` becomes its new master password. */
export const unlockSecrets = (password: string): Promise<SecretStoreInfo> => call("unlock_secrets", { password });

export const changeMasterPassword = (current: string, next: string): Promise<SecretStoreInfo> =>
  call("change_master_password", { current, new: next });

/** All or nothing: on success the encrypted file is gone. */
export const moveSecretsToKeychain = (): Promise<MoveOutcome> => call("move_secrets_to_keychain");

// Backups

export const listBackups = (profile: string): Promise<BackupEntry[]> => call("list_backups", { profile });

export const createBackup = (profile: string, jobId: string, onEvent: OnJobEvent): Promise<CreateOutcome> =>
  call("create_backup", { profile, jobId, onEvent: channel(onEvent) });

/** The shell opens the native save dialog; dismissing it rejects with `cancelled`. */
export const downloadBackup = (profile: string, name: string, jobId: string, onEvent: OnJobEvent): Promise<DownloadOutcome> =>
  call("download_backup", { profile, name, jobId, onEvent: channel(onEvent) });

/** What the profile's server does around a restore (a direct profile: everything). */
export const restoreFeatures = (profile: string): Promise<RestoreFeatures> => call("restore_features", { profile });
export const restoringRole = (profile: string): Promise<RoleInfo | null> => call("restoring_role", { profile });

export const restoreBackup = (
  profile: string,
  name: string,
  options: RestoreInput,
  jobId: string,
  onEvent: OnJobEvent,
): Promise<RestoreSummary> => call("restore_backup", { profile, name, options, jobId, onEvent: channel(onEvent) });

/** Direct profiles only. */
export const restoreLocalCopy = (
  profile: string,
  path: string,
  options: RestoreInput,
  jobId: string,
  onEvent: OnJobEvent,
): Promise<RestoreOutcome> => call("restore_local_copy", { profile, path, options, jobId, onEvent: channel(onEvent) });

/** How fresh a profile's backups are, by the engine's rule (API mode: the server's threshold). */
export const backupFreshness = (profile: string): Promise<Freshness> => call("backup_freshness", { profile });

/** A restore rehearsal into a scratch database (API mode: the server's verify endpoint). */
export const verifyBackup = (profile: string, name: string, jobId: string, onEvent: OnJobEvent): Promise<VerifyOutcome> =>
  call("verify_backup", { profile, name, jobId, onEvent: channel(onEvent) });

/**
 * What a backup holds, with rows per value of `tenantColumn` (default `tenant_id`). The read
 * streams the whole backup: when `signal` aborts (its dialog closed) the app stops it.
 */
export function backupContents(profile: string, name: string, tenantColumn?: string, signal?: AbortSignal): Promise<BackupContents> {
  const readId = `contents-${newJobId()}`;
  const stop = (): void => void cancelJob(readId).catch(() => undefined);
  signal?.addEventListener("abort", stop, { once: true });
  const args = tenantColumn === undefined ? { profile, name, readId } : { profile, name, tenantColumn, readId };
  return call<BackupContents>("backup_contents", args).finally(() => signal?.removeEventListener("abort", stop));
}

/** Chosen tables or one tenant's rows; `dryRun` previews and changes nothing. */
export const partialRestore = (
  profile: string,
  name: string,
  options: PartialRestoreInput,
  jobId: string,
  onEvent: OnJobEvent,
): Promise<PartialRestoreOutcome> => call("partial_restore", { profile, name, options, jobId, onEvent: channel(onEvent) });

export const deleteBackup = (profile: string, name: string): Promise<void> => call("delete_backup", { profile, name });

/** Direct profiles only; a dry run only lists what would go. */
/** A dry run (`approved` null) lists what retention would delete; the real run deletes only the
 *  `approved` names (those reviewed) that are still due. */
export const prune = (profile: string, approved: string[] | null): Promise<PruneOutcome> =>
  call("prune", { profile, dryRun: approved === null, approved });

/** `false` when no job has this id. The job's own call then rejects with `cancelled`. */
export const cancelJob = (jobId: string): Promise<boolean> => call("cancel_job", { jobId });

export const runningJobs = (): Promise<JobView[]> => call("running_jobs");

// Schedule (API mode)

export const getSchedule = (profile: string): Promise<ScheduleConfig> => call("get_schedule", { profile });

export const setSchedule = (profile: string, update: ScheduleUpdate): Promise<ScheduleConfig> =>
  call("set_schedule", { profile, update });

// Local copies

export const listLocalCopies = (): Promise<LocalCopy[]> => call("list_local_copies");

/** Forgets a copy; the file stays. */
export const removeFromList = (path: string): Promise<boolean> => call("remove_from_list", { path });

export const showInFolder = (path: string): Promise<void> => call("show_in_folder", { path });

// App

export const getSettings = (): Promise<SettingsView> => call("get_settings");

export const saveSettings = (settings: Settings): Promise<SettingsView> => call("save_settings", { settings });

/** Newest first; `limit` defaults to 500 in the shell. */
export const listActivity = (limit?: number): Promise<ActivityEntry[]> =>
  call("list_activity", limit === undefined ? {} : { limit });

export const checkForUpdate = (): Promise<UpdateInfo> => call("check_for_update");

/** Downloads, verifies and installs the update; the app runs the old version until `restartApp`. */
export const installUpdate = (onEvent: (event: UpdateEvent) => void): Promise<UpdateInfo> =>
  call("install_update", { onEvent: channel(onEvent) });

export const restartApp = (): Promise<void> => call("restart_app");
