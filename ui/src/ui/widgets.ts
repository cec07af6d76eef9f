// Small building blocks shared by the views: buttons, fields, badges, callouts, empty states,
// the error box with expandable details, and the progress bar.

import { humanize, type ErrorContext } from "../lib/errors";
import { h, uid, type Attrs, type Child } from "./dom";
import { icon, type IconName } from "./icons";

export type ButtonVariant = "primary" | "secondary" | "ghost" | "danger" | "danger-ghost";

export interface ButtonOptions {
  label: string;
  variant?: ButtonVariant;
  icon?: IconName;
  testid?: string;
  size?: "sm" | "md";
  onClick?: (e: MouseEvent) => void;
  type?: "button" | "submit";
  /** Only an icon is visible; `label` becomes the accessible name and tooltip. */
  iconOnly?: boolean;
  /** A shorter tooltip than the accessible name (icon-only buttons). */
  tooltip?: string;
}

export function button(o: ButtonOptions): HTMLButtonElement {
  const cls = [o.iconOnly ? "btn-icon" : "btn", o.iconOnly ? "" : `btn-${o.variant ?? "secondary"}`, o.size === "sm" ? "btn-sm" : "", o.iconOnly && o.variant ? `btn-icon-${o.variant}` : ""]
    .filter(Boolean)
    .join(" ");
  return h(
    "button",
    {
      type: o.type ?? "button",
      class: cls,
      testid: o.testid,
      "aria-label": o.iconOnly ? o.label : undefined,
      "data-tooltip": o.iconOnly ? (o.tooltip ?? o.label) : undefined,
      on: o.onClick ? { click: o.onClick } : undefined,
    },
    o.icon ? icon(o.icon, o.size === "sm" ? 15 : 16) : null,
    o.iconOnly ? null : h("span", { text: o.label }),
  );
}

export type BadgeTone = "neutral" | "accent" | "success" | "warning" | "danger" | "muted";

export function badge(text: string, tone: BadgeTone = "neutral", attrs: Attrs = {}): HTMLElement {
  return h("span", { ...attrs, class: `badge badge-${tone}${attrs.class ? ` ${attrs.class}` : ""}`, text });
}

/** An inline error with what to do and the technical detail folded away. */
export function errorBox(raw: unknown, actions: Child[] = [], title?: string, context?: ErrorContext): HTMLElement {
  const err = humanize(raw, context);
  return h(
    "div",
    { class: "callout callout-error", role: "alert", "data-code": err.code },
    h("span", { class: "callout-icon" }, icon("alert", 18)),
    h(
      "div",
      { class: "callout-content" },
      title ? h("p", { class: "callout-title", text: title }) : null,
      h("p", { class: "callout-text", testid: "error-message", text: err.message }),
      err.detail
        ? h("details", { class: "tech" }, h("summary", { text: "Technical details" }), h("pre", { testid: "error-detail", text: err.detail }))
        : null,
      actions.length ? h("div", { class: "callout-actions" }, ...actions) : null,
    ),
  );
}

export function callout(tone: "info" | "warning" | "success" | "danger", iconName: IconName, ...children: Child[]): HTMLElement {
  return h(
    "div",
    { class: `callout callout-${tone}` },
    h("span", { class: "callout-icon" }, icon(iconName, 18)),
    h("div", { class: "callout-content" }, ...children),
  );
}

export function emptyState(o: { icon: IconName; title: string; text: string; actions?: Child[]; testid?: string }): HTMLElement {
  return h(
    "div",
    { class: "empty", testid: o.testid },
    h("div", { class: "empty-icon" }, icon(o.icon, 26)),
    h("h3", { class: "empty-title", text: o.title }),
    h("p", { class: "empty-text", text: o.text }),
    o.actions?.length ? h("div", { class: "empty-actions" }, ...o.actions) : null,
  );
}

export function spinner(label = "Loading"): HTMLElement {
  return h("span", { class: "spinner", role: "status", "aria-label": label });
}

export interface FieldOptions {
  label: string;
  testid: string;
  value?: string;
  type?: string;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  inputmode?: string;
  min?: number;
  max?: number;
  spellcheck?: boolean;
  width?: "sm" | "md" | "full";
}

export interface Field {
  root: HTMLElement;
  input: HTMLInputElement;
  setError(message: string | null): void;
}

/** A labelled input with an optional hint and an error line wired through aria-describedby. */
export function field(o: FieldOptions): Field {
  const id = uid("f");
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const input = h("input", {
    id,
    class: `input${o.width === "sm" ? " input-sm" : ""}`,
    type: o.type ?? "text",
    testid: o.testid,
    name: o.testid,
    placeholder: o.placeholder,
    required: o.required,
    autocomplete: o.autocomplete ?? "off",
    inputmode: o.inputmode,
    min: o.min,
    max: o.max,
    spellcheck: o.spellcheck === true ? "true" : "false",
    "aria-describedby": o.hint ? hintId : undefined,
    props: { value: o.value ?? "" },
  });
  const err = h("p", { id: errId, class: "field-error", hidden: true });
  const root = h(
    "div",
    { class: `field${o.width === "full" ? " field-full" : ""}` },
    h("label", { for: id, class: "field-label" }, o.label, o.required ? null : h("span", { class: "optional", text: " (optional)" })),
    input,
    o.hint ? h("p", { id: hintId, class: "field-hint", text: o.hint }) : null,
    err,
  );
  return {
    root,
    input,
    setError(message) {
      err.textContent = message ?? "";
      err.hidden = !message;
      input.setAttribute("aria-invalid", message ? "true" : "false");
      const described = [o.hint ? hintId : null, message ? errId : null].filter(Boolean).join(" ");
      if (described) input.setAttribute("aria-describedby", described);
      else input.removeAttribute("aria-describedby");
    },
  };
}

export interface SelectOptions<T extends string> {
  label: string;
  testid: string;
  value: T;
  options: ReadonlyArray<{ value: T; label: string }>;
  hint?: string;
}

export function selectField<T extends string>(o: SelectOptions<T>): { root: HTMLElement; select: HTMLSelectElement; value(): T } {
  const id = uid("s");
  const select = h(
    "select",
    { id, class: "input select", testid: o.testid, name: o.testid, "aria-describedby": o.hint ? `${id}-hint` : undefined },
    ...o.options.map((opt) => h("option", { value: opt.value, text: opt.label, selected: opt.value === o.value })),
  );
  select.value = o.value;
  const root = h(
    "div",
    { class: "field" },
    h("label", { for: id, class: "field-label", text: o.label }),
    select,
    o.hint ? h("p", { id: `${id}-hint`, class: "field-hint", text: o.hint }) : null,
  );
  return { root, select, value: () => select.value as T };
}

export interface SegmentOption<T extends string> {
  value: T;
  label: string;
  testid: string;
  icon?: IconName;
  description?: string;
}

/**
 * A radio group drawn as segmented buttons or cards (native radios: arrow keys move between
 * options, as people expect).
 */
export function segmented<T extends string>(o: {
  legend: string;
  name: string;
  value: T;
  options: ReadonlyArray<SegmentOption<T>>;
  onChange: (value: T) => void;
  style?: "pills" | "cards";
  hideLegend?: boolean;
}): { root: HTMLElement; set(value: T): void } {
  const inputs: HTMLInputElement[] = [];
  const root = h(
    "fieldset",
    { class: `segmented segmented-${o.style ?? "pills"}` },
    h("legend", { class: o.hideLegend ? "sr-only" : "field-label", text: o.legend }),
    h(
      "div",
      { class: "segmented-options" },
      ...o.options.map((opt) => {
        const input = h("input", {
          type: "radio",
          name: o.name,
          value: opt.value,
          class: "segmented-input",
          testid: opt.testid,
          props: { checked: opt.value === o.value },
          on: { change: () => o.onChange(opt.value) },
        });
        inputs.push(input);
        return h(
          "label",
          { class: "segmented-option" },
          input,
          h(
            "span",
            { class: "segmented-face" },
            opt.icon ? icon(opt.icon, o.style === "cards" ? 20 : 15) : null,
            h(
              "span",
              { class: "segmented-text" },
              h("span", { class: "segmented-label", text: opt.label }),
              opt.description ? h("span", { class: "segmented-desc", text: opt.description }) : null,
            ),
          ),
        );
      }),
    ),
  );
  return {
    root,
    set(value) {
      for (const input of inputs) input.checked = input.value === value;
    },
  };
}

export function checkbox(o: { label: string; testid: string; checked?: boolean; hint?: string; onChange?: (checked: boolean) => void }): {
  root: HTMLElement;
  input: HTMLInputElement;
} {
  const id = uid("c");
  const input = h("input", {
    id,
    type: "checkbox",
    class: "checkbox",
    testid: o.testid,
    "aria-describedby": o.hint ? `${id}-hint` : undefined,
    props: { checked: !!o.checked },
    on: { change: () => o.onChange?.(input.checked) },
  });
  const root = h(
    "div",
    { class: "check-field" },
    input,
    h(
      "div",
      {},
      h("label", { for: id, class: "check-label", text: o.label }),
      o.hint ? h("p", { id: `${id}-hint`, class: "field-hint", text: o.hint }) : null,
    ),
  );
  return { root, input };
}

/** A toggle switch: a checkbox with role=switch. */
export function toggle(o: { label: string; testid: string; checked: boolean; onChange?: (checked: boolean) => void }): {
  root: HTMLElement;
  input: HTMLInputElement;
} {
  const id = uid("t");
  const input = h("input", {
    id,
    type: "checkbox",
    role: "switch",
    class: "switch-input",
    testid: o.testid,
    props: { checked: o.checked },
    on: { change: () => o.onChange?.(input.checked) },
  });
  const root = h("label", { class: "switch", for: id }, input, h("span", { class: "switch-track", "aria-hidden": "true" }, h("span", { class: "switch-thumb" })), h("span", { class: "switch-label", text: o.label }));
  return { root, input };
}

export interface ProgressBar {
  root: HTMLElement;
  /** `null` draws an indeterminate bar. */
  set(fraction: number | null, label: string): void;
}

export function progressBar(testid: string): ProgressBar {
  const fill = h("div", { class: "progress-fill" });
  const root = h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", testid }, fill);
  return {
    root,
    set(fraction, label) {
      root.setAttribute("aria-valuetext", label);
      if (fraction === null) {
        root.classList.add("indeterminate");
        root.removeAttribute("aria-valuenow");
        fill.style.removeProperty("width");
      } else {
        root.classList.remove("indeterminate");
        const pct = Math.round(fraction * 1000) / 10;
        root.setAttribute("aria-valuenow", String(Math.round(pct)));
        fill.style.setProperty("width", `${pct}%`);
      }
    },
  };
}

/** A definition list of label/value rows. */
export function facts(rows: Array<[string, Child]>, cls = "facts"): HTMLElement {
  return h(
    "dl",
    { class: cls },
    ...rows.map(([k, v]) => h("div", { class: "fact" }, h("dt", { text: k }), h("dd", {}, v))),
  );
}

/** Visually hidden text for screen readers. */
export function srOnly(text: string): HTMLElement {
  return h("span", { class: "sr-only", text });
}
