// A stand-in for `@tauri-apps/api/core` in a plain browser: `npm run dev:mock` (Vite mode
// `preview-mock`) aliases the module to this file so the UI runs with fake data for design work
// and screenshots. It is never part of the production build (see vite.config.ts).
//
// Query parameters: `mock=empty` (no profile yet), `theme=dark|light`, `profile=NAME`,
// `signedout=1` (the API profile's session was refused), `fail=command:code` (repeatable with
// `,`), `slow=1` (jobs take minutes), `script=step;step` with steps `click:TESTID`,
// `type:TESTID:TEXT`, `wait:MS`, `hash:#/route`, `focus:TESTID`, `key:Tab`.

import type {
  ActivityEntry,
  BackupEntry,
  Check,
  Freshness,
  JobEvent,
  JobView,
  LocalCopy,
  ProfileInput,
  ProfileView,
  RestoreInput,
  ScheduleConfig,
  ScheduleUpdate,
  Settings,
  SettingsView,
  UiError,
  VerifiedBackup,
} from "./bindings";

const params = new URLSearchParams(location.search);
const slow = params.get("slow") === "1";
const failures = new Map(
  (params.get("fail") ?? "")
    .split(",")
    .filter(Boolean)
    .map((f) => f.split(":") as [string, string]),
);

export class Channel<T = unknown> {
  id = Math.floor(Math.random() * 1e9);
  onmessage: (response: T) => void;
  constructor(onmessage?: (response: T) => void) {
    this.onmessage = onmessage ?? (() => undefined);
  }
  toJSON(): string {
    return `__CHANNEL__:${this.id}`;
  }
}

export function isTauri(): boolean {
  return false;
}

const DAY = 86_400_000;
const now = Date.now();
const iso = (t: number): string => new Date(t).toISOString();

function backupName(t: number, ext: string): string {
  return `rythm-backup-${iso(t).replace(/:/g, "-").replace(".", "-")}.${ext}`;
}

function hex(seed: number): string {
  let x = seed;
  let s = "";
  for (let i = 0; i < 64; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += (x % 16).toString(16);
  }
  return s;
}

/** A backup as our engine lists it; `platform`: as the RYTHM platform's API lists its own
 *  (no metadata, no checksum, its `status`, 30-day retention). */
function entry(t: number, o: Partial<BackupEntry> & { ext?: string; retention?: number; platform?: boolean }): BackupEntry {
  const ext = o.ext ?? "sql.zst";
  const size = o.size ?? 200_000_000;
  const bare = (o.legacy ?? false) || !!o.platform;
  const legacy = bare && !o.platform;
  const retention = o.platform ? 30 : (o.retention ?? 10);
  const meta = <T>(value: T): T | null => (bare ? null : value);
  return {
    name: backupName(t, ext),
    size,
    createdAt: iso(t),
    format: ext.startsWith("dump") ? "custom" : "plain",
    compression: ext.endsWith("zst") ? "zstd" : ext.endsWith("gz") ? "gzip" : "none",
    sha256: meta(hex(t)),
    rawSize: meta(Math.round(size * 6.4)),
    database: meta("rythm"),
    serverVersion: meta("16.4"),
    pgDumpVersion: meta("16.4"),
    createdBy: o.createdBy === undefined ? meta("scheduler") : o.createdBy,
    toolVersion: meta("0.1.0"),
    durationMs: meta(38_000),
    type: o.type ?? "scheduled",
    status: o.platform ? (o.status ?? "completed") : null,
    legacy,
    ageSeconds: Math.round((now - t) / 1000),
    expiresAt: iso(t + retention * DAY),
    rowCounts: legacy ? null : { tables: 42, rows: 1_284_331 },
    verification: o.verification ?? null,
  };
}

function at0200(daysAgo: number): number {
  const d = new Date(now - daysAgo * DAY);
  d.setUTCHours(2, 0, 0, 417);
  return d.getTime();
}

const backups: Record<string, BackupEntry[]> = {
  production: [
    entry(now - 47 * 60_000, { type: "manual", createdBy: "anna.berg@rythm.app", size: 251_334_912 }),
    ...Array.from({ length: 11 }, (_, i) => entry(at0200(i + (new Date(now).getUTCHours() >= 2 ? 0 : 1)), { size: 240_000_000 - i * 3_700_000 })),
    entry(at0200(4) + 5 * 3600_000, { type: "pre-restore", createdBy: "anna.berg@rythm.app", size: 236_102_400 }),
    entry(at0200(13) + 9 * 3600_000, { ext: "sql", legacy: true, type: "manual", size: 1_404_211_200 }),
    entry(at0200(16) + 11 * 3600_000, { ext: "dump.zst", type: "manual", createdBy: "lars@rythm.app", size: 188_000_000 }),
  ],
  "rythm-cloud": Array.from({ length: 6 }, (_, i) =>
    entry(at0200(i * 2 + 1), { ext: "sql", platform: true, type: i % 3 === 2 ? "manual" : i === 5 ? "unknown" : "scheduled", createdBy: i % 3 === 2 ? "ops@rythm.app" : "system", size: 1_250_000_000 - i * 8_000_000 }),
  ),
  "local-demo": [],
};

const profiles: ProfileView[] =
  params.get("mock") === "empty"
    ? []
    : [
        {
          name: "production",
          mode: { type: "direct", database: { host: "db.rythm.internal", port: 5432, database: "rythm", user: "backup" }, storage: { type: "azure", container: "database-backups", sharedWithPlatform: false } },
          settings: { retentionDays: 10, format: "plain", compression: "zstd" },
          hasPassword: true,
          hasConnectionString: true,
          session: null,
          signedIn: true,
        },
        {
          name: "rythm-cloud",
          mode: { type: "api", baseUrl: "https://api.rythm.app", email: "ops@rythm.app" },
          settings: { retentionDays: 10, format: "plain", compression: "none" },
          hasPassword: false,
          hasConnectionString: false,
          session: { role: "system_admin", email: "ops@rythm.app", expiresAt: iso(now + 6 * DAY) },
          signedIn: params.get("signedout") !== "1",
        },
        {
          name: "local-demo",
          mode: { type: "direct", database: { host: "localhost", port: 5433, database: "rythm_dev", user: "postgres" }, storage: { type: "local", dir: "/home/admin/rythm-backups" } },
          settings: { retentionDays: 7, format: "custom", compression: "zstd" },
          hasPassword: false,
          hasConnectionString: false,
          session: null,
          signedIn: true,
        },
      ];

const theme = (params.get("theme") as Settings["theme"] | null) ?? "system";
let settings: Settings = { theme, defaults: { retentionDays: 10, format: "plain", compression: "zstd" }, activeProfile: params.get("profile") ?? "production" };

const localCopies: LocalCopy[] = [
  { path: `/home/admin/Downloads/${backups.production![1]!.name}`, name: backups.production![1]!.name, size: backups.production![1]!.size, sha256: hex(1), checksumVerified: true, downloadedAt: iso(now - 20 * 3600_000), profile: "production", exists: true },
  { path: `/home/admin/Downloads/${backups["rythm-cloud"]![0]!.name}`, name: backups["rythm-cloud"]![0]!.name, size: backups["rythm-cloud"]![0]!.size, sha256: hex(2), checksumVerified: null, downloadedAt: iso(now - 3 * DAY), profile: "rythm-cloud", exists: true },
  { path: `/mnt/usb/old/${backups.production![8]!.name}`, name: backups.production![8]!.name, size: backups.production![8]!.size, sha256: hex(3), checksumVerified: true, downloadedAt: iso(now - 9 * DAY), profile: "production", exists: false },
];

const activity: ActivityEntry[] = [
  { time: iso(now - 47 * 60_000), profile: "production", action: "create-backup", result: "ok", message: `created ${backups.production![0]!.name} (251334912 bytes)` },
  { time: iso(now - 3 * 3600_000), profile: "rythm-cloud", action: "sign-in", result: "ok", message: "signed in as ops@rythm.app" },
  { time: iso(now - 20 * 3600_000), profile: "production", action: "download-backup", result: "ok", message: `downloaded ${backups.production![1]!.name}` },
  { time: iso(now - 26 * 3600_000), profile: "production", action: "restore-backup", result: "failed", code: "database_in_use", message: "database rythm has 3 other session(s) connected (api@10.0.0.4, api@10.0.0.5, psql@10.0.0.9); they would block the restore" },
  { time: iso(now - 4 * DAY + 5 * 3600_000), profile: "production", action: "restore-backup", result: "ok", message: "restored rythm; safety backup rythm-backup-…-pre-restore" },
  { time: iso(now - 4 * DAY + 4 * 3600_000), profile: "production", action: "create-backup", result: "cancelled", message: "cancelled" },
  { time: iso(now - 5 * DAY), profile: "rythm-cloud", action: "set-schedule", result: "ok", message: "daily backup on at 02:00:00 UTC, kept 10 days" },
  { time: iso(now - 6 * DAY), profile: "production", action: "prune", result: "ok", message: "deleted 2 backups, kept 12" },
  { time: iso(now - 8 * DAY), profile: "local-demo", action: "save-profile", result: "ok", message: "profile saved" },
];

let schedule: ScheduleConfig = {
  schedule_id: 1,
  enabled: true,
  schedule_time: "02:00:00",
  retention_days: 10,
  last_run_at: iso(at0200(0)),
  next_run_at: iso(at0200(-1)),
  created_at: iso(now - 40 * DAY),
  updated_at: iso(now - 5 * DAY),
};

const running = new Map<string, { profile: string; action: JobView["action"]; cancelled: boolean; startedAt: string }>();

function fail(code: UiError["code"], message: string, detail?: string): never {
  const err: UiError = { code, message };
  if (detail) err.detail = detail;
  throw err;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function profileOf(name: unknown): ProfileView {
  const p = profiles.find((x) => x.name === name);
  if (!p) fail("not_found", `no profile named "${String(name)}"`);
  return p;
}

function requireSession(p: ProfileView): void {
  if (p.mode.type === "api" && !p.signedIn) {
    fail("auth_required", `sign in to ${p.mode.baseUrl} again: the server answered: Invalid or expired token`, 'Api(AuthRequired { server: "https://api.rythm.app", reason: "the server answered: Invalid or expired token" })');
  }
}

function startJob(profile: string, jobId: string, action: JobView["action"]): void {
  const busy = [...running.values()].find((j) => j.profile === profile);
  if (busy) fail("busy", `profile "${profile}" is already running ${busy.action}; wait for it to finish or cancel it`);
  running.set(jobId, { profile, action, cancelled: false, startedAt: new Date().toISOString() });
}

async function transfer(jobId: string, send: (e: JobEvent) => void, phase: JobEvent extends infer E ? (E extends { phase: infer P } ? P : never) : never, total: number | null, ms: number, ratio = 1): Promise<void> {
  send({ event: "phaseStarted", phase, name: null, total });
  const steps = Math.max(1, Math.round(ms / 120));
  const target = total ?? 240_000_000 * ratio;
  for (let i = 1; i <= steps; i++) {
    await sleep(120);
    if (running.get(jobId)?.cancelled) {
      running.delete(jobId);
      fail("cancelled", "cancelled");
    }
    const done = Math.round((target * i) / steps);
    if (phase === "dumping" || phase === "safety-backup") send({ event: "progress", phase, bytes: Math.round(done / 6.4), rawBytes: done, total: null });
    else send({ event: "progress", phase, bytes: done, rawBytes: null, total });
  }
}

type Args = Record<string, unknown>;
const handlers: Record<string, (a: Args) => Promise<unknown>> = {
  async list_profiles() {
    return profiles.map((p) => ({ ...p }));
  },
  async save_profile(a) {
    const input = a.input as ProfileInput;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(input.name)) fail("invalid_input", `invalid profile name "${input.name}"`);
    const view: ProfileView = {
      name: input.name,
      mode: input.mode,
      settings: input.settings ?? settings.defaults,
      hasPassword: input.mode.type === "direct" && !!input.password,
      hasConnectionString: !!input.azureConnectionString,
      session: null,
      signedIn: input.mode.type === "direct",
    };
    const i = profiles.findIndex((p) => p.name === input.name);
    if (i >= 0) profiles[i] = { ...profiles[i]!, mode: view.mode, settings: view.settings };
    else profiles.push(view);
    backups[input.name] ??= [];
    if (input.mode.type === "api" && input.password) await handlers.sign_in!({ profile: input.name, password: input.password });
    return profiles.find((p) => p.name === input.name);
  },
  async remove_profile(a) {
    const i = profiles.findIndex((p) => p.name === a.name);
    if (i >= 0) profiles.splice(i, 1);
    return i >= 0;
  },
  async test_connection(a) {
    const p = profileOf(a.name);
    await sleep(700);
    if (p.mode.type === "api") {
      return [
        { id: "server", label: "Backup server reachable", ok: true, detail: `${p.mode.baseUrl} answered in 84 ms` },
        { id: "sign_in", label: "Signed in", ok: p.signedIn, detail: p.signedIn ? `as ${p.mode.email}, until ${new Date(now + 6 * DAY).toLocaleString()}` : "no valid sign-in: sign in again" },
        { id: "role", label: "Account is a system admin", ok: p.signedIn, detail: p.signedIn ? "role system_admin" : "unknown until signed in" },
      ] satisfies Check[];
    }
    const toolsOk = !failures.has("pg_tools");
    return [
      { id: "database", label: "Database reachable", ok: true, detail: `PostgreSQL 16.4 at ${p.mode.database.host}:${p.mode.database.port}/${p.mode.database.database}` },
      { id: "pg_tools", label: "PostgreSQL client tools match the server", ok: toolsOk, detail: toolsOk ? "pg_dump 16.4 and psql 16.4 in /usr/lib/postgresql/16/bin" : "pg_dump 15.8 is older than the server (16.4); install the PostgreSQL 16 client tools" },
      { id: "storage", label: "Backup storage reachable", ok: true, detail: p.mode.storage.type === "azure" ? `container ${p.mode.storage.container} in account rythmprodbackups` : `folder ${p.mode.storage.dir} is writable` },
    ] satisfies Check[];
  },
  async sign_in(a) {
    const p = profileOf(a.profile);
    await sleep(500);
    if (p.mode.type !== "api") fail("unsupported", "signing in is for API profiles");
    if (a.password === "wrong") fail("auth_required", `sign in to ${p.mode.baseUrl} again: the email or password was refused (Invalid credentials)`);
    if (a.password === "viewer") fail("not_admin", `this account is not a system admin (the server answered: Admin access required); backups at ${p.mode.baseUrl} need one`);
    p.signedIn = true;
    p.session = { role: "system_admin", email: p.mode.email, expiresAt: iso(Date.now() + 7 * DAY) };
    return p.session;
  },
  async sign_out(a) {
    const p = profileOf(a.profile);
    p.signedIn = false;
    p.session = null;
    return true;
  },
  async list_backups(a) {
    const p = profileOf(a.profile);
    await sleep(450);
    requireSession(p);
    return [...(backups[p.name] ?? [])].sort((x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt));
  },
  async backup_freshness(a) {
    // A stand-in for the engine's `freshness::assess`, enough for design work: the real
    // rule lives in Rust and reaches the app through this command.
    const p = profileOf(a.profile);
    await sleep(120);
    requireSession(p);
    const staleAfterHours = 26;
    const all = backups[p.name] ?? [];
    const newest = <T>(items: T[], time: (t: T) => number): T | null => items.reduce<T | null>((x, y) => (x === null || time(y) > time(x) ? y : x), null);
    const last = newest(
      all.filter((e) => e.type !== "pre-restore"),
      (e) => Date.parse(e.createdAt),
    );
    const verified = (okOnly: boolean): VerifiedBackup | null => {
      const e = newest(
        all.filter((x) => x.verification !== null && (!okOnly || x.verification.ok)),
        (x) => Date.parse(x.verification!.at),
      );
      return e ? { backup: e.name, verification: e.verification! } : null;
    };
    const ageSeconds = last ? Math.round((Date.now() - Date.parse(last.createdAt)) / 1000) : null;
    const freshness: Freshness = {
      lastBackup: last?.name ?? null,
      lastSuccessAt: last?.createdAt ?? null,
      ageSeconds,
      lastVerification: verified(false),
      lastSuccessfulVerification: verified(true),
      stale: ageSeconds === null || ageSeconds > staleAfterHours * 3600,
      staleAfterHours,
    };
    return freshness;
  },
  async create_backup(a) {
    const p = profileOf(a.profile);
    requireSession(p);
    const jobId = String(a.jobId);
    const ch = a.onEvent as Channel<JobEvent>;
    startJob(p.name, jobId, "create-backup");
    try {
      await transfer(jobId, (e) => ch.onmessage(e), "dumping", null, slow ? 600_000 : 4500);
      const e = entry(Date.now(), { type: "manual", createdBy: p.mode.type === "api" ? p.mode.email : "admin@workstation", size: 242_883_174, retention: p.settings.retentionDays });
      backups[p.name] = [e, ...(backups[p.name] ?? [])];
      return { ...e, message: null, pruned: [], pruneError: null };
    } finally {
      running.delete(jobId);
    }
  },
  async verify_backup(a) {
    const p = profileOf(a.profile);
    requireSession(p);
    const e = (backups[p.name] ?? []).find((x) => x.name === a.name) ?? fail("not_found", `no backup ${String(a.name)}`);
    const jobId = String(a.jobId);
    const ch = a.onEvent as Channel<JobEvent>;
    startJob(p.name, jobId, "verify-backup");
    try {
      await transfer(jobId, (ev) => ch.onmessage(ev), "restoring", e.size, slow ? 600_000 : 3000);
      const tables = [
        { schema: "public", table: "tenants", rows: 5 },
        { schema: "public", table: "workouts", rows: 20_000 },
      ];
      const verification = { at: new Date().toISOString(), ok: true, restoreSeconds: 3.1, tables: 2, rows: 20_005, mismatches: [], compared: !e.legacy };
      e.verification = verification;
      return { name: e.name, ok: true, sha256: e.sha256, checksumVerified: e.sha256 ? true : null, tables, totalRows: 20_005, scratchDatabase: "rythm_verify_1a2b3c4d", scratchServer: "db.internal:5432", durationMs: 3100, verification };
    } finally {
      running.delete(jobId);
    }
  },
  async download_backup(a) {
    const p = profileOf(a.profile);
    const e = (backups[p.name] ?? []).find((x) => x.name === a.name) ?? fail("not_found", `no backup ${String(a.name)}`);
    const jobId = String(a.jobId);
    const ch = a.onEvent as Channel<JobEvent>;
    startJob(p.name, jobId, "download-backup");
    try {
      await sleep(300); // the save dialog
      await transfer(jobId, (ev) => ch.onmessage(ev), "downloading", e.size, slow ? 600_000 : 3500);
      const path = `/home/admin/Downloads/${e.name}`;
      localCopies.unshift({ path, name: e.name, size: e.size, sha256: e.sha256 ?? hex(9), checksumVerified: e.sha256 ? true : null, downloadedAt: new Date().toISOString(), profile: p.name, exists: true });
      return { name: e.name, path, size: e.size, sha256: e.sha256 ?? hex(9), checksumVerified: e.sha256 ? true : null, resumedFrom: 0, durationMs: 3500 };
    } finally {
      running.delete(jobId);
    }
  },
  // The API profile stands for the RYTHM platform: no safety backup, no options.
  async restore_features(a) {
    const p = profileOf(a.profile);
    await sleep(150);
    const all = p.mode.type === "direct";
    return { safetyBackup: all, skipSafetyBackup: all, terminateConnections: all, checksConfirmation: all, partialRestore: all, contents: all };
  },
  async restore_backup(a) {
    const p = profileOf(a.profile);
    requireSession(p);
    const options = a.options as RestoreInput;
    // The platform names no database: its backups are confirmed with their own name.
    const db = p.mode.type === "direct" ? (options.targetDatabase ?? p.mode.database.database) : String(a.name);
    if (options.confirm !== db) fail("confirmation_mismatch", `confirmation "${options.confirm}" does not match "${db}"`);
    if (failures.has("restore_backup")) fail(failures.get("restore_backup") as UiError["code"], "database rythm has 3 other session(s) connected (api@10.0.0.4, api@10.0.0.5, psql@10.0.0.9); they would block the restore. Close them, or pass --terminate-connections to end them first", 'DatabaseInUse { database: "rythm", count: 3, sessions: "api@10.0.0.4, api@10.0.0.5, psql@10.0.0.9" }');
    const jobId = String(a.jobId);
    const ch = a.onEvent as Channel<JobEvent>;
    startJob(p.name, jobId, "restore-backup");
    const source = (backups[p.name] ?? []).find((x) => x.name === a.name);
    try {
      let safety: string | null = null;
      if (p.mode.type === "direct" && !options.skipSafetyBackup && !options.create) {
        await transfer(jobId, (ev) => ch.onmessage(ev), "safety-backup", null, slow ? 600_000 : 2000);
        const s = entry(Date.now(), { type: "pre-restore", createdBy: "admin@workstation", size: 239_001_234, retention: p.settings.retentionDays });
        backups[p.name] = [s, ...(backups[p.name] ?? [])];
        safety = s.name;
      }
      await transfer(jobId, (ev) => ch.onmessage(ev), "restoring", source?.size ?? 200_000_000, 2500);
      return { name: String(a.name), database: p.mode.type === "direct" ? db : null, safetyBackup: safety, message: p.mode.type === "api" ? "Database restored successfully" : null, bytes: source?.size ?? null, checksumVerified: source?.sha256 ? true : null, terminatedSessions: options.terminateConnections ? 2 : 0, createdDatabase: !!options.create, durationMs: 4600, noSafetyBackup: p.mode.type === "api" ? "not-offered" : options.skipSafetyBackup ? "skipped" : null };
    } finally {
      running.delete(jobId);
    }
  },
  async restore_local_copy(a) {
    const p = profileOf(a.profile);
    if (p.mode.type !== "direct") fail("unsupported", "restoring a local copy works with a direct profile only");
    const summary = (await handlers.restore_backup!({ ...a, name: String(a.path).split("/").pop() })) as Record<string, unknown>;
    return { source: a.path, database: summary.database, server: `${p.mode.database.host}:${p.mode.database.port}`, createdDatabase: summary.createdDatabase, safetyBackup: summary.safetyBackup, terminatedSessions: summary.terminatedSessions, bytes: 1, sha256: hex(4), checksumVerified: true, format: "plain", compression: "zstd", durationMs: 4100 };
  },
  async delete_backup(a) {
    const p = profileOf(a.profile);
    await sleep(400);
    backups[p.name] = (backups[p.name] ?? []).filter((x) => x.name !== a.name);
    return null;
  },
  async prune(a) {
    const p = profileOf(a.profile);
    if (p.mode.type !== "direct") fail("unsupported", "pruning works with a direct profile only");
    await sleep(400);
    const list = [...(backups[p.name] ?? [])].sort((x, y) => Date.parse(y.createdAt) - Date.parse(x.createdAt));
    const cutoff = Date.now() - p.settings.retentionDays * DAY;
    const approved = (a.approved ?? null) as string[] | null;
    const old = list.slice(1).filter((x) => Date.parse(x.createdAt) < cutoff && (a.dryRun || (approved ?? []).includes(x.name)));
    if (!a.dryRun) backups[p.name] = list.filter((x) => !old.includes(x));
    return { dryRun: !!a.dryRun, retentionDays: p.settings.retentionDays, deleted: old.map((x) => ({ name: x.name, size: x.size, createdAt: x.createdAt })), kept: list.length - old.length };
  },
  async cancel_job(a) {
    const j = running.get(String(a.jobId));
    if (j) j.cancelled = true;
    return !!j;
  },
  async running_jobs() {
    return [...running.entries()].map(([jobId, j]) => ({ jobId, profile: j.profile, action: j.action, startedAt: j.startedAt }));
  },
  async get_schedule(a) {
    const p = profileOf(a.profile);
    await sleep(300);
    if (p.mode.type !== "api") fail("unsupported", "the daily schedule belongs to a backup server");
    requireSession(p);
    return schedule;
  },
  async set_schedule(a) {
    const u = a.update as ScheduleUpdate;
    await sleep(300);
    if (u.retention_days != null && (u.retention_days < 1 || u.retention_days > 90)) fail("invalid_input", "https://api.rythm.app refused the request: retention_days must be between 1 and 90");
    schedule = { ...schedule, enabled: u.enabled, schedule_time: u.schedule_time ?? schedule.schedule_time, retention_days: u.retention_days ?? schedule.retention_days, updated_at: new Date().toISOString() };
    return schedule;
  },
  async list_local_copies() {
    await sleep(200);
    return localCopies.map((c) => ({ ...c }));
  },
  async remove_from_list(a) {
    const i = localCopies.findIndex((c) => c.path === a.path);
    if (i >= 0) localCopies.splice(i, 1);
    return i >= 0;
  },
  async show_in_folder() {
    return null;
  },
  async secret_store() {
    return {
      kind: "os-keychain",
      name: "Secret Service",
      summary: "Secrets are kept in the OS keychain (Secret Service).",
      reason: null,
      file: "/home/admin/.config/rythm-backup/secrets.vault",
      fileExists: false,
      fileRemoved: false,
      unlocked: true,
      fileEntries: 0,
      osKeychain: "Secret Service",
      osKeychainProblem: null,
      canMove: false,
      moveBlocker: "the secrets are in the OS keychain already",
    };
  },
  async get_settings(): Promise<SettingsView> {
    return { settings, logDir: "/home/admin/.local/share/com.rythm.backupadmin/logs", profilesFile: "/home/admin/.config/rythm-backup/profiles.json", version: "0.1.0" };
  },
  async save_settings(a) {
    settings = a.settings as Settings;
    return handlers.get_settings!({});
  },
  async list_activity() {
    await sleep(200);
    return activity;
  },
  async check_for_update() {
    await sleep(600);
    return { available: true, currentVersion: "0.1.0", version: "0.2.0", notes: "Faster restores of custom-format backups, and a clearer message when pg_dump is too old.", date: iso(now - 2 * DAY) };
  },
  async install_update(a) {
    const ch = a.onEvent as Channel<{ event: string; downloaded?: number; total?: number | null }>;
    for (let i = 1; i <= 10; i++) {
      await sleep(150);
      ch.onmessage({ event: "progress", downloaded: i * 620_000, total: 6_200_000 });
    }
    ch.onmessage({ event: "installing" });
    await sleep(400);
    return { available: true, currentVersion: "0.1.0", version: "0.2.0", notes: null, date: null };
  },
  async restart_app() {
    location.reload();
    return null;
  },
};

export async function invoke<T>(cmd: string, args: Args = {}): Promise<T> {
  const forced = failures.get(cmd);
  if (forced && cmd !== "restore_backup") {
    await sleep(300);
    const messages: Record<string, string> = {
      unreachable: "cannot reach https://api.rythm.app: error sending request: connection refused (os error 111)",
      storage_auth: "Azure refused the credentials for container database-backups (403 AuthenticationFailed)",
      tool_missing: "pg_dump 16 or newer is needed for server 16.4; found pg_dump 15.8",
    };
    fail(forced as UiError["code"], messages[forced] ?? `${cmd} failed (${forced})`, `Error { code: ${forced} }`);
  }
  const handler = handlers[cmd];
  if (!handler) throw `command ${cmd} not found`;
  return (await handler(args)) as T;
}

// ---- A tiny script runner for screenshots and manual checks --------------------------------

async function find(testid: string): Promise<HTMLElement> {
  for (let i = 0; i < 60; i++) {
    const el = document.querySelector<HTMLElement>(`[data-testid="${CSS.escape(testid)}"]`);
    if (el) return el;
    await sleep(50);
  }
  throw new Error(`no element with data-testid=${testid}`);
}

async function runScript(script: string): Promise<void> {
  await sleep(700);
  for (const step of script.split(";").filter(Boolean)) {
    const [verb, target = "", ...rest] = step.split(":");
    try {
      if (verb === "click") (await find(target)).click();
      else if (verb === "clickprefix") {
        // The first element whose testid starts with TARGET (row actions carry backup names).
        for (let i = 0; i < 60 && !document.querySelector(`[data-testid^="${target}"]`); i++) await sleep(50);
        document.querySelector<HTMLElement>(`[data-testid^="${target}"]`)?.click();
      }
      else if (verb === "focus") (await find(target)).focus();
      else if (verb === "focusprefix") document.querySelector<HTMLElement>(`[data-testid^="${target}"]`)?.focus();
      else if (verb === "type") {
        const el = (await find(target)) as HTMLInputElement;
        el.focus();
        el.value = rest.join(":");
        el.dispatchEvent(new Event("input", { bubbles: true }));
      } else if (verb === "wait") await sleep(Number(target));
      else if (verb === "hash") location.hash = [target, ...rest].join(":");
      else if (verb === "open") ((await find(target)) as HTMLDetailsElement).open = true;
      else if (verb === "measure") {
        // Layout numbers for debugging, readable with chromium --dump-dom.
        const sel = [target, ...rest].join(":");
        const out = [...document.querySelectorAll<HTMLElement>(sel)].map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().width)}x${Math.round(el.getBoundingClientRect().height)} scroll=${el.scrollWidth}`);
        document.body.setAttribute("data-measure", out.join(" | "));
      }
      await sleep(120);
    } catch (e) {
      console.error("script step failed", step, e);
    }
  }
}

// `font=NAME` previews the UI with another font (e.g. a Linux desktop without Inter).
const font = params.get("font");
if (font) document.documentElement.style.setProperty("--font", `"${font}", sans-serif`);

const script = params.get("script");
if (script) void runScript(decodeURIComponent(script));
