//! Test support for 智能助手, outside every function binary (a dev-dependency only):
//!
//! - [`MemoryStore`]: the in-memory twin of the stores, with the same conditions as DynamoDB's;
//! - [`builders`]: shops and orders in any node, at a fixed instant;
//! - [`order_day`]: a day of the order system's events, for the shuffle / duplicate property;
//! - [`contract`]: the storage contract suite. It runs against `MemoryStore` here
//!   (`tests/contract.rs`) and against `DynamoStore` on DynamoDB Local
//!   (`tests/integration/contract.rs`): a twin is a twin only while one suite passes on both.

pub mod builders;
pub mod contract;
mod memory;
pub mod order_day;

pub use memory::MemoryStore;
