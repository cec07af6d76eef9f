//! An API profile against the RYTHM platform's stand-in (`PlatformServer`: no safety backup,
//! no metadata, 30-day retention, no restore options), through the real UI: its backups carry
//! no "legacy" badge and say the server records no checksum, expire after 30 days; step 1 of
//! a restore says that no safety backup is taken, offers a download of the current state and
//! hides the options the platform ignores; the result says so again. A download cancelled
//! while its native save dialog is open (the real GTK dialog here) clears the job within a
//! second and closes the dialog, and only its own: a second download's dialog waits for the
//! first's answer. The token goes to the OS keychain: run under
//! `keyctl session -` (scripts/test.sh does).

use std::process::Command;
use std::time::{Duration, Instant};

use rythm_platform_standin::{ADMIN_EMAIL, ADMIN_PASSWORD};
use time::OffsetDateTime;

use crate::support::ui::{
    attribute, dismiss_toasts, id, is_disabled, wait_idle, wait_passed, LONG,
};
use crate::support::{App, AppOptions, PlatformServer};

/// How many windows titled `title` are shown on the app's display. (A dialog that was
/// closed may stay behind, unmapped, under the same title: each window is asked.)
fn shown_windows(app: &App, title: &str) -> usize {
    let xwininfo = |args: &[&str]| {
        Command::new("xwininfo")
            .args(["-display", app.display_name()])
            .args(args)
            .output()
            .expect("xwininfo runs (package x11-utils; scripts/test.sh installs it)")
    };
    let tree = xwininfo(&["-root", "-tree"]);
    let quoted = format!("\"{title}\"");
    String::from_utf8_lossy(&tree.stdout)
        .lines()
        .filter(|line| line.contains(&quoted))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|window| {
            let info = xwininfo(&["-id", window]);
            // Gone meanwhile: an error; closed but not yet destroyed: not viewable.
            info.status.success() && String::from_utf8_lossy(&info.stdout).contains("IsViewable")
        })
        .count()
}

/// Whether a window titled `title` is shown on the app's display.
fn has_window(app: &App, title: &str) -> bool {
    shown_windows(app, title) > 0
}

fn is_shown(app: &App, testid: &str) -> bool {
    app.execute(
        "const e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null",
        vec![id(testid).into()],
    ) == serde_json::Value::Bool(true)
}

#[test]
fn the_rythm_platform_through_the_ui() {
    let platform = PlatformServer::start();
    let now = OffsetDateTime::now_utc();
    // What the platform's container holds after a few days: scheduled and manual backups,
    // and one it did not write itself (`type: "unknown"`), all without metadata. Each is an
    // hour younger than a whole number of days, so the expiry shows that many days.
    let hour = time::Duration::hours(1);
    let dump = b"-- PostgreSQL database dump\nSELECT 1;\n".repeat(4000);
    let backups = [
        (
            2,
            "scheduled",
            platform.peer.put(
                now - time::Duration::days(2) + hour,
                "scheduled",
                dump.clone(),
            ),
        ),
        (
            1,
            "manual",
            platform
                .peer
                .put(now - time::Duration::days(1) + hour, "manual", dump.clone()),
        ),
        (
            5,
            "unknown",
            platform.peer.put(
                now - time::Duration::days(5) + hour,
                "unknown",
                dump.clone(),
            ),
        ),
    ];
    // Debug builds answer the save dialog from RYTHM_E2E_SAVE_DIR; empty, the real one opens.
    let app = App::start_with(AppOptions::new().env("RYTHM_E2E_SAVE_DIR", ""));

    app.find(&id("welcome"));
    app.click(&id("add-profile"));
    app.find(&id("profile-form"));
    app.type_text(&id("profile-name"), "rythm");
    app.click(&id("profile-mode-api"));
    app.type_text(&id("api-url"), &platform.peer.url);
    app.type_text(&id("api-email"), ADMIN_EMAIL);
    app.type_text(&id("api-password"), ADMIN_PASSWORD);
    app.click(&id("profile-save"));
    app.find(&id("connection-checks"));
    for check in ["server", "sign_in", "role"] {
        wait_passed(&app, check);
    }
    app.click(&id("profile-done"));

    // The list: no "legacy", the checksum worded for what it is, 30-day expiry.
    app.wait_for_text(&id("backup-count"), "3 backups", LONG);
    for (age_days, kind, name) in &backups {
        let row = id(&format!("backup-row-{name}"));
        let text = app.text(&row);
        assert!(!text.contains("legacy"), "{name}: {text}");
        let checksum = app.text(&id(&format!("checksum-{name}")));
        assert_eq!(checksum, "not recorded by the server", "{name}");
        let title = attribute(&app, &id(&format!("checksum-{name}")), "title").unwrap();
        assert!(title.contains("the RYTHM platform keeps none"), "{title}");
        let expiry = app.text(&id(&format!("expiry-{name}")));
        assert_eq!(expiry, format!("in {} days", 30 - age_days), "{name}");
        let shown_kind = if *kind == "unknown" {
            "origin unknown"
        } else {
            kind
        };
        assert!(text.contains(shown_kind), "{name}: {text}");
    }
    dismiss_toasts(&app);
    app.screenshot("21-platform-backups");

    // The platform has no partial restore and no contents: both are disabled, saying why.
    let (_, _, first) = &backups[0];
    for (button, reason) in [
        ("restore-part", "restores whole databases only"),
        ("contents", "cannot list what a backup holds"),
    ] {
        let css = id(&format!("{button}-{first}"));
        app.wait_until(&format!("{button} to be disabled"), LONG, || {
            is_disabled(&app, &css)
        });
        let tooltip = attribute(&app, &css, "data-tooltip").unwrap_or_default();
        assert!(tooltip.contains(reason), "{button}: {tooltip}");
    }

    // Step 1 of a restore: no safety backup, said so; a copy of the current state offered;
    // the options the platform ignores are not there.
    let (_, _, newest) = &backups[1];
    app.click(&id(&format!("restore-{newest}")));
    app.find(&id("restore-modal"));
    let note = app.wait_for_text(&id("restore-safety-note"), "takes no safety backup", LONG);
    assert!(
        note.contains("Download a copy of the current state first"),
        "{note}"
    );
    let modal = app.text(&id("restore-modal"));
    assert!(
        !modal.contains("A safety backup of the database is taken first"),
        "{modal}"
    );
    assert!(is_shown(&app, "restore-download-current"));
    assert!(
        !is_shown(&app, "restore-skip-safety"),
        "the platform takes none to skip"
    );
    assert!(
        !is_shown(&app, "restore-terminate"),
        "the platform cannot end sessions"
    );
    // The dialog grows from its "asking the server" line to step 1: let that paint settle.
    std::thread::sleep(Duration::from_secs(1));
    app.screenshot("22-platform-restore-step1");

    // The platform names no database: the backup's name confirms.
    app.click(&id("restore-continue"));
    app.type_text(&id("restore-confirm-input"), "rythm");
    assert!(is_disabled(&app, &id("restore-submit")));
    app.type_text(&id("restore-confirm-input"), newest);
    app.wait_until("restore to be enabled", Duration::from_secs(5), || {
        !is_disabled(&app, &id("restore-submit"))
    });
    app.click(&id("restore-submit"));
    let result = app.wait_for_text(&id("restore-no-safety-backup"), "takes none", LONG);
    assert!(result.starts_with("No safety backup was taken"), "{result}");
    assert!(!app.exists(&id("rollback")));
    let restores = platform
        .peer
        .backup_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/restore"))
        .count();
    assert_eq!(restores, 1);
    app.click(&id("restore-close"));
    app.wait_gone(&id("restore-modal"), LONG);
    wait_idle(&app);
    // The list refreshes after a restore: click once it has (a row re-rendered under the
    // click would take it).
    app.wait_until("the list to refresh", LONG, || {
        app.exists(".table-wrap[aria-busy=\"false\"]")
    });

    // A download whose save dialog is still open: Cancel clears the job at once and closes
    // the dialog.
    app.click(&id(&format!("download-{newest}")));
    app.wait_until("the save dialog", LONG, || has_window(&app, "Save backup"));
    app.wait_for_text(&id("job-phase"), "Waiting for a destination", LONG);
    let cancelled = Instant::now();
    // The dialog is modal to the window: the page's own Cancel button is pressed in the page.
    app.execute(
        "document.querySelector(arguments[0]).click()",
        vec![id("job-cancel").into()],
    );
    app.wait_until("the job to clear", Duration::from_secs(5), || {
        attribute(&app, &id("job-dock"), "hidden").is_some_and(|v| v != "false")
    });
    let took = cancelled.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the job cleared after {took:?}"
    );
    app.wait_until("the dialog to close", Duration::from_secs(5), || {
        !has_window(&app, "Save backup")
    });
    let downloads = platform
        .peer
        .backup_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/download"))
        .count();
    assert_eq!(downloads, 0, "nothing was downloaded");
    // And the next download can start (the profile's slot is free).
    assert!(!is_disabled(&app, &id(&format!("download-{newest}"))));

    // One save dialog at a time: a download of another profile waits for the open dialog's
    // answer, and cancelling that download closes nothing of the first one's.
    app.click(&id(&format!("download-{newest}")));
    app.wait_until("the save dialog", LONG, || has_window(&app, "Save backup"));
    app.invoke(
        "save_profile",
        serde_json::json!({"input": {"name": "rythm-2",
            "mode": {"type": "api", "baseUrl": platform.peer.url, "email": ADMIN_EMAIL},
            "password": ADMIN_PASSWORD}}),
    )
    .expect("a second profile of the platform");
    app.execute(
        "const [profile, name] = arguments;
         const channel = window.__TAURI_INTERNALS__.transformCallback(() => {});
         window.__secondDownload = null;
         window.__TAURI_INTERNALS__.invoke('download_backup',
             {profile, name, jobId: 'e2e-second-download', onEvent: '__CHANNEL__:' + channel})
           .then((ok) => { window.__secondDownload = {ok}; },
                 (err) => { window.__secondDownload = {err}; });
         return true;",
        vec!["rythm-2".into(), newest.to_string().into()],
    );
    // Time for a second dialog to open, were it allowed to.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        shown_windows(&app, "Save backup"),
        1,
        "a second save dialog opened beside the first"
    );
    let second = app
        .invoke(
            "cancel_job",
            serde_json::json!({"jobId": "e2e-second-download"}),
        )
        .expect("cancel_job");
    assert_eq!(second, true, "the second download was running");
    app.wait_until("the second download to end", LONG, || {
        !app.execute("return window.__secondDownload", vec![])
            .is_null()
    });
    let answer = app.execute("return window.__secondDownload", vec![]);
    assert_eq!(answer["err"]["code"], "cancelled", "{answer}");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        shown_windows(&app, "Save backup"),
        1,
        "cancelling the waiting download closed the first one's dialog"
    );
    app.execute(
        "document.querySelector(arguments[0]).click()",
        vec![id("job-cancel").into()],
    );
    app.wait_until("the dialog to close", Duration::from_secs(5), || {
        !has_window(&app, "Save backup")
    });

    // The platform's schedule says nothing of rehearsals: no switch for them, and the status
    // says the server offers none.
    app.click(&id("nav-schedule"));
    app.find(&id("schedule-form"));
    app.wait_for_text(".schedule-status", "Not offered by this server", LONG);
    assert!(!app.exists(&id("schedule-verify")));
}
