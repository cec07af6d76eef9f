// Modal dialogs: role=dialog, focus kept inside (Tab and Shift+Tab wrap), Escape closes unless
// the dialog is busy (a job runs), the page behind is inert, and focus returns to where it was.

import { h, replace, uid, type Child } from "./dom";
import { icon } from "./icons";

export interface ModalOptions {
  title: string;
  /** Short line under the title. */
  subtitle?: string;
  testid?: string;
  /** `danger` tints the header icon. */
  tone?: "default" | "danger";
  size?: "sm" | "md" | "lg";
  onClose?: () => void;
}

export interface Modal {
  root: HTMLElement;
  body: HTMLElement;
  footer: HTMLElement;
  setTitle(title: string, subtitle?: string): void;
  setBody(...children: Child[]): void;
  setFooter(...children: Child[]): void;
  /** While busy, Escape and the close button do nothing. */
  setBusy(busy: boolean): void;
  close(): void;
  /** Moves focus to the first field, or the given element. */
  focus(el?: HTMLElement | null): void;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

export function focusables(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest("[hidden]") && !el.closest("[inert]") && el.getAttribute("aria-hidden") !== "true",
  );
}

const stack: Modal[] = [];

/** The element the rest of the app lives in; made inert while a modal is open. */
function appRoot(): HTMLElement | null {
  return document.getElementById("app");
}

export function openModal(options: ModalOptions): Modal {
  const previouslyFocused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = uid("modal-title");
  const subtitleId = uid("modal-sub");
  let busy = false;
  let closed = false;

  const titleEl = h("h2", { id: titleId, class: "modal-title", text: options.title });
  const subtitleEl = h("p", { id: subtitleId, class: "modal-subtitle", text: options.subtitle ?? "" });
  subtitleEl.hidden = !options.subtitle;
  const closeButton = h(
    "button",
    { type: "button", class: "btn-icon modal-close", "aria-label": "Close", testid: "modal-close" },
    icon("x", 18),
  );
  const body = h("div", { class: "modal-body" });
  const footer = h("div", { class: "modal-footer" });
  const dialog = h(
    "div",
    {
      class: `modal modal-${options.size ?? "md"}${options.tone === "danger" ? " modal-danger" : ""}`,
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": titleId,
      "aria-describedby": options.subtitle ? subtitleId : undefined,
      testid: options.testid,
      tabindex: "-1",
    },
    h("div", { class: "modal-header" }, h("div", { class: "modal-heading" }, titleEl, subtitleEl), closeButton),
    body,
    footer,
  );
  const backdrop = h("div", { class: "modal-backdrop" }, dialog);

  const onKey = (e: KeyboardEvent): void => {
    if (stack[stack.length - 1] !== modal) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      if (!busy) modal.close();
      return;
    }
    if (e.key !== "Tab") return;
    const items = focusables(dialog);
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) {
      e.preventDefault();
      dialog.focus();
      return;
    }
    const active = document.activeElement;
    if (e.shiftKey && (active === first || active === dialog || !dialog.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !dialog.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  };
  // Focus that escapes (a click on the backdrop) comes back.
  const onFocusIn = (e: FocusEvent): void => {
    if (stack[stack.length - 1] !== modal) return;
    if (e.target instanceof Node && !dialog.contains(e.target)) {
      (focusables(dialog)[0] ?? dialog).focus();
    }
  };

  const modal: Modal = {
    root: dialog,
    body,
    footer,
    setTitle(title, subtitle) {
      titleEl.textContent = title;
      subtitleEl.textContent = subtitle ?? "";
      subtitleEl.hidden = !subtitle;
    },
    setBody(...children) {
      replace(body, ...children);
    },
    setFooter(...children) {
      replace(footer, ...children);
      footer.hidden = children.filter(Boolean).length === 0;
    },
    setBusy(value) {
      busy = value;
      closeButton.disabled = value;
      closeButton.title = value ? "Wait for the job to finish, or cancel it" : "Close";
      dialog.setAttribute("aria-busy", value ? "true" : "false");
    },
    close() {
      if (closed) return;
      closed = true;
      document.removeEventListener("keydown", onKey, true);
      document.removeEventListener("focusin", onFocusIn);
      backdrop.remove();
      const i = stack.indexOf(modal);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) appRoot()?.removeAttribute("inert");
      options.onClose?.();
      if (previouslyFocused && previouslyFocused.isConnected) previouslyFocused.focus();
    },
    focus(el) {
      const target = el ?? dialog.querySelector<HTMLElement>("[autofocus]") ?? focusables(body)[0] ?? focusables(dialog)[0] ?? dialog;
      target.focus();
    },
  };

  closeButton.addEventListener("click", () => {
    if (!busy) modal.close();
  });
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("focusin", onFocusIn);
  stack.push(modal);
  appRoot()?.setAttribute("inert", "");
  document.body.appendChild(backdrop);
  footer.hidden = true;
  queueMicrotask(() => modal.focus());
  return modal;
}

/** Whether any modal is open (used to keep global shortcuts quiet). */
export function modalOpen(): boolean {
  return stack.length > 0;
}
