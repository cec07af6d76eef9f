// Light, dark or the system's choice, as `data-theme` on <html>.

import type { Theme } from "./bindings";

let chosen: Theme = "system";
const media = typeof window !== "undefined" && window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

function effective(): "light" | "dark" {
  if (chosen !== "system") return chosen;
  return media?.matches ? "dark" : "light";
}

function paint(): void {
  const root = document.documentElement;
  const t = effective();
  root.dataset.theme = t;
  root.style.setProperty("color-scheme", t);
}

export function applyTheme(theme: Theme): void {
  chosen = theme;
  paint();
}

media?.addEventListener("change", () => {
  if (chosen === "system") paint();
});
