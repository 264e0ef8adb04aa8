//! The narrow storage traits the services need. The DynamoDB adapter implements them; nothing here
//! knows how.

use crate::conversation::{Conversation, Message, Shop};
use crate::error::Result;
use crate::ids::{ConversationId, OrderId, ShopId, UserId};
use crate::order::Order;
use serde::{Deserialize, Serialize};
use std::future::Future;

pub trait OrderStore: Send + Sync {
    /// All of a buyer's orders in one shop.
    fn buyer_orders(
        &self,
        shop: &ShopId,
        buyer: &UserId,
    ) -> impl Future<Output = Result<Vec<Order>>> + Send;
    fn order(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>>> + Send;
    fn put_order(&self, order: &Order) -> impl Future<Output = Result<()>> + Send;
}

pub trait ShopStore: Send + Sync {
    fn shop(&self, shop: &ShopId) -> impl Future<Output = Result<Option<Shop>>> + Send;
    fn put_shop(&self, shop: &Shop) -> impl Future<Output = Result<()>> + Send;
}

/// How an agent used a solution (recorded per shop and solution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionEvent {
    Shown,
    Copied,
    Sent,
    EditedSent,
}

impl SolutionEvent {
    pub const ALL: [SolutionEvent; 4] = [
        SolutionEvent::Shown,
        SolutionEvent::Copied,
        SolutionEvent::Sent,
        SolutionEvent::EditedSent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SolutionEvent::Shown => "shown",
            SolutionEvent::Copied => "copied",
            SolutionEvent::Sent => "sent",
            SolutionEvent::EditedSent => "edited_sent",
        }
    }
}

/// One count to add, in the same write as the conversation change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatEvent {
    pub shop: ShopId,
    pub solution_id: String,
    pub event: SolutionEvent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolutionStats {
    pub shown: u64,
    pub copied: u64,
    pub sent: u64,
    pub edited_sent: u64,
}

/// Everything one step changes in a conversation, written all or nothing.
#[derive(Debug, Clone)]
pub struct ConversationChange {
    /// The new state; its `version` is one more than `expected_version` (or 1 for a new one).
    pub conversation: Conversation,
    /// None: the conversation must not exist yet. Some(v): the stored version must be v.
    pub expected_version: Option<u64>,
    pub messages: Vec<Message>,
    pub stats: Vec<StatEvent>,
}

pub trait ConversationStore: Send + Sync {
    fn conversation(
        &self,
        id: &ConversationId,
    ) -> impl Future<Output = Result<Option<Conversation>>> + Send;
    /// The latest `limit` messages, oldest first.
    fn messages(
        &self,
        id: &ConversationId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Message>>> + Send;
    /// Writes the change atomically; `Error::Conflict` when someone else changed it first.
    fn commit(&self, change: ConversationChange) -> impl Future<Output = Result<()>> + Send;
}

pub trait StatsStore: Send + Sync {
    fn record(&self, event: &StatEvent) -> impl Future<Output = Result<()>> + Send;
    fn stats(
        &self,
        shop: &ShopId,
        solution_id: &str,
    ) -> impl Future<Output = Result<SolutionStats>> + Send;
}

/// Everything the services use.
pub trait Store: OrderStore + ShopStore + ConversationStore + StatsStore {}
impl<T: OrderStore + ShopStore + ConversationStore + StatsStore> Store for T {}
