// The Backups page's health strip and Verified column, in words a person understands. The
// facts (the last successful backup and its age, the last verification, whether backups are
// stale and after how many hours) are the engine's `Freshness`, from the `backup_freshness`
// command: the one rule `rythm-backup status` follows too (API mode: with the server's
// STALE_AFTER_HOURS). This module only words them. Pure: the clock is a parameter.

import type { BackupEntry, Freshness, Verification } from "../bindings";
import { ageOf, formatDuration, formatLocalDateTime } from "./format";

export type Tone = "ok" | "warning" | "danger" | "muted";

export interface StripItem {
  label: string;
  text: string;
  tone: Tone;
}

export interface HealthStrip {
  stale: boolean;
  /** The sentence shown first: all is well, or what is wrong. */
  headline: string;
  tone: Tone;
  items: StripItem[];
}

/** What the strip says about `freshness` at `now`, with the schedule's next run. */
export function healthStrip(freshness: Freshness, nextRunAt: string | null, now: Date): HealthStrip {
  const { stale, lastSuccessAt, lastVerification, staleAfterHours } = freshness;
  const items: StripItem[] = [];
  items.push(
    lastSuccessAt
      ? { label: "Last backup", text: `${ageOf(lastSuccessAt, now)} (${formatLocalDateTime(lastSuccessAt)})`, tone: stale ? "danger" : "ok" }
      : { label: "Last backup", text: "none yet", tone: "danger" },
  );
  if (lastVerification) {
    const v = lastVerification.verification;
    items.push(
      v.ok
        ? { label: "Last verification", text: `passed ${ageOf(v.at, now)}, a restore takes ${formatDuration(v.restoreSeconds * 1000)}`, tone: "ok" }
        : { label: "Last verification", text: `FAILED ${ageOf(v.at, now)}: ${failureReason(v)}`, tone: "danger" },
    );
  } else {
    items.push({ label: "Last verification", text: "no backup has been verified yet", tone: "warning" });
  }
  items.push(
    nextRunAt
      ? { label: "Next scheduled backup", text: formatLocalDateTime(nextRunAt), tone: "ok" }
      : { label: "Next scheduled backup", text: "none scheduled", tone: "muted" },
  );

  let headline: string;
  let tone: Tone;
  if (lastSuccessAt === null) {
    headline = "No backup has been made yet.";
    tone = "danger";
  } else if (stale) {
    headline = `Backups are stale: the last successful one is ${ageOf(lastSuccessAt, now)}, more than ${staleAfterHours} hours old. Check the schedule and the server.`;
    tone = "danger";
  } else if (lastVerification && !lastVerification.verification.ok) {
    headline = `The last verification failed: ${lastVerification.backup} may not restore.`;
    tone = "danger";
  } else if (!lastVerification) {
    headline = "Backups are current, but none has been proven restorable yet: verify one.";
    tone = "warning";
  } else {
    headline = "Backups are current and the last verification passed.";
    tone = "ok";
  }
  return { stale, headline, tone, items };
}

/** Why a verification failed, in one line. */
export function failureReason(v: Verification): string {
  if (v.mismatches.length > 0) {
    const m = v.mismatches[0]!;
    const side = (n: number | null): string => (n === null ? "missing" : `${n} rows`);
    const more = v.mismatches.length > 1 ? ` (and ${v.mismatches.length - 1} more)` : "";
    return `${m.schema}.${m.table} recorded ${side(m.recorded)}, restored ${side(m.restored)}${more}`;
  }
  return v.error ?? "the restore failed";
}

/** The Verified column of one backup. */
export function verifiedCell(entry: BackupEntry, now: Date): { text: string; detail: string; tone: Tone; title: string } {
  const v = entry.verification;
  if (!v) return { text: "Never", detail: "", tone: "muted", title: "Not verified: no restore rehearsal has run for this backup" };
  if (v.ok) {
    return {
      text: "Verified",
      detail: `${ageOf(v.at, now)} · restore ${formatDuration(v.restoreSeconds * 1000)}`,
      tone: "ok",
      title: `Restored into a scratch database ${formatLocalDateTime(v.at)}: ${v.tables} tables, ${v.rows} rows${v.compared ? ", every count as recorded at backup time" : " (no recorded counts to compare)"}`,
    };
  }
  return { text: "Failed", detail: failureReason(v), tone: "danger", title: `Verification failed ${formatLocalDateTime(v.at)}: ${failureReason(v)}` };
}
