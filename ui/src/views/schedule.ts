// The server's daily backup schedule (API mode): enabled, the time in local time and UTC,
// retention days, whether each run is rehearsed (where the server offers it), last and next run.

import * as api from "../api";
import type { Profile } from "../state";
import type { ScheduleConfig, ScheduleUpdate } from "../bindings";
import { ageOf, formatLocalDateTime, formatUtcDateTime, untilOf } from "../lib/format";
import { localToUtc, retentionProblem, shortTime, utcToLocal, zoneLabel, RETENTION_MAX, RETENTION_MIN } from "../lib/schedule";
import { markSignedOut } from "../state";
import { h, replace, Scope } from "../ui/dom";
import { toast } from "../ui/toast";
import { button, emptyState, errorBox, facts, field, toggle } from "../ui/widgets";
import { pageHeader } from "./page";

function when(iso: string | null, now: Date, future: boolean): HTMLElement | string {
  if (!iso) return future ? "Not planned" : "Never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const rel = future ? untilOf(iso, now) : ageOf(iso, now);
  return h("span", { class: "two-line" }, h("span", { class: "num", text: formatLocalDateTime(iso), title: formatUtcDateTime(iso) }), h("span", { class: "muted small", text: rel }));
}

export function schedulePage(scope: Scope, profile: Profile): HTMLElement {
  const content = h("div", { class: "schedule-area" });
  const page = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    pageHeader({ title: "Schedule", subtitle: profile.mode.type === "api" ? `The daily backup that ${profile.mode.baseUrl} runs on its own.` : "Daily backups are run by a backup server." }),
    content,
  );
  void scope;

  if (profile.mode.type !== "api") {
    replace(
      content,
      emptyState({
        icon: "clock",
        title: "No schedule in direct mode",
        text: `A schedule belongs to a backup server. For “${profile.name}”, use the operating system's scheduler (cron, systemd timer or Task Scheduler) to run: rythm-backup backup --profile ${profile.name}. Or add an API profile for a server that runs its own schedule.`,
        testid: "schedule-direct",
      }),
    );
    return page;
  }

  function renderForm(config: ScheduleConfig): void {
    const today = new Date();
    const enabled = toggle({ label: "Run a backup every day", testid: "schedule-enabled", checked: config.enabled });
    const localTime = utcToLocal(config.schedule_time, today) ?? "02:00";
    const time = field({ label: `Time (${zoneLabel(today)})`, testid: "schedule-time", type: "time", value: localTime, required: true });
    const utcLine = h("p", { class: "field-hint", testid: "schedule-utc", "aria-live": "polite" });
    time.root.append(utcLine);
    const retention = field({
      label: "Keep backups for (days)",
      testid: "schedule-retention",
      value: String(config.retention_days),
      inputmode: "numeric",
      width: "sm",
      required: true,
      hint: `${RETENTION_MIN}–${RETENTION_MAX} days. The server deletes older backups after each scheduled run, always keeping the newest.`,
    });
    // Our server rehearses a restore of each scheduled backup when asked to; a server that
    // says nothing of it (the RYTHM platform) does not, so no switch is offered there.
    const rehearses = config.verify_after_backup ?? null;
    const verify = rehearses === null ? null : toggle({ label: "Rehearse a restore of each scheduled backup", testid: "schedule-verify", checked: rehearses });
    const verifyRow =
      verify &&
      h(
        "div",
        { class: "card-row" },
        verify.root,
        h("p", { class: "field-hint", text: "The server restores each new backup into a scratch database and compares every table's rows with those recorded at backup time. A backup that does not restore is reported like a failed backup." }),
      );
    const save = button({ label: "Save schedule", variant: "primary", testid: "schedule-save", type: "submit" });
    const errorSlot = h("div");
    const updateUtc = (): void => {
      const utc = localToUtc(time.input.value, today);
      utcLine.textContent = utc ? `Runs at ${shortTime(utc)} UTC on the server.` : "Enter a time of day.";
    };
    time.input.addEventListener("input", updateUtc);
    updateUtc();
    const form = h(
      "form",
      {
        class: "card schedule-card",
        testid: "schedule-form",
        novalidate: true,
        on: {
          submit: async (e) => {
            e.preventDefault();
            errorSlot.replaceChildren();
            const utc = localToUtc(time.input.value, today);
            const rp = retentionProblem(retention.input.value);
            time.setError(utc ? null : "Enter a time of day, e.g. 02:00.");
            retention.setError(rp);
            if (!utc) return time.input.focus();
            if (rp) return retention.input.focus();
            const update: ScheduleUpdate = { enabled: enabled.input.checked, schedule_time: utc, retention_days: Number(retention.input.value) };
            if (verify) update.verify_after_backup = verify.input.checked;
            save.disabled = true;
            try {
              const saved = await api.setSchedule(profile.name, update);
              const rehearsal = saved.verify_after_backup ? " Each one is rehearsed." : "";
              toast({ kind: "success", title: "Schedule saved", message: saved.enabled ? `Daily at ${utcToLocal(saved.schedule_time, new Date())} (${shortTime(saved.schedule_time)} UTC), keeping ${saved.retention_days} days.${rehearsal}` : "Daily backups are off." });
              renderForm(saved);
            } catch (err) {
              if ((err as { code?: string }).code === "auth_required") markSignedOut(profile.name);
              errorSlot.replaceChildren(errorBox(err, [], "Could not save the schedule"));
              save.disabled = false;
            }
          },
        },
      },
      h("div", { class: "card-row" }, enabled.root),
      h("div", { class: "grid-2 schedule-fields" }, time.root, retention.root),
      verifyRow,
      errorSlot,
      h("div", { class: "form-actions" }, save),
    );
    const now = new Date();
    const status = h(
      "aside",
      { class: "card schedule-status", "aria-label": "Schedule status" },
      h("h2", { class: "card-title", text: "Runs" }),
      facts(
        [
          ["Status", config.enabled ? h("span", { class: "badge badge-success", text: "On" }) : h("span", { class: "badge badge-muted", text: "Off" })],
          ["Daily at", `${utcToLocal(config.schedule_time, now) ?? "—"} local · ${shortTime(config.schedule_time)} UTC`],
          ["Last run", when(config.last_run_at, now, false)],
          ["Next run", config.enabled ? when(config.next_run_at, now, true) : "Off"],
          ["Rehearsal", rehearses === null ? "Not offered by this server" : rehearses ? "After each scheduled backup" : "Off"],
          ["Last changed", config.updated_at ? formatLocalDateTime(config.updated_at) : "—"],
        ],
        "facts facts-stacked",
      ),
    );
    replace(content, h("div", { class: "schedule-grid" }, form, status));
  }

  async function load(): Promise<void> {
    replace(content, h("div", { class: "loading-line" }, h("span", { class: "spinner" }), h("span", { text: "Loading the schedule…" })));
    try {
      renderForm(await api.getSchedule(profile.name));
    } catch (e) {
      if ((e as { code?: string }).code === "auth_required") markSignedOut(profile.name);
      replace(
        content,
        errorBox(
          e,
          [
            button({ label: "Try again", variant: "secondary", icon: "refresh", testid: "retry-schedule", onClick: () => void load() }),
            (e as { code?: string }).code === "auth_required" ? h("a", { class: "btn btn-primary", href: "#/backups", text: "Sign in" }) : null,
          ],
          "Could not load the schedule",
        ),
      );
    }
  }
  void load();
  return page;
}
