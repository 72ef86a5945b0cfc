//! The emulator's integration tests, as one test binary (one link, one process, one
//! shared signing key) rather than one per file: each file is a module and `support`
//! holds the emulator/receiver/client fixtures and the `eventually` polling helper.

mod agent_side;
mod bad_input;
mod binary;
mod contact_center;
mod faults;
mod lifecycle;
mod operations;
mod signatures;
mod support;
