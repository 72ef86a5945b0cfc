//! What the `bench-*` binaries share: latency samples and the table they print, signed
//! 8x8 deliveries and how they are sent, and the probes some of them need.
//!
//! Each binary includes this module and uses its own part of it, so code one binary
//! does not use is not dead code.
#![allow(dead_code)]

pub mod deliveries;
pub mod proxy;
pub mod reference;
pub mod sse;
pub mod table;
