// The server's daily schedule is a UTC `HH:MM:SS`; people think in local time. Conversions
// take a reference day because the offset changes with daylight saving time.

const HHMM = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

function parse(time: string): { h: number; m: number; s: number } | null {
  const match = HHMM.exec(time.trim());
  if (!match) return null;
  const h = Number(match[1]);
  const m = Number(match[2]);
  const s = match[3] === undefined ? 0 : Number(match[3]);
  if (h > 23 || m > 59 || s > 59) return null;
  return { h, m, s };
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** Whether `HH:MM` or `HH:MM:SS` is a valid time of day. */
export function isValidTime(time: string): boolean {
  return parse(time) !== null;
}

/** The UTC time `HH:MM[:SS]` on `day`'s date, as local `HH:MM`. */
export function utcToLocal(utc: string, day: Date): string | null {
  const t = parse(utc);
  if (!t) return null;
  const d = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), t.h, t.m, t.s));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A local `HH:MM` on `day`'s local date, as UTC `HH:MM:SS` (the API's format). */
export function localToUtc(local: string, day: Date): string | null {
  const t = parse(local);
  if (!t) return null;
  const d = new Date(day.getFullYear(), day.getMonth(), day.getDate(), t.h, t.m, t.s);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `"02:00:00"` → `"02:00"`. */
export function shortTime(time: string): string {
  const t = parse(time);
  return t ? `${pad(t.h)}:${pad(t.m)}` : time;
}

/** The local zone's name, e.g. `"Europe/Oslo"`, and its offset on `day`, e.g. `"UTC+1"`. */
export function zoneLabel(day: Date): string {
  const offset = -day.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "−";
  const abs = Math.abs(offset);
  const hm = abs % 60 ? `${Math.floor(abs / 60)}:${pad(abs % 60)}` : `${Math.floor(abs / 60)}`;
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";
  } catch {
    zone = "";
  }
  const off = offset === 0 ? "UTC" : `UTC${sign}${hm}`;
  return zone && zone !== "UTC" && zone !== "Etc/UTC" ? `${zone}, ${off}` : off;
}

/** The retention days the API accepts. */
export const RETENTION_MIN = 1;
export const RETENTION_MAX = 90;

export function retentionProblem(value: string): string | null {
  if (!/^\d+$/.test(value.trim())) return `Enter a whole number of days (${RETENTION_MIN}–${RETENTION_MAX}).`;
  const n = Number(value);
  if (n < RETENTION_MIN || n > RETENTION_MAX) return `Retention must be ${RETENTION_MIN} to ${RETENTION_MAX} days.`;
  return null;
}
