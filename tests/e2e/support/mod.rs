//! Helpers for the desktop end-to-end tests: the app under WebDriver (`App`), its display, a
//! small WebDriver client, a throwaway PostgreSQL database (`TestDb`), a tiny HTTP file
//! server (`FileServer`), our REST API server (`ApiServer`) and the RYTHM platform's
//! stand-in (`PlatformServer`).

// Scenarios use different subsets of the helpers; not every one is used by every build.
#![allow(dead_code, unused_imports)]

mod app;
mod display;
pub mod http;
pub mod pg;
pub mod platform;
pub mod server;
pub mod ui;
pub mod webdriver;

pub use app::{is_png, screenshots_dir, App, AppOptions, APP_BINARY, DEFAULT_WAIT};
pub use http::FileServer;
pub use pg::TestDb;
pub use platform::PlatformServer;
pub use server::ApiServer;
