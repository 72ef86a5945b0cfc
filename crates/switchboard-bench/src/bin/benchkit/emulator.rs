//! The 8x8 emulator on worker threads of its own. What it does is 8x8's work — above
//! all an RSA signature for every event it sends (about 1.5 ms of CPU each) — and run
//! on the relay's two worker threads it would hold the relay up in a way 8x8 never
//! does. It still shares the machine's cores, as any second process would.

use std::{future::Future, sync::Arc};

use chat_gateway_sim::{Keyring, SimConfig, SimHandle};
use tokio::runtime::{Builder, Runtime};

pub struct Emulator {
    sim: SimHandle,
    runtime: Runtime,
}

impl Emulator {
    pub async fn start(config: SimConfig) -> Self {
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("emulator")
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        let sim = runtime
            .spawn(chat_gateway_sim::start(config))
            .await
            .expect("the emulator's start does not panic")
            .expect("the emulator starts");
        Self { sim, runtime }
    }

    pub fn base_url(&self) -> String {
        self.sim.base_url()
    }

    /// Its signing keys (the published ones), to sign deliveries as it would.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.sim.keyring()
    }

    /// Runs `fut` on the emulator's threads (whatever it spawns stays there).
    pub async fn run<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime
            .spawn(fut)
            .await
            .expect("a task on the emulator's threads does not panic")
    }

    pub async fn shutdown(self) {
        let Self { sim, runtime } = self;
        let _ = runtime.spawn(sim.shutdown()).await;
        runtime.shutdown_background();
    }
}
