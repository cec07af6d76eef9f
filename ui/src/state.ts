// The app's state: profiles, the active one, settings, the backups list per profile, sign-in
// state and the running job of each profile (one at a time per profile).

import * as api from "./api";
import type { BackupEntry, JobEvent, ProfileView, SettingsView, UiError } from "./bindings";
import { applyEvent, busyReason, kindOfAction, startJob, type JobKind, type JobProgress } from "./lib/jobs";
import { Signal } from "./ui/signal";

export type Profile = ProfileView;

export const profiles = new Signal<ProfileView[]>([]);
export const activeName = new Signal<string | null>(null);
export const settings = new Signal<SettingsView | null>(null);

/**
 * API profiles whose server refused the stored sign-in since the list was read (the list's
 * `signedIn` only knows the token's own expiry).
 */
export const refusedSessions = new Signal<ReadonlySet<string>>(new Set());

export type ListState =
  | { status: "idle" }
  | { status: "loading"; entries: BackupEntry[] | null }
  | { status: "ready"; entries: BackupEntry[]; loadedAt: number }
  | { status: "error"; error: UiError; entries: BackupEntry[] | null };

export const backups = new Signal<Record<string, ListState>>({});

export interface RunningJob {
  id: string;
  profile: string;
  kind: JobKind;
  progress: JobProgress;
  cancelling: boolean;
  /** Started before this page loaded (found through `running_jobs`): no progress arrives. */
  orphan: boolean;
}

export const jobs = new Signal<Record<string, RunningJob>>({});

export function activeProfile(): ProfileView | null {
  const name = activeName.value;
  return profiles.value.find((p) => p.name === name) ?? null;
}

/** Whether an API profile can call its server now (direct profiles always can). */
export function signedIn(p: ProfileView): boolean {
  if (p.mode.type !== "api") return true;
  return p.signedIn && !refusedSessions.value.has(p.name);
}

/** Switches profile and remembers it as the one to show at the next start. */
export function setActive(name: string | null): void {
  if (activeName.value === name) return;
  activeName.set(name);
  const view = settings.value;
  if (!view || !name || view.settings.activeProfile === name) return;
  const next = { ...view.settings, activeProfile: name };
  settings.set({ ...view, settings: next });
  api.saveSettings(next).catch((e: unknown) => console.warn("could not remember the active profile", e));
}

export async function loadProfiles(): Promise<ProfileView[]> {
  const list = await api.listProfiles();
  profiles.set(list);
  refusedSessions.set(new Set());
  const current = activeName.value ?? settings.value?.settings.activeProfile ?? null;
  const keep = list.find((p) => p.name === current) ?? list[0] ?? null;
  activeName.set(keep ? keep.name : null);
  return list;
}

export function setListState(profile: string, state: ListState): void {
  backups.update((all) => ({ ...all, [profile]: state }));
}

/** Loads (or reloads) a profile's backups; keeps the old rows visible while loading. */
export async function refreshBackups(profile: string): Promise<void> {
  const previous = backups.value[profile];
  const entries = previous && "entries" in previous ? previous.entries : null;
  setListState(profile, { status: "loading", entries });
  try {
    const list = await api.listBackups(profile);
    setListState(profile, { status: "ready", entries: list, loadedAt: Date.now() });
  } catch (e) {
    const error = e as UiError;
    if (error.code === "auth_required") markSignedOut(profile);
    setListState(profile, { status: "error", error, entries });
  }
}

export function markSignedOut(profile: string): void {
  refusedSessions.update((set) => new Set([...set, profile]));
}

/** After a successful sign-in: re-read the profiles (their `session`) and forget the refusal. */
export async function afterSignIn(profile: string): Promise<void> {
  refusedSessions.update((set) => new Set([...set].filter((p) => p !== profile)));
  await loadProfiles().catch(() => undefined);
}

/** Why a new job cannot start for `profile` now, or null when it can. */
export function jobBlocker(profile: string): string | null {
  const job = jobs.value[profile];
  return job ? busyReason(job.kind, profile) : null;
}

/**
 * Runs one job for a profile: refuses when another runs, tracks its progress from the
 * channel's events, and always clears it at the end.
 */
export async function runJob<T>(
  profile: string,
  kind: JobKind,
  subject: string | null,
  body: (jobId: string, onEvent: (e: JobEvent) => void) => Promise<T>,
): Promise<T> {
  const blocker = jobBlocker(profile);
  if (blocker) throw { code: "busy", message: blocker } satisfies UiError;
  const id = api.newJobId();
  const job: RunningJob = { id, profile, kind, progress: startJob(kind, subject, Date.now()), cancelling: false, orphan: false };
  jobs.update((all) => ({ ...all, [profile]: job }));
  const onEvent = (event: JobEvent): void => {
    jobs.update((all) => {
      const current = all[profile];
      if (!current || current.id !== id) return all;
      return { ...all, [profile]: { ...current, progress: applyEvent(current.progress, event, Date.now()) } };
    });
  };
  try {
    return await body(id, onEvent);
  } finally {
    clearJob(profile, id);
  }
}

function clearJob(profile: string, id: string): void {
  jobs.update((all) => {
    if (all[profile]?.id !== id) return all;
    const next = { ...all };
    delete next[profile];
    return next;
  });
}

/** Asks the shell to stop a profile's job; the job's own call then rejects with `cancelled`. */
export async function cancelJob(profile: string): Promise<void> {
  const job = jobs.value[profile];
  if (!job || job.cancelling) return;
  jobs.update((all) => ({ ...all, [profile]: { ...job, cancelling: true } }));
  try {
    await api.cancelJob(job.id);
  } catch (e) {
    jobs.update((all) => (all[profile]?.id === job.id ? { ...all, [profile]: { ...job, cancelling: false } } : all));
    throw e;
  }
}

/**
 * Jobs the shell runs that this page did not start (the window was reloaded while one ran):
 * they still block their profile, and are polled until they end.
 */
export async function adoptRunningJobs(): Promise<void> {
  let list;
  try {
    list = await api.runningJobs();
  } catch {
    return;
  }
  const mine = new Set(Object.values(jobs.value).filter((j) => !j.orphan).map((j) => j.id));
  const orphans = list.filter((j) => !mine.has(j.jobId));
  jobs.update((all) => {
    const next: Record<string, RunningJob> = {};
    for (const [profile, job] of Object.entries(all)) if (!job.orphan) next[profile] = job;
    for (const j of orphans) {
      if (next[j.profile]) continue;
      const kind = kindOfAction(j.action);
      const started = Date.parse(j.startedAt);
      next[j.profile] = {
        id: j.jobId,
        profile: j.profile,
        kind,
        progress: startJob(kind, null, Number.isNaN(started) ? Date.now() : started),
        cancelling: all[j.profile]?.id === j.jobId ? all[j.profile]!.cancelling : false,
        orphan: true,
      };
    }
    return next;
  });
  if (orphans.length) window.setTimeout(() => void adoptRunningJobs(), 2000);
}

/** Where a profile works, for headers and cards. */
export function describeProfile(p: { mode: ProfileView["mode"] }): {
  mode: string;
  target: string;
  storage: string | null;
  /** The storage in a sentence: "the Azure container database-backups". */
  storagePhrase: string;
} {
  if (p.mode.type === "api") {
    return { mode: "API", target: p.mode.baseUrl, storage: null, storagePhrase: p.mode.baseUrl };
  }
  const db = p.mode.database;
  const s = p.mode.storage;
  const storage = s.type === "azure" ? `Azure · ${s.container}` : `Folder · ${s.dir}`;
  const storagePhrase = s.type === "azure" ? `the Azure container ${s.container}` : `the folder ${s.dir}`;
  return { mode: "Direct", target: `${db.host}:${db.port}/${db.database}`, storage, storagePhrase };
}
