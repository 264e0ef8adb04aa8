//! The ports: the narrow storage traits the use cases need, and the types only they speak
//! (a conversation change, a queue entry, a page). The DynamoDB adapter implements them; nothing
//! here knows how. Imports the model only.

use crate::error::Result;
use crate::intent::IntentId;
use crate::model::compensation::{DueCompensation, PaidCompensation, PayOutcome, ShopInArrears};
use crate::model::conversation::{Conversation, Message, Shop};
use crate::model::feedback::Feedback;
use crate::model::ids::{ConversationId, OrderId, ShopId, UserId};
use crate::model::ledger::{IdempotencyKey, LedgerEntry, TopUpOutcome};
use crate::model::limits::{Allowance, Limits};
use crate::model::money::Fen;
use crate::model::order::Order;
use crate::model::order_facts::{OrderEvent, OrderFacts};
use crate::model::panel::Panel;
use crate::model::push::{Connection, ConnectionId, Subscriber, Ticket, Topic};
use crate::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use crate::model::shop::ShopProfile;
use crate::model::time::Millis;
use crate::model::usage::{SolutionStats, StatEvent, StatRow};
use serde::{Deserialize, Serialize};
use std::future::Future;

pub trait OrderStore: Send + Sync {
    /// A buyer's newest `limit` orders in one shop (by when each was placed), newest first: one
    /// bounded read, whatever the buyer's history.
    fn recent_orders(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Order>>> + Send;
    fn order(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>>> + Send;
    /// Stores an order whole, as the facts it stands for (seeding and tests; the order system's
    /// events go through [`OrderStore::apply_order_event`]).
    fn put_order(&self, order: &Order) -> impl Future<Output = Result<()>> + Send;
    /// Merges one order event's fact into its order's facts, in one atomic write: the fact is set
    /// only if its slot is empty or holds an older one (so a redelivery or a late event changes
    /// nothing), and only if the order id is not stored under another shop or buyer (then
    /// `Error::Conflict` and nothing is written).
    fn apply_order_event(
        &self,
        event: &OrderEvent,
    ) -> impl Future<Output = Result<OrderEventOutcome>> + Send;
    /// Every fact stored of one order, whoever's it is (the order system's view; never shown to a
    /// caller without [`OrderStore::order`]'s check).
    fn order_facts(
        &self,
        order: &OrderId,
    ) -> impl Future<Output = Result<Option<OrderFacts>>> + Send;
}

/// What applying one order event did to the stored facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventOutcome {
    /// Its fact was new or newer, and is stored.
    Changed,
    /// The stored facts already had it or a later one: nothing was written.
    Unchanged,
}

pub trait ShopStore: Send + Sync {
    fn shop(&self, shop: &ShopId) -> impl Future<Output = Result<Option<Shop>>> + Send;
    fn put_shop(&self, shop: &Shop) -> impl Future<Output = Result<()>> + Send;
    /// The shop's deposit (保证金), kept apart from its profile: onboarding sets it to 0, payouts
    /// and top-ups move it, nothing else writes it. None for a shop never onboarded.
    fn deposit(&self, shop: &ShopId) -> impl Future<Output = Result<Option<Fen>>> + Send;
    /// Sets a shop's deposit outright, in arrears exactly while below zero: seeding and tests
    /// only (the functions move a deposit only by [`CompensationStore::pay`] and
    /// [`PlatformStore::top_up`]).
    fn put_deposit(&self, shop: &ShopId, deposit: Fen) -> impl Future<Output = Result<()>> + Send;
    /// The shop with its edited replies and its robot's answers, in one read.
    fn shop_setup(&self, shop: &ShopId) -> impl Future<Output = Result<Option<ShopSetup>>> + Send;
    /// The latest changes to a shop's replies for an intent, newest first.
    fn reply_history(
        &self,
        shop: &ShopId,
        intent: IntentId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ReplyChange>>> + Send;
    /// Saves a shop's replies for an intent and the change record together, only if the stored
    /// version is still `replies.version - 1`; otherwise `Error::Conflict`.
    fn save_replies(
        &self,
        replies: &IntentReplies,
        change: &ReplyChange,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Switches the robot and saves its answers together, only if the stored version is still
    /// `robot.version - 1`; otherwise `Error::Conflict`.
    fn save_robot(
        &self,
        robot_on: bool,
        robot: &RobotSettings,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// What the agents' queue shows of a conversation whose buyer waits: only what changes when the
/// wait starts or the buyer is handed off, so that the other steps of a waiting conversation do
/// not rewrite the queue's index (`WaitingIndex` projects just these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingConversation {
    pub conversation_id: ConversationId,
    pub buyer_id: UserId,
    pub waiting_since: Millis,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub handed_off: bool,
}

impl WaitingConversation {
    /// The queue entry of a conversation, if its buyer waits.
    pub fn of(conversation: &Conversation) -> Option<Self> {
        Some(WaitingConversation {
            conversation_id: conversation.conversation_id.clone(),
            buyer_id: conversation.buyer_id.clone(),
            waiting_since: conversation.waiting_since?,
            preview: conversation.preview.clone(),
            handed_off: conversation.handed_off,
        })
    }
}

/// Everything one step changes in a conversation, written all or nothing.
#[derive(Debug, Clone)]
pub struct ConversationChange {
    /// The new state; its `version` is one more than `expected_version` (or 1 for a new one).
    pub conversation: Conversation,
    /// None: the conversation must not exist yet. Some(v): the stored version must be v.
    pub expected_version: Option<u64>,
    pub messages: Vec<Message>,
    /// At most one count per shop and solution: a store writes each as one item of one
    /// transaction (DynamoDB refuses two operations on one item), and refuses the change whole.
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
    /// Adds one message that changes nothing else (a single conditional put).
    fn append(&self, message: &Message) -> impl Future<Output = Result<()>> + Send;
    /// A shop's conversations whose buyer waits for a person, longest wait first.
    fn waiting(
        &self,
        shop: &ShopId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<WaitingConversation>>> + Send;
    /// At most `limit` of a shop's conversations whose confirmed order is `order` (in no
    /// particular order; one bounded read of a sparse index). The index follows the writes a
    /// moment late: a conversation listed may have moved on since, so the caller reads it again.
    fn conversations_about(
        &self,
        shop: &ShopId,
        order: &OrderId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ConversationId>>> + Send;
}

pub trait StatsStore: Send + Sync {
    fn record(&self, event: &StatEvent) -> impl Future<Output = Result<()>> + Send;
    fn stats(
        &self,
        shop: &ShopId,
        solution_id: &str,
    ) -> impl Future<Output = Result<SolutionStats>> + Send;
    /// Every stat row of one shop, or of all shops.
    fn stat_rows(&self, shop: Option<&ShopId>)
        -> impl Future<Output = Result<Vec<StatRow>>> + Send;
}

/// Feedback records (我要反馈); their screenshots live in a [`BlobStore`].
pub trait FeedbackStore: Send + Sync {
    /// Writes the record and its count in one transaction.
    fn put_feedback(
        &self,
        feedback: &Feedback,
        stat: &StatEvent,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Newest first, of one shop or all, optionally of one intent.
    fn feedback_page(
        &self,
        shop: Option<&ShopId>,
        intent: Option<IntentId>,
        limit: usize,
        after: Option<String>,
    ) -> impl Future<Output = Result<Page<Feedback>>> + Send;
    fn feedback(&self, feedback_id: &str) -> impl Future<Output = Result<Option<Feedback>>> + Send;
}

/// Private object storage for screenshots.
pub trait BlobStore: Send + Sync {
    fn put_blob(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    fn get_blob(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
    fn delete_blob(&self, key: &str) -> impl Future<Output = Result<()>> + Send;
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
    /// `deposit_read`), appends the ledger entry and stores `notice`, the message that tells the
    /// buyer (the domain words it: [`crate::model::compensation::payout_notice`]).
    fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        notice: &Message,
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

/// The buyers' abuse limits: counters per window, kept only until the window ends.
pub trait LimitStore: Send + Sync {
    /// The limits in force.
    fn limits(&self) -> Limits;
    /// Takes one use of the allowance: true if it was still open (and is now one use fuller),
    /// false if used up (nothing changed). One atomic step: concurrent takes never overrun `max`.
    fn take(&self, allowance: &Allowance) -> impl Future<Output = Result<bool>> + Send;
}

/// What onboarding stored: the shop, its deposit, and whether the shop is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    pub shop: Shop,
    pub deposit: Fen,
    pub created: bool,
}

/// What the platform's operators change: shops onboarded, deposits topped up, the ledger read.
pub trait PlatformStore: Send + Sync {
    /// Creates the shop (deposit 0, robot off) or sets its name, agents and serving rule, leaving
    /// its deposit, arrears and robot switch as they are. The deposit is created first, so no
    /// profile is ever without one (a retry after a crash between the two writes completes it).
    /// Returns the shop as stored, its deposit, and whether it was new.
    fn onboard_shop(
        &self,
        profile: &ShopProfile,
    ) -> impl Future<Output = Result<Onboarding>> + Send;
    /// The ledger entry of the shop's top-up with this key, if one was made.
    fn top_up_with_key(
        &self,
        shop: &ShopId,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<Option<LedgerEntry>>> + Send;
    /// Applies a top-up in one transaction: the key's marker (only if the key is new), the ledger
    /// entry, and the deposit set to `entry.balance_after` (only if it is still `deposit_read`),
    /// in arrears exactly while below zero.
    fn top_up(
        &self,
        entry: &LedgerEntry,
        deposit_read: Fen,
    ) -> impl Future<Output = Result<TopUpOutcome>> + Send;
    /// The shop's ledger (top-ups and payouts), newest first; `after` is a page's `next`.
    fn ledger_page(
        &self,
        shop: &ShopId,
        limit: usize,
        after: Option<String>,
    ) -> impl Future<Output = Result<Page<LedgerEntry>>> + Send;
}

/// Push connections (issue 17): tickets, connections and what each follows.
pub trait PushStore: Send + Sync {
    /// Stores a fresh ticket (refused as `Error::Conflict` if one has its value).
    fn put_ticket(&self, ticket: &Ticket) -> impl Future<Output = Result<()>> + Send;
    /// Takes the ticket: removes it and returns it if it was stored, in one atomic step, so that
    /// however many present it at once, one gets it. Whether it is still valid is the caller's
    /// to judge ([`Ticket::valid_at`]); a taken ticket is gone either way.
    fn take_ticket(&self, ticket: &str) -> impl Future<Output = Result<Option<Ticket>>> + Send;
    /// Stores a new connection (with no topics).
    fn put_connection(&self, connection: &Connection) -> impl Future<Output = Result<()>> + Send;
    /// The connection with the topics it follows, if stored (expired or not: see
    /// [`Connection::live_at`]).
    fn connection(
        &self,
        id: &ConnectionId,
    ) -> impl Future<Output = Result<Option<Connection>>> + Send;
    /// Adds a topic to the connection, only if the connection is still stored following exactly
    /// `connection.topics` (so that concurrent subscribes never overrun the limit); otherwise
    /// `Error::Conflict` and nothing is written. The topic's subscription lives as long as the
    /// connection.
    fn subscribe(
        &self,
        connection: &Connection,
        topic: &Topic,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The live connections (at `now`) that follow a topic, each with its identity, for the
    /// fan-out.
    fn subscribers(
        &self,
        topic: &Topic,
        now: Millis,
    ) -> impl Future<Output = Result<Vec<Subscriber>>> + Send;
    /// Removes the connection and every subscription of it; nothing to remove is no error.
    fn disconnect(&self, id: &ConnectionId) -> impl Future<Output = Result<()>> + Send;
}

/// What a delivery to one WebSocket connection came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Delivered,
    /// The connection is gone (API Gateway's 410): it is removed from the store.
    Gone,
}

/// Posts to WebSocket connections (API Gateway's `@connections` API): one payload, one
/// connection. A fault is an error; a connection that is gone is [`Posted::Gone`].
pub trait Pusher: Send + Sync {
    fn post(
        &self,
        connection: &ConnectionId,
        payload: &str,
    ) -> impl Future<Output = Result<Posted>> + Send;
}

/// How a committed change moved the conversation's entry in the shop's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueNews {
    Unchanged,
    /// The buyer waits (from now, or the entry changed): the entry as the queue shows it.
    Waits(WaitingConversation),
    /// The wait ended (an agent answered).
    Served,
}

/// What a committed change tells the connections following the conversation and its shop's
/// queue (issue 17): its new messages, whether the agent's panel may have changed, and the
/// queue's entry.
#[derive(Debug, Clone)]
pub struct News {
    pub conversation_id: ConversationId,
    pub shop_id: ShopId,
    /// The conversation's buyer: the only buyer whose connections hear of it.
    pub buyer_id: UserId,
    /// Oldest first.
    pub messages: Vec<Message>,
    pub panel_changed: bool,
    /// The panel as the change left it, when the writer built it (staff then need not read
    /// `GET …/panel`); None when only `panel_changed` says so.
    pub panel: Option<Panel>,
    /// The conversation's version as written (0 for a message appended without a version):
    /// a follower keeps the newest panel it was told.
    pub version: u64,
    pub queue: QueueNews,
    pub at: Millis,
}

impl News {
    /// One message of `buyer`'s conversation in `shop_id` that changed nothing else.
    pub fn message(shop_id: &ShopId, buyer: &UserId, message: &Message, at: Millis) -> Self {
        News {
            conversation_id: message.conversation_id.clone(),
            shop_id: shop_id.clone(),
            buyer_id: buyer.clone(),
            messages: vec![message.clone()],
            panel_changed: false,
            panel: None,
            version: 0,
            queue: QueueNews::Unchanged,
            at,
        }
    }

    /// Whether there is anything to tell.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && !self.panel_changed && self.queue == QueueNews::Unchanged
    }
}

/// Who hears of committed changes: the push fan-out
/// ([`crate::usecases::fanout::fan_out`] over a [`PushStore`] and a [`Pusher`]), or no one. Called
/// after the write, never instead of it: it cannot fail, and whatever it could not deliver is
/// the implementation's to log.
pub trait Announce: Send + Sync {
    fn announce(&self, news: News) -> impl Future<Output = ()> + Send;
}

/// Everything the services use.
pub trait Store:
    OrderStore
    + ShopStore
    + ConversationStore
    + StatsStore
    + CompensationStore
    + FeedbackStore
    + LimitStore
    + Announce
{
}
impl<
        T: OrderStore
            + ShopStore
            + ConversationStore
            + StatsStore
            + CompensationStore
            + FeedbackStore
            + LimitStore
            + Announce,
    > Store for T
{
}
