//! API mode: the REST contract's wire types, shared with our server, and `ApiClient`, which
//! drives a backup REST API (the RYTHM platform's or ours) as the `Backups` trait.

mod client;
mod error;
pub mod schedule;
mod token;
pub mod wire;

pub use client::{features_from_openapi, is_unencrypted_remote, ApiClient, ApiClientOptions};
pub use error::ApiError;
pub use token::TokenInfo;
