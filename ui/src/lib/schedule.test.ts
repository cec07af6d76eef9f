import { describe, expect, it } from "vitest";

import { isValidTime, localToUtc, retentionProblem, shortTime, utcToLocal, zoneLabel } from "./schedule";

// vite.config.ts runs the tests with TZ=Europe/Oslo: UTC+1 in winter, UTC+2 in summer.
const winter = new Date("2026-01-15T12:00:00Z");
const summer = new Date("2026-07-15T12:00:00Z");

describe("schedule times", () => {
  it("runs in the expected zone", () => {
    expect(winter.getTimezoneOffset()).toBe(-60);
    expect(summer.getTimezoneOffset()).toBe(-120);
  });
  it("shows the server's UTC time in local time, following daylight saving", () => {
    expect(utcToLocal("02:00:00", winter)).toBe("03:00");
    expect(utcToLocal("02:00:00", summer)).toBe("04:00");
    expect(utcToLocal("23:30:00", winter)).toBe("00:30");
    expect(utcToLocal("23:30", summer)).toBe("01:30");
  });
  it("turns a local time into the API's UTC HH:MM:SS", () => {
    expect(localToUtc("03:00", winter)).toBe("02:00:00");
    expect(localToUtc("04:00", summer)).toBe("02:00:00");
    expect(localToUtc("00:30", winter)).toBe("23:30:00");
  });
  it("round-trips", () => {
    for (const t of ["00:00", "01:15", "12:00", "23:59"]) {
      expect(utcToLocal(localToUtc(t, winter)!, winter)).toBe(t);
      expect(utcToLocal(localToUtc(t, summer)!, summer)).toBe(t);
    }
  });
  it("refuses times that are not times", () => {
    expect(utcToLocal("25:00:00", winter)).toBeNull();
    expect(localToUtc("", winter)).toBeNull();
    expect(isValidTime("7:05")).toBe(true);
    expect(isValidTime("07:60")).toBe(false);
    expect(isValidTime("noon")).toBe(false);
  });
  it("shortens and labels", () => {
    expect(shortTime("02:00:00")).toBe("02:00");
    expect(zoneLabel(winter)).toBe("Europe/Oslo, UTC+1");
    expect(zoneLabel(summer)).toBe("Europe/Oslo, UTC+2");
  });
  it("checks retention days as the API does (1–90)", () => {
    expect(retentionProblem("10")).toBeNull();
    expect(retentionProblem("1")).toBeNull();
    expect(retentionProblem("90")).toBeNull();
    expect(retentionProblem("0")).toMatch(/1 to 90/);
    expect(retentionProblem("91")).toMatch(/1 to 90/);
    expect(retentionProblem("1.5")).toMatch(/whole number/);
    expect(retentionProblem("")).toMatch(/whole number/);
  });
});
