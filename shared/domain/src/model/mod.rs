//! Plain types and pure rules: no store, no use case. Imports nothing above it (only
//! [`crate::error`] and the intent engine's ids).
//!
//! - [`ids`], [`money`], [`time`]: validated ids, integer fen, epoch milliseconds and Beijing time
//! - [`identity`]: roles and the caller
//! - [`order`]: orders and their nodes (订单节点)
//! - [`order_facts`]: the order system's events and an order as facts merged from them
//! - [`card`]: the order prediction card (订单预测卡片) and its ranking
//! - [`solution`]: the solution catalogue (推荐话术 / 推荐操作) and variable filling
//! - [`panel`]: what the agent's panel (智能助手提示) shows
//! - [`conversation`]: conversations, messages, shops
//! - [`replies`]: a shop's own replies (编辑回复) and its robot's answers (飞鸽机器人)
//! - [`limits`]: abuse limits per buyer (messages a minute, new conversations a day)
//! - [`push`]: push tickets, WebSocket connections and the topics they follow
//! - [`usage`]: usage counts per shop and solution
//! - [`feedback`]: feedback records (我要反馈) and the check of a form
//! - [`compensation`]: the overdue-shipment rule (超时发货赔付), payouts and the payout report
//! - [`shop`]: what the platform sets of a shop: agents with display names, the serving rule
//! - [`ledger`]: the deposit ledger (保证金): top-ups by `Idempotency-Key`, payouts

pub mod card;
pub mod compensation;
pub mod conversation;
pub mod feedback;
pub mod identity;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod money;
pub mod order;
pub mod order_facts;
pub mod panel;
pub mod push;
pub mod replies;
pub mod shop;
pub mod solution;
pub mod time;
pub mod usage;
