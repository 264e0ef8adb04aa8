//! Test support for 智能助手, outside every function binary (a dev-dependency of the tests; the
//! `assistant` command takes its demo shop from [`fixtures`]):
//!
//! - [`MemoryStore`]: the in-memory twin of the stores, with the same conditions as DynamoDB's;
//! - [`builders`]: shops and orders in any node, at a fixed instant;
//! - [`fixtures`]: the demo shop (the `assistant` command seeds the same) and the helpers the
//!   use-case tests in `shared/domain/tests/usecases/` share;
//! - [`views`]: what must never reach a buyer, found anywhere in a JSON answer;
//! - [`push`]: the twin of API Gateway's `@connections` API ([`push::MemoryPusher`]), which
//!   records every post, and can answer 410 or fail for a connection on purpose;
//! - [`order_day`]: a day of the order system's events, for the shuffle / duplicate property;
//! - [`contract`]: the storage contract suite. It runs against `MemoryStore` here
//!   (`tests/contract.rs`) and against `DynamoStore` on DynamoDB Local
//!   (`tests/integration/contract.rs`): a twin is a twin only while one suite passes on both.

pub mod builders;
pub mod contract;
pub mod fixtures;
mod memory;
pub mod order_day;
pub mod push;
pub mod views;

pub use memory::MemoryStore;
pub use push::MemoryPusher;
