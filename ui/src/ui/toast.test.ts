// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";

import { MAX_TOASTS, toast } from "./toast";

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

function titles(): string[] {
  return [...document.querySelectorAll(".toast .toast-title")].map((t) => t.textContent ?? "");
}

describe("toast", () => {
  it("shows at most MAX_TOASTS, dropping the oldest notice before any error", () => {
    toast({ kind: "error", title: "E1", message: "failed" });
    for (const n of [1, 2, 3, 4]) toast({ title: `S${n}` });
    expect(titles()).toHaveLength(MAX_TOASTS);
    expect(titles()).toEqual(["E1", "S3", "S4"]);
  });

  it("drops the oldest error when only errors are left", () => {
    for (const n of [1, 2, 3, 4]) toast({ kind: "error", title: `E${n}` });
    expect(titles()).toEqual(["E2", "E3", "E4"]);
  });

  it("lets successes fade after their timeout but keeps errors until closed", () => {
    vi.useFakeTimers();
    toast({ title: "Saved" });
    toast({ kind: "error", title: "Broken" });
    vi.advanceTimersByTime(7000);
    expect(titles()).toEqual(["Broken"]);
  });
});
