//! End-to-end tests of the desktop app: the real binary in a real window on a private Xvfb
//! display, driven over WebDriver by Debian's WebKitWebDriver (packages xvfb and
//! webkit2gtk-driver). One test binary, one module per feature; `support` has the helpers.
//!
//!   cargo test -p rythm-backup-admin --test e2e
//!
//! `RYTHM_E2E_DISPLAY=:0` shows the window on a real display instead; screenshots go to
//! `RYTHM_E2E_SCREENSHOTS` (default: `rythm-e2e` in the temp folder).

mod commands;
mod smoke;
mod support;
mod ui_api;
mod ui_direct;
mod ui_partial;
mod ui_platform;
mod ui_secrets;
mod ui_verify;
mod updater;
