import { describe, expect, it } from "vitest";

import type { ErrorCode } from "../bindings";
import { humanize, needsSignIn, toUiError } from "./errors";

describe("toUiError", () => {
  it("keeps the shell's {code, message, detail}", () => {
    expect(toUiError({ code: "busy", message: "a backup runs", detail: "job 1" })).toEqual({ code: "busy", message: "a backup runs", detail: "job 1" });
    expect(toUiError({ code: "busy", message: "a backup runs" })).toEqual({ code: "busy", message: "a backup runs" });
  });
  it("turns strings, Errors and unknown codes into internal errors", () => {
    expect(toUiError("command list_backups not found")).toEqual({ code: "internal", message: "command list_backups not found" });
    expect(toUiError(new Error("boom"))).toEqual({ code: "internal", message: "boom" });
    expect(toUiError({ code: "weird", message: "x" }).code).toBe("internal");
    expect(toUiError(42)).toEqual({ code: "internal", message: "42" });
  });
});

describe("humanize", () => {
  const cases: Array<[ErrorCode, RegExp]> = [
    ["auth_required", /sign-in expired — sign in again/],
    ["not_admin", /not a system admin/],
    ["unreachable", /Can't reach the server/],
    ["database_in_use", /Other sessions are connected/],
    ["busy", /already running/],
    ["checksum_mismatch", /checksum doesn't match/],
    ["corrupt_backup", /damaged or incomplete/],
    ["confirmation_mismatch", /doesn't match the target database/],
    ["tool_missing", /PostgreSQL tools/],
    ["storage_auth", /refused the credentials/],
    ["restore_failed", /rolled back — the database is unchanged/],
    ["keychain_unavailable", /keychain is not available/],
    ["cancelled", /Cancelled/],
  ];
  it.each(cases)("says %s in words", (code, sentence) => {
    const h = humanize({ code, message: "technical text", detail: "Debug { .. }" });
    expect(h.message).toMatch(sentence);
    expect(h.detail).toBe("technical text\n\nDebug { .. }");
  });
  it("shows messages that are already plain (invalid input, not found…) as they are", () => {
    const h = humanize({ code: "invalid_input", message: "retention must be from 1 to 3650 days" });
    expect(h.message).toBe("Retention must be from 1 to 3650 days.");
    expect(h.detail).toBeNull();
    expect(humanize({ code: "not_found", message: "no profile named \"x\"", detail: "d" })).toMatchObject({ message: 'No profile named "x".', detail: "d" });
  });
  it("reads a 401 while signing in as a wrong password", () => {
    expect(humanize({ code: "auth_required", message: "refused" }, "sign-in").message).toMatch(/email or password was not accepted/);
    expect(humanize({ code: "not_admin", message: "x" }, "sign-in").message).toMatch(/not a system admin/);
  });
  it("keeps a bare internal error's text as detail", () => {
    expect(humanize("command x not found")).toEqual({ code: "internal", message: expect.stringMatching(/went wrong/), detail: "command x not found" });
  });
  it("knows when to offer signing in", () => {
    expect(needsSignIn({ code: "auth_required", message: "" })).toBe(true);
    expect(needsSignIn({ code: "not_admin", message: "" })).toBe(false);
  });
});
