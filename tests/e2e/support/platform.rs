//! The RYTHM platform's stand-in (the `rythm-platform-standin` crate the engine's contract
//! tests use too) on a runtime of its own, for the blocking end-to-end scenarios.

use rythm_platform_standin::Peer;

pub struct PlatformServer {
    pub peer: Peer,
    _runtime: tokio::runtime::Runtime,
}

impl PlatformServer {
    /// A stand-in with no backup; add them with `peer.put`.
    pub fn start() -> PlatformServer {
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        let peer = runtime.block_on(Peer::start_empty());
        PlatformServer {
            peer,
            _runtime: runtime,
        }
    }
}
