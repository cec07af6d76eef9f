import { describe, expect, it } from "vitest";

import { applyEvent, busyReason, fraction, kindOfAction, phaseLabel, progressFigures, rate, startJob } from "./jobs";

const MiB = 1024 * 1024;

describe("job progress", () => {
  it("follows a backup: bytes dumped and uploaded, rate, elapsed; no total", () => {
    let p = startJob("create", null, 0);
    expect(phaseLabel(p.phase, p.kind)).toBe("Starting pg_dump");
    p = applyEvent(p, { event: "phaseStarted", phase: "dumping", name: null, total: null }, 100);
    p = applyEvent(p, { event: "progress", phase: "dumping", bytes: 1 * MiB, rawBytes: 6 * MiB, total: null }, 1100);
    p = applyEvent(p, { event: "progress", phase: "dumping", bytes: 3 * MiB, rawBytes: 18 * MiB, total: null }, 2100);
    expect(fraction(p)).toBeNull();
    expect(rate(p)).toBeCloseTo((3 * MiB * 1000) / 2000, 0);
    expect(progressFigures(p, 42_000)).toEqual(["Dumped 18 MiB", "Uploaded 3 MiB", "1.5 MiB/s", "0:42 elapsed"]);
  });
  it("follows a download with a known total", () => {
    let p = startJob("download", "x.sql", 0);
    p = applyEvent(p, { event: "phaseStarted", phase: "downloading", name: "x.sql", total: 100 * MiB }, 0);
    p = applyEvent(p, { event: "progress", phase: "downloading", bytes: 25 * MiB, rawBytes: null, total: 100 * MiB }, 1000);
    expect(fraction(p)).toBe(0.25);
    expect(progressFigures(p, 1000)[0]).toBe("25 MiB of 100 MiB");
  });
  it("restarts the counters on a new phase (safety backup, then restore)", () => {
    let p = startJob("restore", "x", 0);
    p = applyEvent(p, { event: "phaseStarted", phase: "safety-backup", name: null, total: null }, 0);
    p = applyEvent(p, { event: "progress", phase: "safety-backup", bytes: 50, rawBytes: 300, total: null }, 500);
    p = applyEvent(p, { event: "phaseStarted", phase: "restoring", name: null, total: 1000 }, 600);
    expect(p.bytes).toBe(0);
    expect(p.total).toBe(1000);
    expect(phaseLabel(p.phase, p.kind)).toBe("Restoring");
    expect(rate(p)).toBeNull();
  });
  it("measures the rate over the last seconds only", () => {
    let p = startJob("download", null, 0);
    p = applyEvent(p, { event: "phaseStarted", phase: "downloading", name: null, total: null }, 0);
    p = applyEvent(p, { event: "progress", phase: "downloading", bytes: 100 * MiB, rawBytes: null, total: null }, 1000);
    for (let t = 2000; t <= 10_000; t += 1000) {
      p = applyEvent(p, { event: "progress", phase: "downloading", bytes: 100 * MiB + ((t - 1000) / 1000) * MiB, rawBytes: null, total: null }, t);
    }
    expect(rate(p)! / MiB).toBeCloseTo(1, 1);
  });
  it("shows a retry and clears it when bytes flow again", () => {
    let p = startJob("download", null, 0);
    p = applyEvent(p, { event: "retrying", phase: "downloading", attempt: 2, delayMs: 1000, reason: "reset" }, 10);
    expect(p.retry?.attempt).toBe(2);
    p = applyEvent(p, { event: "progress", phase: "downloading", bytes: 1, rawBytes: null, total: null }, 2000);
    expect(p.retry).toBeNull();
  });
  it("keeps notes", () => {
    const p = applyEvent(startJob("create", null, 0), { event: "note", message: "pruned 2" }, 1);
    expect(p.note).toBe("pruned 2");
  });
  it("says why buttons are disabled", () => {
    expect(busyReason("create", "prod")).toMatch(/A backup is being created for “prod”.*wait for it to finish or cancel it/);
    expect(busyReason("restore", "prod")).toMatch(/restore is running/);
  });
  it("maps the shell's actions to job kinds", () => {
    expect(kindOfAction("create-backup")).toBe("create");
    expect(kindOfAction("restore-local-copy")).toBe("restore-local");
    expect(kindOfAction("prune")).toBe("other");
  });
});
