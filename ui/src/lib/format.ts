// Formatting of sizes, rates, times, ages and expiry for people. Pure functions; `now` is
// always a parameter so tests are deterministic.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** `1536` → `"1.5 KiB"`; three significant digits from KiB up. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 3 significant digits, but never "1.02e+3"; 1023.9 KiB would round to 1024 → next unit.
  let text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit += 1;
    text = (value / 1024).toFixed(2);
  }
  return `${trimZeros(text)} ${UNITS[unit]}`;
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** Bytes per second → `"12.3 MiB/s"`. */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) {
    return "—";
  }
  return `${formatBytes(Math.max(0, bytesPerSecond))}/s`;
}

/** Elapsed time as a clock: `42_000` → `"0:42"`, `3_723_000` → `"1:02:03"`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A duration in words: `"850 ms"`, `"12 s"`, `"3 min 5 s"`, `"1 h 4 min"`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** How long ago, from a number of seconds: `"just now"`, `"5 minutes ago"`, `"3 days ago"`. */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  if (seconds < 0) return "in the future";
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${plural(Math.max(1, minutes), "minute")} ago`;
  const hours = Math.round(seconds / 3600);
  if (hours < 24) return `${plural(hours, "hour")} ago`;
  const days = Math.round(seconds / 86_400);
  if (days === 1) return "yesterday";
  if (days < 60) return `${days} days ago`;
  const months = Math.round(days / 30.44);
  if (months < 24) return `${months} months ago`;
  return `${Math.round(days / 365.25)} years ago`;
}

/** Age of an RFC 3339 time relative to `now`. */
export function ageOf(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  return formatAge((now.getTime() - t) / 1000);
}

export type ExpiryTone = "ok" | "soon" | "due";

/**
 * When retention deletes a backup: `"in 6 days"`, `"in 5 hours"`, `"in 12 minutes"`, or
 * `"due"` once the time has passed (the next prune removes it, unless it is protected as the
 * newest). `soon` when less than a day is left.
 */
export function formatExpiry(expiresAt: string, now: Date): { text: string; tone: ExpiryTone } {
  const t = Date.parse(expiresAt);
  if (Number.isNaN(t)) return { text: "—", tone: "ok" };
  const seconds = (t - now.getTime()) / 1000;
  if (seconds <= 0) return { text: "due", tone: "due" };
  if (seconds < 3600) return { text: `in ${plural(Math.max(1, Math.floor(seconds / 60)), "minute")}`, tone: "soon" };
  if (seconds < 86_400) return { text: `in ${plural(Math.floor(seconds / 3600), "hour")}`, tone: "soon" };
  const days = Math.floor(seconds / 86_400);
  return { text: `in ${plural(days, "day")}`, tone: "ok" };
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** Local date and time, unambiguous and sortable: `"2026-01-15 11:30"`. */
export function formatLocalDateTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? `:${pad(d.getSeconds())}` : ""}`;
  return `${date} ${time}`;
}

/** The same instant in UTC: `"2026-01-15 10:30 UTC"`. */
export function formatUtcDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** First 12 hex digits of a sha256, for a badge's tooltip. */
export function shortHash(hash: string | null | undefined): string {
  return hash ? `${hash.slice(0, 12)}…` : "—";
}

/** The last path component, `/` or `\` separated. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** The folder of a path. */
export function dirName(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : path;
}

/** How far ahead an RFC 3339 time is: `"in 5 hours"`, `"in 2 days"`, `"now"` once passed. */
export function untilOf(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const seconds = (t - now.getTime()) / 1000;
  if (seconds <= 30) return "now";
  if (seconds < 3600) return `in ${plural(Math.max(1, Math.round(seconds / 60)), "minute")}`;
  if (seconds < 86_400) return `in ${plural(Math.round(seconds / 3600), "hour")}`;
  return `in ${plural(Math.round(seconds / 86_400), "day")}`;
}
