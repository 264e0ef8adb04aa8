//! The `assistant` command's library: demo data and the scripted demo, shared with the tests.

pub mod bench;
pub mod coldstart;
pub mod demo;
pub mod drill;
pub mod evaluate;
pub mod flow_bench;
pub mod orders_bench;
pub mod seed;
