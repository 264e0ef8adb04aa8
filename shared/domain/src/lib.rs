//! 智能助手 domain crate: the rules of the product as plain Rust, with no Lambda or AWS types.
//!
//! Rooms, each using only the ones listed before it:
//! - [`error`]: the one error enum
//! - [`intent`]: intent ids and the classifier
//! - [`model`]: plain types and pure rules (orders & nodes, cards, solutions, conversations,
//!   replies, usage, feedback, compensation, money, ids, time, the caller)
//! - [`ports`]: the narrow store traits the use cases need, and nothing else
//! - [`access`]: who may do what; 403 or 404 is decided there only
//! - [`usecases`]: one file per use case
//!
//! The in-memory twin of the stores, the builders and the storage contract suite live in the
//! `assistant-testkit` crate (`shared/testkit`), outside every function binary.

pub mod access;
pub mod error;
pub mod intent;
pub mod model;
pub mod ports;
pub mod usecases;

pub use error::{Error, Result};
