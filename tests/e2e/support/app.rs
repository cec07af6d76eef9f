//! `App`: the desktop app running for a test. It starts a display, WebKitWebDriver with the
//! test's environment, and a WebDriver session that launches the app binary; then it offers
//! what scenarios need: find by CSS, click, type, wait for text, run a command, screenshot.
//! Everything stops when the `App` is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

use super::display::Display;
use super::webdriver::{Element, Session, WdResult};

/// The binary under test, built by Cargo for this test target.
pub const APP_BINARY: &str = env!("CARGO_BIN_EXE_rythm-backup-admin");

/// How long `find`, `click` and the `wait_*` helpers wait by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// Held while an app starts, so apps start one at a time. WebKitWebDriver picks the port of
/// the app's inspector server by binding port 0 and letting it go, and the app binds it a
/// moment later: two drivers starting together were seen (CI, two `ui_secrets` tests) to hand
/// the same port to two apps, so both sessions reached one app ("WebKitWebContext already has
/// an active automation session") and both tests timed out. Once the page has loaded, the
/// app holds its port and the next one may start.
static STARTING: Mutex<()> = Mutex::new(());

/// How to start the app: extra environment variables on top of an isolated home, and which
/// binary (default: `APP_BINARY`).
#[derive(Default)]
pub struct AppOptions {
    env: Vec<(String, String)>,
    binary: Option<PathBuf>,
    wrapper: Vec<String>,
    home: Option<TempDir>,
}

impl AppOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs another copy of the app (e.g. one an update may replace).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Starts the driver, and so the app, through this command (e.g. `keyctl session NAME`,
    /// which execs the rest).
    pub fn wrapper(mut self, command: Vec<String>) -> Self {
        self.wrapper = command;
        self
    }

    /// A home prepared beforehand (files under `config/rythm-backup` are the profiles').
    pub fn home(mut self, home: TempDir) -> Self {
        self.home = Some(home);
        self
    }

    /// Sets an environment variable of the app (e.g. `RYTHM_UPDATER_ENDPOINT`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
}

pub struct App {
    session: Session,
    driver: Child,
    // Dropped after the driver: the window needs its display until the end.
    display: Display,
    home: TempDir,
}

impl App {
    pub fn start() -> App {
        Self::start_with(AppOptions::new())
    }

    /// Starts the app with its own config, data and download folders in a temp dir (see
    /// `config_dir`, `data_dir`, `downloads_dir`) plus `options`' variables.
    pub fn start_with(options: AppOptions) -> App {
        // A test that panicked while starting poisons the lock; the next start is still fine.
        let _one_at_a_time = STARTING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let display = Display::start();
        let home = match options.home {
            Some(home) => home,
            None => tempfile::tempdir().expect("a temp dir"),
        };
        let port = free_port();
        let mut driver = match options.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg("WebKitWebDriver");
                command
            }
            None => Command::new("WebKitWebDriver"),
        };
        driver
            .arg(format!("--port={port}"))
            .env("DISPLAY", &display.name)
            // Without it the app's webview refuses automation and session creation hangs.
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("RYTHM_CONFIG_DIR", home.path().join("config/rythm-backup"))
            .env("RYTHM_E2E_SAVE_DIR", home.path().join("downloads"))
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        std::fs::create_dir_all(home.path().join("downloads")).expect("the downloads folder");
        let mut driver = driver.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start WebKitWebDriver ({e}): install the webkit2gtk-driver package \
                 (scripts/test.sh does)"
            )
        });
        let base = format!("http://127.0.0.1:{port}");
        if let Err(message) = wait_until_ready(&base) {
            let _ = driver.kill();
            panic!("WebKitWebDriver did not start: {message}");
        }
        let binary = options.binary.unwrap_or_else(|| PathBuf::from(APP_BINARY));
        let capabilities = json!({
            "alwaysMatch": {
                "webkitgtk:browserOptions": { "binary": binary, "args": [] }
            }
        });
        let session = match Session::create(&base, capabilities) {
            Ok(session) => session,
            Err(e) => {
                let _ = driver.kill();
                panic!(
                    "cannot start the app {} over WebDriver: {e}",
                    binary.display()
                );
            }
        };
        session
            .set_script_timeout(Duration::from_secs(600))
            .expect("the script timeout");
        let app = App {
            session,
            driver,
            display,
            home,
        };
        app.wait_for_page();
        app
    }

    /// The raw WebDriver session, for what the helpers below do not cover.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The X display the window is on (e.g. `:12`), for looking at the app's other windows.
    pub fn display_name(&self) -> &str {
        &self.display.name
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// Where downloads land: the test's answer to the save dialog.
    pub fn downloads_dir(&self) -> PathBuf {
        self.home.path().join("downloads")
    }

    /// Files under the app's home (its config with profiles.json, its data with the logs,
    /// its cache) whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        fn walk(dir: &Path, needle: &[u8], found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, needle, found);
                } else if std::fs::read(&path)
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(self.home.path(), needle.as_bytes(), &mut found);
        found
    }

    pub fn title(&self) -> String {
        self.session.title().expect("the page title")
    }

    /// Waits until the page has loaded and the Tauri IPC is there.
    fn wait_for_page(&self) {
        let script = "return document.readyState === 'complete' && !!window.__TAURI_INTERNALS__;";
        self.wait_until("the page to load", DEFAULT_WAIT, || {
            self.session.execute(script, vec![]).ok() == Some(Value::Bool(true))
        });
    }

    /// The first element matching `css`, waiting for it to appear.
    pub fn find(&self, css: &str) -> Element {
        let mut found = None;
        self.wait_until(&format!("an element {css:?}"), DEFAULT_WAIT, || {
            found = self.session.find(css).ok();
            found.is_some()
        });
        found.expect("found")
    }

    /// Every element matching `css` now.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.session.find_all(css).unwrap_or_default()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.session.find(css).is_ok()
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.retry(&format!("click {css:?}"), || self.session.click(&element));
    }

    /// Replaces the text of the input matching `css` with `text`.
    pub fn type_text(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.retry(&format!("clear {css:?}"), || self.session.clear(&element));
        self.retry(&format!("type into {css:?}"), || {
            self.session.send_keys(&element, text)
        });
    }

    /// The rendered text of the element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.session.text(&element).unwrap_or_default()
    }

    /// Waits until the element matching `css` contains `needle`; returns its text.
    pub fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let mut last = String::new();
        self.wait_until(&format!("{css:?} to contain {needle:?}"), timeout, || {
            if let Ok(element) = self.session.find(css) {
                last = self.session.text(&element).unwrap_or_default();
            }
            last.contains(needle)
        });
        last
    }

    /// Waits until nothing matches `css` (a modal closed, a spinner went away).
    pub fn wait_gone(&self, css: &str, timeout: Duration) {
        self.wait_until(&format!("{css:?} to go away"), timeout, || {
            !self.exists(css)
        });
    }

    /// Calls a command of the app as the front end does; `Err` holds its `UiError`.
    pub fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let script = "const [command, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(command, args).then(
                (ok) => done({ ok }),
                (err) => done({ err: err ?? null }));";
        let answer = self
            .session
            .execute_async(script, vec![json!(command), args])
            .unwrap_or_else(|e| panic!("invoke {command}: {e}"));
        match answer.get("err") {
            Some(err) => Err(err.clone()),
            None => Ok(answer.get("ok").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Calls a command that takes a `tauri::ipc::Channel` as its argument `channel_arg` (e.g.
    /// `onEvent`); returns its result and every message sent over the channel, in order.
    pub fn invoke_with_channel(
        &self,
        command: &str,
        args: Value,
        channel_arg: &str,
    ) -> (Result<Value, Value>, Vec<Value>) {
        // A channel is a callback id passed as "__CHANNEL__:ID"; Tauri calls it back with
        // {message, index} per message and {end: true} when the Rust side drops it.
        let script = "const [command, args, channelArg, done] = arguments;
            const received = [];
            let ended = false;
            const id = window.__TAURI_INTERNALS__.transformCallback((m) => {
                if (m && m.end) { ended = true; } else { received.push(m); }
            });
            args[channelArg] = '__CHANNEL__:' + id;
            const finish = (answer) => {
                const started = Date.now();
                const wait = () => {
                    if (ended || Date.now() - started > 2000) {
                        received.sort((a, b) => a.index - b.index);
                        answer.events = received.map((m) => m.message);
                        done(answer);
                    } else { setTimeout(wait, 20); }
                };
                wait();
            };
            window.__TAURI_INTERNALS__.invoke(command, args).then(
                (ok) => finish({ ok }),
                (err) => finish({ err: err ?? null }));";
        let answer = self
            .session
            .execute_async(script, vec![json!(command), args, json!(channel_arg)])
            .unwrap_or_else(|e| panic!("invoke {command}: {e}"));
        let events = answer["events"].as_array().cloned().unwrap_or_default();
        let result = match answer.get("err") {
            Some(err) => Err(err.clone()),
            None => Ok(answer.get("ok").cloned().unwrap_or(Value::Null)),
        };
        (result, events)
    }

    /// Runs JavaScript in the page (`arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.session
            .execute(script, args)
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Saves a PNG of the window as `NAME.png` in `screenshots_dir()`; returns its path. The
    /// DOM gets half a second to settle first, and finite CSS animations and transitions (a
    /// dialog fading in) up to three seconds to end, so no picture is caught mid-fade.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        std::thread::sleep(Duration::from_millis(500));
        let settle = "return document.getAnimations().filter((a) => a.playState === 'running'
            && a.effect && a.effect.getTiming().iterations !== Infinity).length";
        let started = Instant::now();
        while self.session.execute(settle, vec![]).ok() != Some(json!(0))
            && started.elapsed() < Duration::from_secs(3)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let png = self.session.screenshot().expect("a screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("the screenshots folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot file");
        path
    }

    /// Polls `done` every 100 ms until it is true; panics naming `what` after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {what}{}",
                    self.failure_picture()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A screenshot of the window as it was when a wait gave up, named in the panic message
    /// so a failure in CI can be seen, not guessed.
    fn failure_picture(&self) -> String {
        let Ok(png) = self.session.screenshot() else {
            return String::new();
        };
        let dir = screenshots_dir().join("failures");
        let path = dir.join(format!(
            "{}-{}.png",
            std::thread::current()
                .name()
                .unwrap_or("test")
                .replace("::", "-"),
            std::process::id()
        ));
        let text = self
            .session
            .execute("return document.body.innerText.slice(0, 2000)", vec![])
            .ok()
            .and_then(|text| text.as_str().map(str::to_owned))
            .unwrap_or_default();
        match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
            Ok(()) => format!(" (the window then: {}; its text:\n{text})", path.display()),
            Err(_) => format!(" (the page's text then:\n{text})"),
        }
    }

    /// Retries a WebDriver call that may fail while the page re-renders.
    fn retry(&self, what: &str, mut call: impl FnMut() -> WdResult<()>) {
        let started = Instant::now();
        loop {
            match call() {
                Ok(()) => return,
                Err(e) if started.elapsed() > DEFAULT_WAIT => panic!("{what}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.session.delete();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `RYTHM_E2E_SCREENSHOTS`, else `rythm-e2e` in the temp folder.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("RYTHM_E2E_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rythm-e2e"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn wait_until_ready(base: &str) -> Result<(), String> {
    let http = reqwest::blocking::Client::new();
    let started = Instant::now();
    loop {
        match http.get(format!("{base}/status")).send() {
            Ok(answer) if answer.status().is_success() => return Ok(()),
            Ok(answer) => return Err(format!("/status answered {}", answer.status())),
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Whether `path` is a PNG file (its signature).
pub fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.starts_with(b"\x89PNG\r\n\x1a\n"))
}
