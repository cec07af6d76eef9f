//! The integration tests of rythm-backup-core: one test binary, a module per feature.

mod storage_azure;
mod storage_conformance;
mod support;
