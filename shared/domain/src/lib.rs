//! 智能助手 domain crate: the rules of the product as plain Rust, with no Lambda or AWS types.
//!
//! - [`intent`]: intent ids and the classifier
//! - [`order`]: orders and their nodes (订单节点)
//! - [`card`]: the order prediction card (订单预测卡片) and its ranking
//! - [`solution`]: the solution catalogue (推荐话术 / 推荐操作) and variable filling
//! - [`conversation`]: conversations, messages, shops
//! - [`identity`]: roles and the caller
//! - [`shop_replies`]: a shop's own replies (编辑回复) and its robot (飞鸽机器人)
//! - [`service`]: the use cases, over the narrow traits in [`store`]

pub mod card;
pub mod compensation;
pub mod conversation;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod ids;
pub mod intent;
pub mod memory;
pub mod money;
pub mod order;
pub mod service;
pub mod shop_replies;
pub mod solution;
pub mod store;
pub mod time;

pub use error::{Error, Result};
