//! rythm-backup-core: the engine of RYTHM Backup Admin. It dumps PostgreSQL databases into
//! blob storage (Azure or a local folder), lists, downloads, restores, verifies and prunes
//! them. It knows nothing of any front end: the CLI, the REST server and the desktop app
//! all drive it through `Engine` and receive its `JobEvent`s.

pub mod api;
pub mod backups;
pub mod catalog;
pub mod codec;
pub mod config;
pub mod engine;
pub mod error;
pub mod freshness;
pub mod fsmode;
pub mod jobs;
pub mod notify;
pub mod pg;
pub mod platform;
pub mod profile;
pub mod redact;
pub mod secrets;
pub mod storage;
pub mod time_text;

pub use api::ApiClient;
pub use backups::Backups;
pub use catalog::{BackupEntry, BackupKind, BackupName, Compression, DumpFormat};
pub use config::{EngineConfig, StorageConfig};
pub use engine::Engine;
pub use error::{Error, ErrorCode};
pub use jobs::{Cancel, JobEvent, Progress};
pub use profile::{Profile, Profiles};
pub use secrets::Keychain;

/// The version written into every backup's metadata.
pub const TOOL_VERSION: &str = concat!("rythm-backup ", env!("CARGO_PKG_VERSION"));
