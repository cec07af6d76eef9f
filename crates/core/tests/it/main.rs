//! The integration tests of rythm-backup-core: one test binary, a module per feature. They
//! need the PostgreSQL and Azurite that `scripts/test.sh` starts, and fail without them.

mod api_peer;
mod damaged;
mod hostile;
mod interrupted;
mod keychain;
mod legacy;
mod partial;
mod profiles;
mod rehearsal;
mod roundtrip;
mod safety;
mod secret_file;
mod shared_container;
mod storage_azure;
mod storage_conformance;
mod support;
