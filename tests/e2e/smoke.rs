//! The app starts, shows its page, answers its own commands and refuses anything its
//! capabilities do not grant.

use serde_json::json;

use crate::support::{is_png, App};

#[test]
fn the_app_starts_and_answers_its_commands() {
    let app = App::start();
    assert_eq!(app.title(), "RYTHM Backup Admin");

    // A command of this app, through the real IPC: a fresh home has no profiles.
    assert_eq!(app.invoke("list_profiles", json!({})), Ok(json!([])));
    let settings = app.invoke("get_settings", json!({})).expect("get_settings");
    assert_eq!(settings["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(settings["settings"]["theme"], "system");

    // A plugin command the front end is not granted.
    let refused = app
        .invoke(
            "plugin:opener|open_url",
            json!({"url": "https://example.com"}),
        )
        .expect_err("opener is not granted to the front end");
    assert!(
        refused.to_string().contains("not allowed"),
        "unexpected answer: {refused}"
    );

    // The content security policy holds in the page: no eval, no inline script.
    let eval = app.execute(
        "try { eval('1'); return 'allowed'; } catch (e) { return e.name; }",
        vec![],
    );
    assert_eq!(eval, json!("EvalError"), "eval must be refused by the CSP");

    let shot = app.screenshot("smoke");
    assert!(is_png(&shot), "{} is not a PNG", shot.display());
    eprintln!("screenshot: {}", shot.display());
}
