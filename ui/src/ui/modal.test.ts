// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";

import { h } from "./dom";
import { openModal } from "./modal";

afterEach(() => {
  document.body.replaceChildren();
});

function press(key: string, shift = false): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key, shiftKey: shift, bubbles: true, cancelable: true });
  (document.activeElement ?? document.body).dispatchEvent(e);
  return e;
}

describe("modal", () => {
  it("is a labelled dialog, makes the app inert and gives focus back on close", async () => {
    const app = h("div", { id: "app" }, h("button", { id: "opener", text: "open" }));
    document.body.append(app);
    const opener = document.getElementById("opener") as HTMLButtonElement;
    opener.focus();
    const onClose = vi.fn();
    const m = openModal({ title: "Delete this backup?", onClose });
    const a = h("button", { text: "Cancel" });
    const b = h("button", { text: "Delete" });
    m.setFooter(a, b);
    await Promise.resolve();
    expect(m.root.getAttribute("role")).toBe("dialog");
    expect(m.root.getAttribute("aria-modal")).toBe("true");
    expect(document.getElementById(m.root.getAttribute("aria-labelledby")!)?.textContent).toBe("Delete this backup?");
    expect(app.hasAttribute("inert")).toBe(true);
    m.close();
    expect(onClose).toHaveBeenCalledOnce();
    expect(app.hasAttribute("inert")).toBe(false);
    expect(document.activeElement).toBe(opener);
  });

  it("keeps Tab and Shift+Tab inside", () => {
    document.body.append(h("div", { id: "app" }));
    const m = openModal({ title: "T" });
    const first = h("input", { type: "text" });
    const last = h("button", { text: "OK" });
    m.setBody(first);
    m.setFooter(last);
    last.focus();
    const e = press("Tab");
    expect(e.defaultPrevented).toBe(true);
    // The close button comes first in the dialog.
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Close");
    const back = press("Tab", true);
    expect(back.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(last);
    m.close();
  });

  it("closes on Escape, but not while busy", () => {
    document.body.append(h("div", { id: "app" }));
    const onClose = vi.fn();
    const m = openModal({ title: "Restore", onClose });
    m.setBusy(true);
    press("Escape");
    expect(onClose).not.toHaveBeenCalled();
    expect(document.querySelector("[role=dialog]")).not.toBeNull();
    m.setBusy(false);
    press("Escape");
    expect(onClose).toHaveBeenCalledOnce();
    expect(document.querySelector("[role=dialog]")).toBeNull();
  });
});
