// Toasts: short notices in a live region. Successes fade after a while; errors stay until
// closed and carry the technical detail in an expandable section.

import { humanize } from "../lib/errors";
import { h } from "./dom";
import { icon, type IconName } from "./icons";

export interface ToastAction {
  label: string;
  testid?: string;
  run: () => void;
}

export interface ToastOptions {
  kind?: "success" | "error" | "info";
  title: string;
  message?: string;
  detail?: string | null;
  action?: ToastAction;
  /** Milliseconds; 0 keeps it until closed. Errors default to 0. */
  timeout?: number;
}

function region(): HTMLElement {
  let el = document.getElementById("toasts");
  if (!el) {
    el = h("div", { id: "toasts", class: "toasts", "aria-live": "polite", "aria-relevant": "additions" });
    document.body.appendChild(el);
  }
  return el;
}

const ICONS: Record<NonNullable<ToastOptions["kind"]>, IconName> = {
  success: "check",
  error: "alert",
  info: "info",
};

export function toast(options: ToastOptions): () => void {
  const kind = options.kind ?? "success";
  const timeout = options.timeout ?? (kind === "error" ? 0 : 6000);
  let timer = 0;
  const close = (): void => {
    window.clearTimeout(timer);
    el.classList.add("leaving");
    window.setTimeout(() => el.remove(), 160);
  };
  const el = h(
    "div",
    { class: `toast toast-${kind}`, testid: "toast", role: kind === "error" ? "alert" : "status", "data-kind": kind },
    h("span", { class: "toast-icon" }, icon(ICONS[kind], 18)),
    h(
      "div",
      { class: "toast-content" },
      h("p", { class: "toast-title", text: options.title }),
      options.message ? h("p", { class: "toast-message", text: options.message, testid: kind === "error" ? "error-message" : undefined }) : null,
      options.detail
        ? h("details", { class: "tech" }, h("summary", { text: "Technical details" }), h("pre", { text: options.detail }))
        : null,
      options.action
        ? h("button", {
            type: "button",
            class: "btn btn-sm btn-secondary toast-action",
            testid: options.action.testid,
            text: options.action.label,
            on: {
              click: () => {
                options.action?.run();
              },
            },
          })
        : null,
    ),
    h("button", { type: "button", class: "btn-icon toast-close", "aria-label": "Dismiss notification", on: { click: close } }, icon("x", 16)),
  );
  // Hovering or focusing a toast keeps it.
  const pause = (): void => window.clearTimeout(timer);
  const resume = (): void => {
    if (timeout > 0) timer = window.setTimeout(close, timeout);
  };
  el.addEventListener("mouseenter", pause);
  el.addEventListener("mouseleave", resume);
  el.addEventListener("focusin", pause);
  const list = region();
  list.appendChild(el);
  trim(list);
  resume();
  return close;
}

/** At most this many toasts show at once; the oldest notices go first, errors last. */
export const MAX_TOASTS = 3;

function trim(list: HTMLElement): void {
  const shown = (): HTMLElement[] => [...list.querySelectorAll<HTMLElement>(".toast:not(.leaving)")];
  let toasts = shown();
  while (toasts.length > MAX_TOASTS) {
    const oldest = toasts.find((t) => !t.classList.contains("toast-error")) ?? toasts[0];
    if (!oldest) break;
    oldest.remove();
    toasts = shown();
  }
}

/** A toast for a failed command, in words a person understands. */
export function errorToast(title: string, raw: unknown): () => void {
  const err = humanize(raw);
  return toast({ kind: "error", title, message: err.message, detail: err.detail });
}
