//! What the UI scenarios share: selectors by `data-testid` (ui/TESTIDS.md), attribute
//! reads, and waits for the app's own states (a job finished, a connection check passed).

use std::time::Duration;

use super::{App, DEFAULT_WAIT};

/// How long a job (backup, download, restore) or a sign-in may take.
pub const LONG: Duration = Duration::from_secs(120);

/// The CSS selector of a `data-testid`.
pub fn id(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

pub fn attribute(app: &App, css: &str, name: &str) -> Option<String> {
    let element = app.find(css);
    app.session()
        .attribute(&element, name)
        .unwrap_or_else(|e| panic!("attribute {name} of {css}: {e}"))
}

pub fn is_disabled(app: &App, css: &str) -> bool {
    attribute(app, css, "disabled").is_some_and(|v| v != "false")
}

/// Waits until the job dock is hidden (it stays in the page with `hidden` when idle).
pub fn wait_idle(app: &App) {
    app.wait_until("the job to finish", LONG, || {
        attribute(app, &id("job-dock"), "hidden").is_some_and(|v| v != "false")
    });
}

/// Clicks `css`, finding it again on each try: the list re-renders after a refresh.
pub fn click_fresh(app: &App, css: &str) {
    app.wait_until(&format!("a click on {css:?}"), DEFAULT_WAIT, || {
        app.session()
            .find(css)
            .and_then(|e| app.session().click(&e))
            .is_ok()
    });
}

/// Waits until the connection check `check-ID` shows a pass (`data-ok="true"`).
pub fn wait_passed(app: &App, check: &str) {
    let css = id(&format!("check-{check}"));
    app.wait_until(&format!("the {check} check to pass"), LONG, || {
        app.session()
            .find(&css)
            .ok()
            .and_then(|e| app.session().attribute(&e, "data-ok").ok().flatten())
            .as_deref()
            == Some("true")
    });
}

/// A DOM property of the element matching `css` (an input's `value`, a checkbox's
/// `checked`), as the page sees it now; null when nothing matches.
pub fn property(app: &App, css: &str, name: &str) -> serde_json::Value {
    app.execute(
        "const e = document.querySelector(arguments[0]); return e ? e[arguments[1]] : null",
        vec![css.into(), name.into()],
    )
}

/// Fails when `secret` is anywhere the app keeps or shows things: the page's markup, the
/// value of any field, or a file of the app (profiles, settings, activity, logs). Secrets
/// belong in the OS keychain only.
pub fn assert_secret_nowhere(app: &App, secret: &str, what: &str) {
    let page = app.execute(
        "return document.documentElement.outerHTML + [...document.querySelectorAll('input, \
         textarea, select')].map((e) => e.value).join('\\n')",
        vec![],
    );
    let page = page.as_str().unwrap_or_default();
    assert!(!page.is_empty(), "the page's markup could not be read");
    assert!(!page.contains(secret), "{what} is in the page");
    let files = app.files_containing(secret);
    assert!(files.is_empty(), "{what} is in these files: {files:?}");
}

/// Closes every notification, as a person would, so that a page's screenshot shows the page.
pub fn dismiss_toasts(app: &App) {
    for close in app.find_all("[data-testid=\"toast\"] .toast-close") {
        let _ = app.session().click(&close);
    }
    app.wait_gone("[data-testid=\"toast\"]", DEFAULT_WAIT);
}
