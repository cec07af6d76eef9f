//! The commands the web front end calls, one module per UI domain; each command is a few
//! lines that call the engine.

pub mod activity;
pub mod backups;
pub mod checks;
pub mod local_copies;
pub mod partial;
pub mod profiles;
pub mod schedule;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod verify;
