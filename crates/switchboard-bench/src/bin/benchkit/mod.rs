//! What the `bench-*` binaries share: latency samples and the table they print, signed
//! 8x8 deliveries and how they are sent, and the probes some of them need.
//!
//! Each binary includes this module and uses only its own part of it; the rest would be
//! reported as dead code in that binary, hence the `allow`.
#![allow(dead_code)]

pub mod cluster;
pub mod cpu;
pub mod deliveries;
pub mod emulator;
pub mod memory;
pub mod noop;
pub mod proxy;
pub mod reference;
pub mod relay;
pub mod senders;
pub mod sse;
pub mod stand_in;
pub mod table;
