//! The shared state of one running emulator, handed to every handler and timer.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use crate::delivery::Delivery;
use crate::eventlog::EventLog;
use crate::faults::Faults;
use crate::seed::Seed;
use crate::settings::Settings;
use crate::signing::Keyring;
use crate::store::Store;
use crate::tasks::Tasks;

pub struct Sim {
    pub seed: Seed,
    pub store: Mutex<Store>,
    pub delivery: Arc<Delivery>,
    pub keyring: Arc<Keyring>,
    pub faults: Arc<Mutex<Faults>>,
    pub settings: Arc<RwLock<Settings>>,
    pub log: Arc<EventLog>,
    pub tasks: Arc<Tasks>,
    pub base_url: String,
}

impl Sim {
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs `f` after `ms` milliseconds on a tracked task.
    pub fn after<F>(self: &Arc<Self>, ms: u64, f: F)
    where
        F: FnOnce(&Arc<Sim>) + Send + 'static,
    {
        let sim = self.clone();
        self.tasks.spawn(async move {
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            f(&sim);
        });
    }
}
