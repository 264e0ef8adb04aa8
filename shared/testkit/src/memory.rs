//! An in-memory store with the same conditions as the DynamoDB adapter: versioned conversation
//! commits, one compensation per order, conditional payouts, versioned reply and robot edits,
//! unique message and feedback ids. The fuzz targets run the real handlers on it (`fuzz/`), and
//! the use-case tests run on it (`shared/domain/tests`). It stays a twin because the storage
//! contract suite ([`crate::contract`]) runs on it and on the DynamoDB adapter alike. Not a model
//! of DynamoDB's costs or consistency: the product's storage is DynamoDB (`shared/aws`).

use assistant_domain::error::{Error, Result};
use assistant_domain::intent::IntentId;
use assistant_domain::model::compensation::{
    DueCompensation, PaidCompensation, PayOutcome, ShopInArrears, DUE_SHARDS,
};
use assistant_domain::model::conversation::{Conversation, Message, Shop};
use assistant_domain::model::feedback::Feedback;
use assistant_domain::model::ids::{ConversationId, MessageId, OrderId, ShopId, UserId};
use assistant_domain::model::ledger::{IdempotencyKey, LedgerEntry, TopUpOutcome};
use assistant_domain::model::limits::{Allowance, Counted, Limits};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::Order;
use assistant_domain::model::order_facts::{facts_of, OrderEvent, OrderFacts};
use assistant_domain::model::push::{Connection, ConnectionId, Subscriber, Ticket, Topic};
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use assistant_domain::model::shop::ShopProfile;
use assistant_domain::model::time::{beijing_date, Millis};
use assistant_domain::model::usage::{SolutionEvent, SolutionStats, StatEvent, StatRow};
use assistant_domain::ports::{
    BlobStore, CompensationStore, ConversationChange, ConversationStore, FeedbackStore, LimitStore,
    Onboarding, OrderEventOutcome, OrderStore, Page, PlatformStore, PushStore, ReportStore,
    ShopStore, StatsStore, WaitingConversation,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

type OrderKey = (ShopId, UserId, OrderId);

/// A compensation as stored: due until paid.
#[derive(Debug, Clone)]
struct Compensation {
    due: DueCompensation,
    paid: Option<PaidCompensation>,
}

#[derive(Debug, Default, Clone)]
pub struct State {
    shops: BTreeMap<ShopId, Shop>,
    /// Each shop's deposit, apart from its profile (as the adapter keeps it: `FUNDS#{shop}`).
    deposits: BTreeMap<ShopId, Fen>,
    /// Every order's facts by order id (as the adapter keys them: one item per order id).
    orders: BTreeMap<OrderId, OrderFacts>,
    conversations: HashMap<ConversationId, Conversation>,
    /// Per conversation, by (sent_at, message id): the order the adapter's sort keys give.
    messages: HashMap<ConversationId, BTreeMap<(Millis, MessageId), Message>>,
    compensations: BTreeMap<OrderKey, Compensation>,
    coupons: BTreeMap<(UserId, OrderId), Fen>,
    stats: BTreeMap<(ShopId, String), SolutionStats>,
    replies: BTreeMap<(ShopId, IntentId), IntentReplies>,
    reply_history: BTreeMap<(ShopId, IntentId, u64), ReplyChange>,
    robots: BTreeMap<ShopId, RobotSettings>,
    feedback: BTreeMap<String, Feedback>,
    blobs: BTreeMap<String, (Vec<u8>, String)>,
    /// Uses of each buyer's allowance, per window start.
    allowances: BTreeMap<(UserId, Counted, Millis), u32>,
    /// Per shop, by `{at:013}#{order or TOPUP#key}`: the order the adapter's sort keys give.
    ledger: BTreeMap<(ShopId, String), LedgerEntry>,
    /// Per shop and key: the top-up it made.
    top_ups: BTreeMap<(ShopId, IdempotencyKey), LedgerEntry>,
    /// Push tickets by value, and connections (each with the topics it follows).
    tickets: BTreeMap<String, Ticket>,
    connections: BTreeMap<ConnectionId, Connection>,
    /// Injected faults: uploads left until one fails (0: none), and whether feedback writes fail.
    uploads_until_failure: usize,
    failing_feedback_writes: bool,
}

/// The in-memory store. Every call takes one lock, so each is atomic like the adapter's single
/// requests and transactions.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    limits: Limits,
    /// Where committed changes are pushed ([`crate::push`]); none: nothing is announced.
    pusher: Option<crate::push::MemoryPusher>,
}

impl Clone for MemoryStore {
    /// An independent copy of everything stored.
    fn clone(&self) -> Self {
        MemoryStore {
            state: Mutex::new(self.with(|s| s.clone())),
            limits: self.limits,
            pusher: self.pusher.clone(),
        }
    }
}

impl MemoryStore {
    /// A store whose buyers have these limits (the default ones otherwise).
    pub fn with_limits(limits: Limits) -> Self {
        MemoryStore {
            state: Mutex::default(),
            limits,
            pusher: None,
        }
    }

    /// The same store, pushing its committed changes through `pusher` (a twin of API Gateway's
    /// `@connections` that records every post).
    pub fn with_pusher(mut self, pusher: crate::push::MemoryPusher) -> Self {
        self.pusher = Some(pusher);
        self
    }

    pub(crate) fn pusher(&self) -> Option<&crate::push::MemoryPusher> {
        self.pusher.as_ref()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// Compensations still due, in every shard.
    pub fn due_count(&self) -> usize {
        self.with(|s| {
            s.compensations
                .values()
                .filter(|c| c.paid.is_none())
                .count()
        })
    }

    /// Makes the `n`-th screenshot upload from now fail (0: none), as an unavailable S3 would.
    pub fn fail_upload(&self, n: usize) {
        self.with(|s| s.uploads_until_failure = n);
    }

    /// Makes every feedback record's write fail (or none), as an unavailable DynamoDB would.
    pub fn fail_feedback_writes(&self, fail: bool) {
        self.with(|s| s.failing_feedback_writes = fail);
    }

    /// How many objects (screenshots) are stored: none may be left behind by a failed write.
    pub fn blob_count(&self) -> usize {
        self.with(|s| s.blobs.len())
    }

    /// The buyer's coupon for an order, if paid.
    pub fn coupon(&self, buyer: &UserId, order: &OrderId) -> Option<Fen> {
        self.with(|s| s.coupons.get(&(buyer.clone(), order.clone())).copied())
    }
}

fn order_key(shop: &ShopId, buyer: &UserId, order: &OrderId) -> OrderKey {
    (shop.clone(), buyer.clone(), order.clone())
}

fn conflict(what: &str) -> Error {
    Error::Conflict(format!("{what} changed or exists already"))
}

impl LimitStore for MemoryStore {
    fn limits(&self) -> Limits {
        self.limits
    }

    async fn take(&self, allowance: &Allowance) -> Result<bool> {
        Ok(self.with(|s| {
            let key = (
                allowance.buyer.clone(),
                allowance.counted.clone(),
                allowance.start,
            );
            let uses = s.allowances.entry(key).or_default();
            if *uses >= allowance.max {
                return false;
            }
            *uses += 1;
            true
        }))
    }
}

impl OrderStore for MemoryStore {
    async fn recent_orders(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        limit: usize,
    ) -> Result<Vec<Order>> {
        let mut orders: Vec<Order> = self.with(|s| {
            s.orders
                .values()
                .filter(|f| &f.shop_id == shop && &f.buyer_id == buyer)
                .filter_map(OrderFacts::order)
                .collect()
        });
        orders.sort_by(|a, b| (b.created_at, &b.order_id).cmp(&(a.created_at, &a.order_id)));
        orders.truncate(limit);
        Ok(orders)
    }

    async fn order(&self, shop: &ShopId, buyer: &UserId, order: &OrderId) -> Result<Option<Order>> {
        Ok(self.with(|s| {
            s.orders
                .get(order)
                .filter(|f| &f.shop_id == shop && &f.buyer_id == buyer)
                .and_then(OrderFacts::order)
        }))
    }

    async fn put_order(&self, order: &Order) -> Result<()> {
        self.with(|s| s.orders.insert(order.order_id.clone(), facts_of(order)));
        Ok(())
    }

    async fn apply_order_event(&self, event: &OrderEvent) -> Result<OrderEventOutcome> {
        let fact = OrderFacts::of_event(event);
        self.with(|s| {
            let stored = s.orders.entry(event.order_id.clone()).or_insert_with(|| {
                OrderFacts::new(
                    fact.order_id.clone(),
                    fact.shop_id.clone(),
                    fact.buyer_id.clone(),
                )
            });
            Ok(if stored.merge(&fact)? {
                OrderEventOutcome::Changed
            } else {
                OrderEventOutcome::Unchanged
            })
        })
    }

    async fn order_facts(&self, order: &OrderId) -> Result<Option<OrderFacts>> {
        Ok(self.with(|s| s.orders.get(order).cloned()))
    }
}

impl ShopStore for MemoryStore {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        Ok(self.with(|s| s.shops.get(shop).cloned()))
    }

    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        self.with(|s| s.shops.insert(shop.shop_id.clone(), shop.clone()));
        Ok(())
    }

    async fn deposit(&self, shop: &ShopId) -> Result<Option<Fen>> {
        Ok(self.with(|s| s.deposits.get(shop).copied()))
    }

    async fn put_deposit(&self, shop: &ShopId, deposit: Fen) -> Result<()> {
        self.with(|s| s.deposits.insert(shop.clone(), deposit));
        Ok(())
    }

    async fn shop_setup(&self, shop: &ShopId) -> Result<Option<ShopSetup>> {
        Ok(self.with(|s| {
            let profile = s.shops.get(shop)?.clone();
            let replies = s
                .replies
                .range((shop.clone(), IntentId::ALL[0])..)
                .take_while(|((sh, _), _)| sh == shop)
                .map(|((_, intent), r)| (*intent, r.clone()))
                .collect();
            let robot = s
                .robots
                .get(shop)
                .cloned()
                .unwrap_or_else(|| RobotSettings::empty(shop));
            Some(ShopSetup {
                shop: profile,
                replies,
                robot,
            })
        }))
    }

    async fn reply_history(
        &self,
        shop: &ShopId,
        intent: IntentId,
        limit: usize,
    ) -> Result<Vec<ReplyChange>> {
        Ok(self.with(|s| {
            s.reply_history
                .range((shop.clone(), intent, 0)..=(shop.clone(), intent, u64::MAX))
                .rev()
                .take(limit)
                .map(|(_, c)| c.clone())
                .collect()
        }))
    }

    async fn save_replies(&self, replies: &IntentReplies, change: &ReplyChange) -> Result<()> {
        self.with(|s| {
            let key = (replies.shop_id.clone(), replies.intent);
            let stored = s.replies.get(&key).map_or(0, |r| r.version);
            let history = (change.shop_id.clone(), change.intent, change.version);
            if stored + 1 != replies.version || s.reply_history.contains_key(&history) {
                return Err(conflict("the replies"));
            }
            s.replies.insert(key, replies.clone());
            s.reply_history.insert(history, change.clone());
            Ok(())
        })
    }

    async fn save_robot(&self, robot_on: bool, robot: &RobotSettings) -> Result<()> {
        self.with(|s| {
            let stored = s.robots.get(&robot.shop_id).map_or(0, |r| r.version);
            if stored + 1 != robot.version {
                return Err(conflict("the robot"));
            }
            let Some(shop) = s.shops.get_mut(&robot.shop_id) else {
                return Err(Error::NotFound("shop"));
            };
            shop.robot_on = robot_on;
            s.robots.insert(robot.shop_id.clone(), robot.clone());
            Ok(())
        })
    }
}

fn put_message(s: &mut State, message: &Message) -> Result<()> {
    let list = s
        .messages
        .entry(message.conversation_id.clone())
        .or_default();
    let key = (message.sent_at, message.message_id.clone());
    if list.contains_key(&key) {
        return Err(conflict("the message"));
    }
    list.insert(key, message.clone());
    Ok(())
}

impl ConversationStore for MemoryStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        Ok(self.with(|s| s.conversations.get(id).cloned()))
    }

    async fn messages(&self, id: &ConversationId, limit: usize) -> Result<Vec<Message>> {
        Ok(self.with(|s| {
            let Some(list) = s.messages.get(id) else {
                return Vec::new();
            };
            let skip = list.len().saturating_sub(limit);
            list.values().skip(skip).cloned().collect()
        }))
    }

    async fn commit(&self, change: ConversationChange) -> Result<()> {
        self.with(|s| {
            let id = &change.conversation.conversation_id;
            let stored = s.conversations.get(id).map(|c| c.version);
            if stored != change.expected_version {
                return Err(conflict("the conversation"));
            }
            // As DynamoDB: one transaction may not touch a counter item twice.
            let mut counters: Vec<(&ShopId, &str)> = change
                .stats
                .iter()
                .map(|st| (&st.shop, st.solution_id.as_str()))
                .collect();
            counters.sort();
            if counters.windows(2).any(|w| w[0] == w[1]) {
                return Err(Error::Internal(
                    "one change counts the same solution twice".into(),
                ));
            }
            for due in &change.compensations {
                if s.compensations.contains_key(&order_key(
                    &due.shop_id,
                    &due.buyer_id,
                    &due.order_id,
                )) {
                    return Err(conflict("the order's compensation"));
                }
            }
            // All or nothing: check every message before writing any.
            for m in &change.messages {
                let taken = s
                    .messages
                    .get(&m.conversation_id)
                    .is_some_and(|l| l.contains_key(&(m.sent_at, m.message_id.clone())));
                if taken {
                    return Err(conflict("a message"));
                }
            }
            for m in &change.messages {
                put_message(s, m)?;
            }
            for due in &change.compensations {
                s.compensations.insert(
                    order_key(&due.shop_id, &due.buyer_id, &due.order_id),
                    Compensation {
                        due: due.clone(),
                        paid: None,
                    },
                );
            }
            for stat in &change.stats {
                count(s, stat);
            }
            s.conversations.insert(id.clone(), change.conversation);
            Ok(())
        })
    }

    async fn append(&self, message: &Message) -> Result<()> {
        self.with(|s| put_message(s, message))
    }

    async fn waiting(&self, shop: &ShopId, limit: usize) -> Result<Vec<WaitingConversation>> {
        Ok(self.with(|s| {
            let mut waiting: Vec<WaitingConversation> = s
                .conversations
                .values()
                .filter(|c| c.shop_id == *shop)
                .filter_map(WaitingConversation::of)
                .collect();
            waiting.sort_by(|a, b| {
                (a.waiting_since, &a.conversation_id).cmp(&(b.waiting_since, &b.conversation_id))
            });
            waiting.truncate(limit);
            waiting
        }))
    }

    async fn conversations_about(
        &self,
        shop: &ShopId,
        order: &OrderId,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        Ok(self.with(|s| {
            let mut ids: Vec<ConversationId> = s
                .conversations
                .values()
                .filter(|c| c.shop_id == *shop && c.confirmed_order.as_ref() == Some(order))
                .map(|c| c.conversation_id.clone())
                .collect();
            ids.sort();
            ids.truncate(limit);
            ids
        }))
    }
}

fn count(s: &mut State, event: &StatEvent) {
    let stats = s
        .stats
        .entry((event.shop.clone(), event.solution_id.clone()))
        .or_default();
    match event.event {
        SolutionEvent::Shown => stats.shown += 1,
        SolutionEvent::Copied => stats.copied += 1,
        SolutionEvent::Sent => stats.sent += 1,
        SolutionEvent::EditedSent => stats.edited_sent += 1,
        SolutionEvent::Feedback => stats.feedback += 1,
    }
}

impl StatsStore for MemoryStore {
    async fn record(&self, event: &StatEvent) -> Result<()> {
        self.with(|s| count(s, event));
        Ok(())
    }

    async fn stats(&self, shop: &ShopId, solution_id: &str) -> Result<SolutionStats> {
        let key = (shop.clone(), solution_id.to_string());
        Ok(self.with(|s| s.stats.get(&key).cloned().unwrap_or_default()))
    }

    async fn stat_rows(&self, shop: Option<&ShopId>) -> Result<Vec<StatRow>> {
        Ok(self.with(|s| {
            s.stats
                .iter()
                .filter(|((sh, _), _)| shop.is_none_or(|want| want == sh))
                .map(|((sh, solution_id), stats)| StatRow {
                    shop: sh.clone(),
                    solution_id: solution_id.clone(),
                    stats: stats.clone(),
                })
                .collect()
        }))
    }
}

impl CompensationStore for MemoryStore {
    async fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> Result<bool> {
        let key = order_key(shop, buyer, order);
        Ok(self.with(|s| s.compensations.contains_key(&key)))
    }

    async fn due(
        &self,
        shard: u32,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<DueCompensation>> {
        // The cursor is how many of the shard's due items earlier pages held.
        let skip = match after {
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| Error::invalid("after", "is not a cursor this listing gave"))?,
            None => 0,
        };
        Ok(self.with(|s| {
            let mut due: Vec<DueCompensation> = s
                .compensations
                .values()
                .filter(|c| c.paid.is_none() && c.due.shard() == shard % DUE_SHARDS)
                .map(|c| c.due.clone())
                .collect();
            due.sort_by(|a, b| (a.asked_at, &a.order_id).cmp(&(b.asked_at, &b.order_id)));
            let limit = limit.max(1);
            let items: Vec<DueCompensation> = due.iter().skip(skip).take(limit).cloned().collect();
            let next = (skip + items.len() < due.len()).then(|| (skip + items.len()).to_string());
            Page { items, next }
        }))
    }

    async fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        notice: &Message,
        now: Millis,
    ) -> Result<PayOutcome> {
        self.with(|s| {
            let key = order_key(&due.shop_id, &due.buyer_id, &due.order_id);
            match s.compensations.get(&key) {
                Some(c) if c.paid.is_none() => {}
                _ => return Ok(PayOutcome::AlreadyPaid),
            }
            let coupon = (due.buyer_id.clone(), due.order_id.clone());
            if s.coupons.contains_key(&coupon) {
                return Ok(PayOutcome::AlreadyPaid);
            }
            let Some(deposit) = s.deposits.get_mut(&due.shop_id) else {
                return Err(Error::NotFound("shop"));
            };
            if *deposit != deposit_read {
                return Ok(PayOutcome::DepositMoved);
            }
            let balance_after = Fen(deposit_read.0 - due.amount.0);
            *deposit = balance_after;
            let entry =
                LedgerEntry::payout(&due.shop_id, &due.order_id, due.amount, balance_after, now);
            s.ledger
                .insert((due.shop_id.clone(), ledger_key(&entry)), entry);
            s.coupons.insert(coupon, due.amount);
            put_message(s, notice)?;
            if let Some(c) = s.compensations.get_mut(&key) {
                c.paid = Some(PaidCompensation {
                    order_id: due.order_id.clone(),
                    shop_id: due.shop_id.clone(),
                    buyer_id: due.buyer_id.clone(),
                    amount: due.amount,
                    asked_at: due.asked_at,
                    paid_at: now,
                    balance_after,
                });
            }
            Ok(PayOutcome::Paid { balance_after })
        })
    }
}

impl ReportStore for MemoryStore {
    async fn paid_on(&self, day: &str) -> Result<Vec<PaidCompensation>> {
        Ok(self.with(|s| {
            s.compensations
                .values()
                .filter_map(|c| c.paid.clone())
                .filter(|p| beijing_date(p.paid_at) == day)
                .collect()
        }))
    }

    async fn shops_in_arrears(&self) -> Result<Vec<ShopInArrears>> {
        Ok(self.with(|s| {
            s.deposits
                .iter()
                .filter(|(_, deposit)| deposit.0 < 0)
                .map(|(shop_id, deposit)| ShopInArrears {
                    shop_id: shop_id.clone(),
                    name: s
                        .shops
                        .get(shop_id)
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    deposit: *deposit,
                })
                .collect()
        }))
    }
}

impl FeedbackStore for MemoryStore {
    async fn put_feedback(&self, feedback: &Feedback, stat: &StatEvent) -> Result<()> {
        self.with(|s| {
            if s.failing_feedback_writes {
                return Err(Error::Unavailable("injected DynamoDB failure".into()));
            }
            if s.feedback.contains_key(&feedback.feedback_id) {
                return Err(conflict("the feedback"));
            }
            s.feedback
                .insert(feedback.feedback_id.clone(), feedback.clone());
            count(s, stat);
            Ok(())
        })
    }

    async fn feedback_page(
        &self,
        shop: Option<&ShopId>,
        intent: Option<IntentId>,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Feedback>> {
        self.with(|s| {
            let mut all: Vec<&Feedback> = s
                .feedback
                .values()
                .filter(|f| shop.is_none_or(|want| *want == f.shop_id))
                .filter(|f| intent.is_none_or(|want| want == f.intent))
                .collect();
            // Newest first.
            all.sort_by(|a, b| (b.created_at, &b.feedback_id).cmp(&(a.created_at, &a.feedback_id)));
            let start = match &after {
                Some(id) => {
                    all.iter()
                        .position(|f| f.feedback_id == *id)
                        .ok_or_else(|| {
                            Error::invalid("cursor", "is not a cursor this listing gave")
                        })?
                        + 1
                }
                None => 0,
            };
            let limit = limit.max(1);
            let items: Vec<Feedback> = all
                .iter()
                .skip(start)
                .take(limit)
                .map(|f| (*f).clone())
                .collect();
            let next = (start + items.len() < all.len())
                .then(|| items.last().map(|f| f.feedback_id.clone()))
                .flatten();
            Ok(Page { items, next })
        })
    }

    async fn feedback(&self, feedback_id: &str) -> Result<Option<Feedback>> {
        Ok(self.with(|s| s.feedback.get(feedback_id).cloned()))
    }
}

impl BlobStore for MemoryStore {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.with(|s| {
            if s.uploads_until_failure > 0 {
                s.uploads_until_failure -= 1;
                if s.uploads_until_failure == 0 {
                    return Err(Error::Unavailable("injected S3 failure".into()));
                }
            }
            s.blobs
                .insert(key.to_string(), (bytes, content_type.to_string()));
            Ok(())
        })
    }

    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.with(|s| s.blobs.get(key).map(|(b, _)| b.clone())))
    }

    async fn delete_blob(&self, key: &str) -> Result<()> {
        self.with(|s| s.blobs.remove(key));
        Ok(())
    }
}

/// An entry's place in its shop's ledger: time, then what it was for.
fn ledger_key(entry: &LedgerEntry) -> String {
    let what = match (&entry.order_id, &entry.idempotency_key) {
        (Some(order), _) => order.to_string(),
        (None, Some(key)) => format!("TOPUP#{key}"),
        (None, None) => String::new(),
    };
    format!("{:013}#{what}", entry.at.max(0))
}

impl PlatformStore for MemoryStore {
    async fn onboard_shop(&self, profile: &ShopProfile) -> Result<Onboarding> {
        Ok(self.with(|s| {
            let deposit = *s.deposits.entry(profile.shop_id.clone()).or_insert(Fen(0));
            let created = !s.shops.contains_key(&profile.shop_id);
            let shop = s
                .shops
                .entry(profile.shop_id.clone())
                .or_insert_with(|| Shop {
                    shop_id: profile.shop_id.clone(),
                    name: String::new(),
                    agents: vec![],
                    serving_rule: Default::default(),
                    robot_on: false,
                });
            shop.name = profile.name.clone();
            shop.agents = profile.agents.clone();
            shop.serving_rule = profile.serving_rule.clone();
            Onboarding {
                shop: shop.clone(),
                deposit,
                created,
            }
        }))
    }

    async fn top_up_with_key(
        &self,
        shop: &ShopId,
        key: &IdempotencyKey,
    ) -> Result<Option<LedgerEntry>> {
        Ok(self.with(|s| s.top_ups.get(&(shop.clone(), key.clone())).cloned()))
    }

    async fn top_up(&self, entry: &LedgerEntry, deposit_read: Fen) -> Result<TopUpOutcome> {
        let Some(key) = entry.idempotency_key.clone() else {
            return Err(Error::Internal("a top-up without its key".into()));
        };
        self.with(|s| {
            let marker = (entry.shop_id.clone(), key);
            if s.top_ups.contains_key(&marker) {
                return Ok(TopUpOutcome::KeyUsed);
            }
            let Some(deposit) = s.deposits.get_mut(&entry.shop_id) else {
                return Err(Error::NotFound("shop"));
            };
            if *deposit != deposit_read {
                return Ok(TopUpOutcome::DepositMoved);
            }
            *deposit = entry.balance_after;
            s.top_ups.insert(marker, entry.clone());
            s.ledger
                .insert((entry.shop_id.clone(), ledger_key(entry)), entry.clone());
            Ok(TopUpOutcome::Applied)
        })
    }

    async fn ledger_page(
        &self,
        shop: &ShopId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<LedgerEntry>> {
        let bad = || Error::invalid("cursor", "is not a cursor this listing returned");
        if let Some(cursor) = &after {
            let (at, _) = cursor.split_once('#').ok_or_else(bad)?;
            if at.len() != 13 || !at.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
        }
        Ok(self.with(|s| {
            let limit = limit.max(1);
            let mut all: Vec<(&String, &LedgerEntry)> = s
                .ledger
                .range((shop.clone(), String::new())..)
                .take_while(|((sh, _), _)| sh == shop)
                .map(|((_, k), e)| (k, e))
                .collect();
            all.reverse();
            let all: Vec<(&String, &LedgerEntry)> = all
                .into_iter()
                .filter(|(k, _)| after.as_ref().is_none_or(|a| k.as_str() < a.as_str()))
                .collect();
            let items: Vec<LedgerEntry> =
                all.iter().take(limit).map(|(_, e)| (*e).clone()).collect();
            let next = (all.len() > limit).then(|| all[limit - 1].0.clone());
            Page { items, next }
        }))
    }
}

impl PushStore for MemoryStore {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<()> {
        self.with(|s| {
            if s.tickets.contains_key(&ticket.ticket) {
                return Err(Error::Conflict("a ticket with this value exists".into()));
            }
            s.tickets.insert(ticket.ticket.clone(), ticket.clone());
            Ok(())
        })
    }

    async fn take_ticket(&self, ticket: &str) -> Result<Option<Ticket>> {
        Ok(self.with(|s| s.tickets.remove(ticket)))
    }

    async fn put_connection(&self, connection: &Connection) -> Result<()> {
        self.with(|s| {
            s.connections
                .insert(connection.connection_id.clone(), connection.clone());
        });
        Ok(())
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>> {
        Ok(self.with(|s| s.connections.get(id).cloned()))
    }

    async fn subscribe(&self, connection: &Connection, topic: &Topic) -> Result<()> {
        self.with(|s| match s.connections.get_mut(&connection.connection_id) {
            Some(stored) if stored.topics == connection.topics => {
                stored.topics.push(topic.clone());
                Ok(())
            }
            _ => Err(Error::Conflict(
                "the connection changed or closed at the same time".into(),
            )),
        })
    }

    async fn subscribers(&self, topic: &Topic, now: Millis) -> Result<Vec<Subscriber>> {
        Ok(self.with(|s| {
            s.connections
                .values()
                .filter(|c| c.live_at(now) && c.topics.contains(topic))
                .map(|c| Subscriber {
                    connection_id: c.connection_id.clone(),
                    identity: c.identity.clone(),
                })
                .collect()
        }))
    }

    async fn disconnect(&self, id: &ConnectionId) -> Result<()> {
        self.with(|s| s.connections.remove(id));
        Ok(())
    }
}
