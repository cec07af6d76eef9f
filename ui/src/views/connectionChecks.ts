// "Test connection": runs the shell's checks for a saved profile (database version, pg tools,
// storage reachable, sign-in role) and shows each with its result.

import * as api from "../api";
import { h, replace } from "../ui/dom";
import { icon } from "../ui/icons";
import { button, errorBox, spinner } from "../ui/widgets";

export function connectionChecks(profileName: string, autoRun = true): { root: HTMLElement; run: () => Promise<boolean> } {
  const list = h("ul", { class: "checks", testid: "connection-checks", "aria-live": "polite" });
  const again = button({ label: "Test connection", variant: "secondary", icon: "zap", testid: "test-connection", size: "sm" });
  const status = h("p", { class: "checks-status muted small" });
  const root = h(
    "section",
    { class: "checks-panel", "aria-label": `Connection checks for ${profileName}` },
    h("div", { class: "checks-head" }, h("h3", { class: "section-label", text: "Connection check" }), again),
    status,
    list,
  );
  let running = false;
  async function run(): Promise<boolean> {
    if (running) return false;
    running = true;
    again.disabled = true;
    status.replaceChildren(spinner("Testing"), h("span", { text: " Testing the connection…" }));
    list.setAttribute("aria-busy", "true");
    try {
      const checks = await api.testConnection(profileName);
      const ok = checks.every((c) => c.ok);
      status.textContent = ok
        ? "Everything works."
        : `${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed. Fix them, then test again.`;
      status.className = `checks-status small ${ok ? "text-success" : "text-danger"}`;
      replace(
        list,
        ...checks.map((c) =>
          h(
            "li",
            { class: `check ${c.ok ? "check-ok" : "check-fail"}`, testid: `check-${c.id}`, "data-ok": String(c.ok) },
            h("span", { class: "check-icon" }, icon(c.ok ? "check" : "x", 14)),
            h("div", { class: "check-text" }, h("span", { class: "check-label", text: c.label }), c.detail ? h("span", { class: "check-detail", text: c.detail }) : null),
            h("span", { class: "sr-only", text: c.ok ? "passed" : "failed" }),
          ),
        ),
      );
      return ok;
    } catch (e) {
      status.textContent = "";
      replace(list, h("li", {}, errorBox(e, [], "The test could not run")));
      return false;
    } finally {
      running = false;
      again.disabled = false;
      list.setAttribute("aria-busy", "false");
    }
  }
  again.addEventListener("click", () => void run());
  if (autoRun) void run();
  return { root, run };
}
