// A running job's progress, folded from the engine's `JobEvent`s, and the words and numbers
// the progress bar shows. Pure: the clock is a parameter.

import type { Action, JobEvent, Phase } from "../bindings";
import { formatBytes, formatElapsed, formatRate } from "./format";

export type JobKind = "create" | "download" | "restore" | "restore-local" | "rollback" | "verify" | "preview" | "other";

/** The kind of a job the shell reports (`running_jobs`) that this window did not start. */
export function kindOfAction(action: Action): JobKind {
  switch (action) {
    case "create-backup":
      return "create";
    case "download-backup":
      return "download";
    case "restore-backup":
      return "restore";
    case "restore-local-copy":
      return "restore-local";
    case "verify-backup":
      return "verify";
    case "preview-restore":
      return "preview";
    default:
      return "other";
  }
}

export interface JobProgress {
  kind: JobKind;
  /** What the job works on (a backup name), for the title. */
  subject: string | null;
  startedAt: number;
  phase: Phase | null;
  phaseStartedAt: number;
  /** Bytes as stored (uploaded / downloaded / read). */
  bytes: number;
  /** Bytes before compression (dumped), when the phase knows it. */
  rawBytes: number | null;
  total: number | null;
  /** Recent (time, bytes) samples of the current phase, for the rate. */
  samples: Array<[number, number]>;
  retry: { attempt: number; reason: string; until: number } | null;
  note: string | null;
}

export function startJob(kind: JobKind, subject: string | null, now: number): JobProgress {
  return {
    kind,
    subject,
    startedAt: now,
    phase: null,
    phaseStartedAt: now,
    bytes: 0,
    rawBytes: null,
    total: null,
    samples: [],
    retry: null,
    note: null,
  };
}

const RATE_WINDOW_MS = 3000;

/** The progress after one event (a new object; the old one is untouched). */
export function applyEvent(p: JobProgress, e: JobEvent, now: number): JobProgress {
  switch (e.event) {
    case "phaseStarted":
      return {
        ...p,
        phase: e.phase,
        phaseStartedAt: now,
        bytes: 0,
        rawBytes: null,
        total: e.total,
        samples: [[now, 0]],
        retry: null,
      };
    case "progress": {
      const samples = p.phase === e.phase ? [...p.samples, [now, e.bytes] as [number, number]] : [[now, e.bytes] as [number, number]];
      const recent = samples.filter(([t]) => now - t <= RATE_WINDOW_MS);
      // Keep one sample older than the window so the rate spans the whole window.
      const older = samples.filter(([t]) => now - t > RATE_WINDOW_MS).slice(-1);
      return {
        ...p,
        phase: e.phase,
        phaseStartedAt: p.phase === e.phase ? p.phaseStartedAt : now,
        bytes: e.bytes,
        rawBytes: e.rawBytes,
        total: e.total ?? p.total,
        samples: [...older, ...recent],
        retry: null,
      };
    }
    case "retrying":
      return { ...p, retry: { attempt: e.attempt, reason: e.reason, until: now + e.delayMs } };
    case "note":
      return { ...p, note: e.message };
  }
}

/** Bytes per second over the last few seconds of the current phase; null until measurable. */
export function rate(p: JobProgress): number | null {
  const first = p.samples[0];
  const last = p.samples[p.samples.length - 1];
  if (!first || !last || last[0] - first[0] < 250) return null;
  return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
}

/** 0..1 when the total is known, else null (an indeterminate bar). */
export function fraction(p: JobProgress): number | null {
  if (!p.total || p.total <= 0) return null;
  return Math.min(1, Math.max(0, p.bytes / p.total));
}

const PHASE_LABELS: Record<Phase, string> = {
  dumping: "Dumping and uploading",
  "safety-backup": "Taking a safety backup",
  verifying: "Checking the backup's checksum",
  restoring: "Restoring",
  downloading: "Downloading",
  checking: "Checking",
  replacing: "Replacing the chosen rows",
};

export function phaseLabel(phase: Phase | null, kind: JobKind): string {
  if (phase) return PHASE_LABELS[phase];
  switch (kind) {
    case "create":
      return "Starting pg_dump";
    case "download":
      return "Waiting for a destination";
    default:
      return "Preparing";
  }
}

export const JOB_TITLES: Record<JobKind, string> = {
  create: "Creating a backup",
  download: "Downloading",
  restore: "Restoring",
  "restore-local": "Restoring a local copy",
  rollback: "Rolling back",
  verify: "Verifying a backup",
  preview: "Previewing a restore",
  other: "Working",
};

/** The figures under the bar: e.g. `["Dumped 1.2 GiB", "Uploaded 310 MiB", "14.2 MiB/s", "0:42"]`. */
export function progressFigures(p: JobProgress, now: number): string[] {
  const figures: string[] = [];
  if (p.phase === "dumping" || p.phase === "safety-backup") {
    if (p.rawBytes !== null) figures.push(`Dumped ${formatBytes(p.rawBytes)}`);
    figures.push(`Uploaded ${formatBytes(p.bytes)}`);
  } else if (p.phase) {
    const done = formatBytes(p.bytes);
    figures.push(p.total ? `${done} of ${formatBytes(p.total)}` : done);
  }
  const r = rate(p);
  if (p.phase && r !== null) figures.push(formatRate(r));
  figures.push(`${formatElapsed(now - p.startedAt)} elapsed`);
  return figures;
}

/** A short sentence for screen readers when the phase changes. */
export function phaseAnnouncement(p: JobProgress): string {
  return `${JOB_TITLES[p.kind]}: ${phaseLabel(p.phase, p.kind)}`;
}

/** The reason shown on buttons disabled while a profile's job runs. */
export function busyReason(kind: JobKind, profile: string): string {
  const what: Record<JobKind, string> = {
    create: "A backup is being created",
    download: "A download is running",
    restore: "A restore is running",
    "restore-local": "A restore is running",
    rollback: "A roll back is running",
    verify: "A backup is being verified",
    preview: "A restore preview is running",
    other: "Another operation is running",
  };
  return `${what[kind]} for “${profile}”. One job at a time per profile — wait for it to finish or cancel it.`;
}
