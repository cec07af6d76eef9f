import { describe, expect, it } from "vitest";

import {
  ageOf,
  baseName,
  dirName,
  formatAge,
  formatBytes,
  formatDuration,
  formatElapsed,
  formatExpiry,
  formatLocalDateTime,
  formatRate,
  formatUtcDateTime,
  untilOf,
} from "./format";

describe("formatBytes", () => {
  it("keeps bytes exact below 1 KiB", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1)).toBe("1 B");
    expect(formatBytes(1023)).toBe("1023 B");
  });
  it("uses binary units with three significant digits", () => {
    expect(formatBytes(1024)).toBe("1 KiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(10 * 1024 + 512)).toBe("10.5 KiB");
    expect(formatBytes(251_334_912)).toBe("240 MiB");
    expect(formatBytes(1_404_211_200)).toBe("1.31 GiB");
    expect(formatBytes(5 * 1024 ** 4)).toBe("5 TiB");
  });
  it("rolls over instead of printing 1024 of a unit", () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe("1 MiB");
  });
  it("shows a dash for unknown or invalid sizes", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(undefined)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });
});

describe("rates and durations", () => {
  it("formats a rate per second", () => {
    expect(formatRate(12.5 * 1024 * 1024)).toBe("12.5 MiB/s");
    expect(formatRate(null)).toBe("—");
  });
  it("formats elapsed time as a clock", () => {
    expect(formatElapsed(0)).toBe("0:00");
    expect(formatElapsed(42_000)).toBe("0:42");
    expect(formatElapsed(61_999)).toBe("1:01");
    expect(formatElapsed(3_723_000)).toBe("1:02:03");
  });
  it("formats durations in words", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_300)).toBe("12 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatDuration(180_000)).toBe("3 min");
    expect(formatDuration(3_840_000)).toBe("1 h 4 min");
    expect(formatDuration(null)).toBe("—");
  });
});

describe("formatAge", () => {
  it("says just now for the first seconds", () => {
    expect(formatAge(0)).toBe("just now");
    expect(formatAge(44)).toBe("just now");
  });
  it("counts minutes, hours and days with singular forms", () => {
    expect(formatAge(60)).toBe("1 minute ago");
    expect(formatAge(47 * 60)).toBe("47 minutes ago");
    expect(formatAge(3600)).toBe("1 hour ago");
    expect(formatAge(5 * 3600)).toBe("5 hours ago");
    expect(formatAge(86_400)).toBe("yesterday");
    expect(formatAge(3 * 86_400)).toBe("3 days ago");
  });
  it("switches to months and years for old backups", () => {
    expect(formatAge(90 * 86_400)).toBe("3 months ago");
    expect(formatAge(800 * 86_400)).toBe("2 years ago");
  });
  it("does not claim a future time is in the past", () => {
    expect(formatAge(-120)).toBe("in the future");
  });
  it("reads RFC 3339 times", () => {
    const now = new Date("2026-01-15T12:00:00Z");
    expect(ageOf("2026-01-15T10:00:00Z", now)).toBe("2 hours ago");
    expect(ageOf("not a date", now)).toBe("—");
  });
});

describe("formatExpiry", () => {
  const now = new Date("2026-01-15T12:00:00Z");
  it("counts whole days when more than a day is left", () => {
    expect(formatExpiry("2026-01-25T12:00:00Z", now)).toEqual({ text: "in 10 days", tone: "ok" });
    expect(formatExpiry("2026-01-16T13:00:00Z", now)).toEqual({ text: "in 1 day", tone: "ok" });
  });
  it("warns with hours and minutes on the last day, never rounding up to a full day", () => {
    expect(formatExpiry("2026-01-16T11:40:00Z", now)).toEqual({ text: "in 23 hours", tone: "soon" });
    expect(formatExpiry("2026-01-15T12:30:00Z", now)).toEqual({ text: "in 30 minutes", tone: "soon" });
    expect(formatExpiry("2026-01-15T12:00:20Z", now)).toEqual({ text: "in 1 minute", tone: "soon" });
  });
  it("says due once the retention period has passed", () => {
    expect(formatExpiry("2026-01-15T12:00:00Z", now)).toEqual({ text: "due", tone: "due" });
    expect(formatExpiry("2026-01-01T00:00:00Z", now)).toEqual({ text: "due", tone: "due" });
  });
  it("says how far ahead a planned time is", () => {
    expect(untilOf("2026-01-16T02:00:00Z", now)).toBe("in 14 hours");
    expect(untilOf("2026-01-15T11:00:00Z", now)).toBe("now");
  });
});

describe("local and UTC times (TZ=Europe/Oslo)", () => {
  it("shows local time, sortable", () => {
    // Winter: UTC+1; summer: UTC+2.
    expect(formatLocalDateTime("2026-01-15T10:30:00.851Z")).toBe("2026-01-15 11:30");
    expect(formatLocalDateTime("2026-07-15T10:30:00Z")).toBe("2026-07-15 12:30");
    expect(formatLocalDateTime("2026-07-15T10:30:09Z", true)).toBe("2026-07-15 12:30:09");
    expect(formatLocalDateTime(null)).toBe("—");
    expect(formatLocalDateTime("garbage")).toBe("—");
  });
  it("shows the same instant in UTC", () => {
    expect(formatUtcDateTime("2026-01-15T10:30:00Z")).toBe("2026-01-15 10:30 UTC");
  });
});

describe("paths", () => {
  it("splits POSIX and Windows paths", () => {
    expect(baseName("/home/a/Downloads/x.sql.zst")).toBe("x.sql.zst");
    expect(baseName("C:\\Users\\a\\x.sql")).toBe("x.sql");
    expect(dirName("/home/a/Downloads/x.sql.zst")).toBe("/home/a/Downloads");
    expect(dirName("C:\\Users\\a\\x.sql")).toBe("C:\\Users\\a");
  });
});
