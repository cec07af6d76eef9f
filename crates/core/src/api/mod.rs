//! API mode: the REST contract's wire types, shared with our server, and (later) the client
//! that drives a backup REST API as the `Backups` trait.

pub mod wire;
