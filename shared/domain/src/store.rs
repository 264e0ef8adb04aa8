//! The narrow storage traits the services need. The DynamoDB adapter implements them; nothing here
//! knows how.

use crate::compensation::{DueCompensation, PaidCompensation, PayOutcome, ShopInArrears};
use crate::conversation::{Conversation, Message, Shop};
use crate::error::Result;
use crate::ids::{ConversationId, OrderId, ShopId, UserId};
use crate::money::Fen;
use crate::order::Order;
use crate::time::Millis;
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
    /// Compensations this step earned; each is written only if the order has none yet.
    pub compensations: Vec<DueCompensation>,
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

/// One page of a longer listing; `next` continues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

pub trait CompensationStore: Send + Sync {
    /// Whether the order already has a compensation, due or paid.
    fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Due compensations of one index shard, oldest question first.
    fn due(
        &self,
        shard: u32,
        limit: usize,
        after: Option<String>,
    ) -> impl Future<Output = Result<Page<DueCompensation>>> + Send;
    /// Pays one due compensation in a single transaction: marks it paid (only if still due),
    /// creates the buyer's coupon, deducts the shop's deposit (only if it is still
    /// `deposit_read`), appends the ledger entry and tells the buyer in the conversation.
    fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        now: Millis,
    ) -> impl Future<Output = Result<PayOutcome>> + Send;
}

/// What the platform's payout report reads: sparse indexes, never a scan.
pub trait ReportStore: Send + Sync {
    /// Every compensation paid on this Beijing day ("2026-11-23").
    fn paid_on(&self, day: &str) -> impl Future<Output = Result<Vec<PaidCompensation>>> + Send;
    /// Every shop whose deposit is below zero.
    fn shops_in_arrears(&self) -> impl Future<Output = Result<Vec<ShopInArrears>>> + Send;
}

/// Everything the services use.
pub trait Store:
    OrderStore + ShopStore + ConversationStore + StatsStore + CompensationStore
{
}
impl<T: OrderStore + ShopStore + ConversationStore + StatsStore + CompensationStore> Store for T {}
