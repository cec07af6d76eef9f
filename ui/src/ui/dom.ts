// A tiny typed DOM builder. Text always goes through textContent / text nodes, never HTML;
// the only markup parsed is the constant SVG icons in icons.ts.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler<K extends keyof HTMLElementEventMap> = (event: HTMLElementEventMap[K]) => void;
export type Handlers = { [K in keyof HTMLElementEventMap]?: Handler<K> };

export interface Attrs {
  class?: string | undefined;
  /** `data-testid`, for the end-to-end tests. */
  testid?: string | undefined;
  text?: string | undefined;
  on?: Handlers | undefined;
  /** Properties set directly on the element (value, checked, disabled…). */
  props?: Record<string, unknown> | undefined;
  [attribute: string]: unknown;
}

const RESERVED = new Set(["class", "testid", "text", "on", "props"]);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    if (attrs.class) el.className = attrs.class;
    if (attrs.testid) el.setAttribute("data-testid", attrs.testid);
    if (attrs.text !== undefined) el.textContent = attrs.text;
    for (const [key, value] of Object.entries(attrs)) {
      if (RESERVED.has(key) || value === undefined || value === null || value === false) continue;
      el.setAttribute(key, value === true ? "" : String(value));
    }
    if (attrs.props) {
      for (const [key, value] of Object.entries(attrs.props)) {
        (el as unknown as Record<string, unknown>)[key] = value;
      }
    }
    if (attrs.on) {
      for (const [event, handler] of Object.entries(attrs.on)) {
        if (handler) el.addEventListener(event, handler as EventListener);
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces all children of `el`. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/** Sets or removes an attribute. */
export function attr(el: Element, name: string, value: string | boolean | null | undefined): void {
  if (value === null || value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? "" : value);
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = "id"): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Disables a button (or re-enables it) and says why, in the tooltip and for screen readers. */
export function setDisabled(el: HTMLButtonElement | HTMLInputElement | HTMLSelectElement, reason: string | null): void {
  el.disabled = reason !== null;
  // Icon buttons show their label in a CSS tooltip; while disabled it shows the reason.
  if (el.hasAttribute("data-tooltip")) {
    if (!el.hasAttribute("data-label")) el.setAttribute("data-label", el.getAttribute("data-tooltip") ?? "");
    el.setAttribute("data-tooltip", reason ?? el.getAttribute("data-label") ?? "");
    el.classList.toggle("tooltip-wide", reason !== null);
  } else if (reason) {
    el.title = reason;
  } else {
    el.removeAttribute("title");
  }
  if (reason) el.setAttribute("aria-disabled", "true");
  else el.removeAttribute("aria-disabled");
}

/** Collects clean-ups (subscriptions, timers, listeners) of a view, to run when it goes away. */
export class Scope {
  private disposers: Array<() => void> = [];
  add(dispose: () => void): void {
    this.disposers.push(dispose);
  }
  interval(fn: () => void, ms: number): void {
    const id = window.setInterval(fn, ms);
    this.add(() => window.clearInterval(id));
  }
  listen<K extends keyof WindowEventMap>(target: Window, type: K, fn: (e: WindowEventMap[K]) => void): void;
  listen<K extends keyof DocumentEventMap>(target: Document, type: K, fn: (e: DocumentEventMap[K]) => void): void;
  listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    target.addEventListener(type, fn);
    this.add(() => target.removeEventListener(type, fn));
  }
  dispose(): void {
    const list = this.disposers.splice(0).reverse();
    for (const d of list) {
      try {
        d();
      } catch (e) {
        console.error(e);
      }
    }
  }
}
