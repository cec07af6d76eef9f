import { beforeEach, describe, expect, it, vi } from "vitest";

// The app's side, as the page sees it: each command answers when the test says so.
const calls: { command: string; args: Record<string, unknown> | undefined }[] = [];
let finishRead: (value: unknown) => void = () => undefined;
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class {},
  invoke: vi.fn((command: string, args?: Record<string, unknown>) => {
    calls.push({ command, args });
    if (command === "backup_contents") return new Promise((resolve) => (finishRead = resolve));
    return Promise.resolve(true);
  }),
}));

const { backupContents } = await import("./api");

describe("backupContents", () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it("stops the read under its own id when the signal aborts before it ends", async () => {
    const reading = new AbortController();
    const read = backupContents("prod", "b.sql.zst", undefined, reading.signal);
    const started = calls.find((c) => c.command === "backup_contents");
    const readId = started?.args?.readId as string;
    expect(readId).toMatch(/^contents-[A-Za-z0-9_-]{1,55}$/);
    reading.abort();
    expect(calls).toContainEqual({ command: "cancel_job", args: { jobId: readId } });
    finishRead({ tables: [] });
    await read;
  });

  it("cancels nothing once the read has ended", async () => {
    const reading = new AbortController();
    const read = backupContents("prod", "b.sql.zst", "org_id", reading.signal);
    expect(calls[0]?.args).toMatchObject({ profile: "prod", name: "b.sql.zst", tenantColumn: "org_id" });
    finishRead({ tables: [] });
    await read;
    reading.abort();
    expect(calls.some((c) => c.command === "cancel_job")).toBe(false);
  });
});
