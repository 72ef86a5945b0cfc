//! A fresh PostgreSQL database per test (`switchboard_testkit::postgres`).

#![allow(unused_imports)]

pub use switchboard_testkit::postgres::*;
