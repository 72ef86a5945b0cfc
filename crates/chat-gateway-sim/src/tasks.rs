//! Background work (timers, delivery lanes) tracked so that shutting the emulator down
//! really stops it, which matters when a test process starts many emulators.

use std::future::Future;
use std::sync::Mutex;

use tokio::task::AbortHandle;

#[derive(Debug, Default)]
pub struct Tasks {
    handles: Mutex<Vec<AbortHandle>>,
    stopped: std::sync::atomic::AtomicBool,
}

impl Tasks {
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let handle = tokio::spawn(fut).abort_handle();
        let mut handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        handles.retain(|h| !h.is_finished());
        handles.push(handle);
    }

    pub fn abort_all(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|e| e.into_inner()));
        for h in handles {
            h.abort();
        }
    }
}
