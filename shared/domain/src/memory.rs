//! An in-memory store with the same conditions as the DynamoDB adapter: versioned conversation
//! commits, one compensation per order, conditional payouts, versioned reply and robot edits,
//! unique message and feedback ids. The fuzz targets run the real handlers on it (`fuzz/`), and
//! the domain's tests use it; it is compiled with the workspace, so it cannot drift from the
//! traits it implements. Not a model of DynamoDB's costs or consistency: the product's storage is
//! DynamoDB (`shared/aws`), tested against DynamoDB Local.

use crate::error::{Error, Result};
use crate::intent::IntentId;
use crate::model::compensation::{
    DueCompensation, PaidCompensation, PayOutcome, ShopInArrears, DUE_SHARDS,
};
use crate::model::conversation::{Conversation, Message, Shop};
use crate::model::feedback::Feedback;
use crate::model::ids::{ConversationId, MessageId, OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::order::Order;
use crate::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use crate::model::time::{beijing_date, Millis};
use crate::model::usage::{SolutionEvent, SolutionStats, StatEvent, StatRow};
use crate::ports::{
    BlobStore, CompensationStore, ConversationChange, ConversationStore, FeedbackStore, OrderStore,
    Page, ReportStore, ShopStore, StatsStore, WaitingConversation,
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
    orders: BTreeMap<OrderKey, Order>,
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
}

/// The in-memory store. Every call takes one lock, so each is atomic like the adapter's single
/// requests and transactions.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl Clone for MemoryStore {
    /// An independent copy of everything stored.
    fn clone(&self) -> Self {
        MemoryStore {
            state: Mutex::new(self.with(|s| s.clone())),
        }
    }
}

impl MemoryStore {
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

impl OrderStore for MemoryStore {
    async fn buyer_orders(&self, shop: &ShopId, buyer: &UserId) -> Result<Vec<Order>> {
        Ok(self.with(|s| {
            s.orders
                .iter()
                .filter(|((sh, b, _), _)| sh == shop && b == buyer)
                .map(|(_, o)| o.clone())
                .collect()
        }))
    }

    async fn order(&self, shop: &ShopId, buyer: &UserId, order: &OrderId) -> Result<Option<Order>> {
        Ok(self.with(|s| s.orders.get(&order_key(shop, buyer, order)).cloned()))
    }

    async fn put_order(&self, order: &Order) -> Result<()> {
        let key = order_key(&order.shop_id, &order.buyer_id, &order.order_id);
        self.with(|s| s.orders.insert(key, order.clone()));
        Ok(())
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
            let Some(shop) = s.shops.get_mut(&due.shop_id) else {
                return Err(Error::NotFound("shop"));
            };
            if shop.deposit != deposit_read {
                return Ok(PayOutcome::DepositMoved);
            }
            let balance_after = Fen(deposit_read.0 - due.amount.0);
            shop.deposit = balance_after;
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
            s.shops
                .values()
                .filter(|shop| shop.deposit.0 < 0)
                .map(|shop| ShopInArrears {
                    shop_id: shop.shop_id.clone(),
                    name: shop.name.clone(),
                    deposit: shop.deposit,
                })
                .collect()
        }))
    }
}

impl FeedbackStore for MemoryStore {
    async fn put_feedback(&self, feedback: &Feedback, stat: &StatEvent) -> Result<()> {
        self.with(|s| {
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
            s.blobs
                .insert(key.to_string(), (bytes, content_type.to_string()))
        });
        Ok(())
    }

    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.with(|s| s.blobs.get(key).map(|(b, _)| b.clone())))
    }

    async fn delete_blob(&self, key: &str) -> Result<()> {
        self.with(|s| s.blobs.remove(key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::compensation::COUPON;
    use crate::model::conversation::{MessageBody, Sender};
    use crate::model::identity::Actor;
    use crate::model::order::fixtures::{order_in, T0};
    use crate::model::order::OrderNode;
    use crate::model::time::HOUR;
    use crate::usecases::{
        panel, post_buyer_message, select_order, sweep, Backoff, PostMessage, SelectOrder,
        SelectionVia,
    };

    struct NoWait;
    impl Backoff for NoWait {
        async fn wait(&self, _attempt: u32) {}
    }

    const OVERDUE: &str = "6930000000000000001";

    fn shop() -> Shop {
        Shop {
            shop_id: ShopId::parse("shop1").unwrap(),
            name: "小美家纺".into(),
            agents: vec![UserId::parse("agent1").unwrap()],
            robot_on: false,
            deposit: Fen(10_000),
        }
    }

    async fn seeded() -> MemoryStore {
        let store = MemoryStore::default();
        store.put_shop(&shop()).await.unwrap();
        store
            .put_order(&order_in(OVERDUE, OrderNode::Overdue))
            .await
            .unwrap();
        store
            .put_order(&order_in("6930000000000000002", OrderNode::Delivered))
            .await
            .unwrap();
        store
    }

    #[tokio::test]
    async fn the_urge_flow_runs_on_it_and_the_sweep_pays_once() {
        let store = seeded().await;
        let buyer = Actor::Buyer(UserId::parse("buyer1").unwrap());
        let agent = Actor::Agent {
            user: UserId::parse("agent1").unwrap(),
            shop: ShopId::parse("shop1").unwrap(),
        };
        let conv = ConversationId::parse("conv1").unwrap();
        let now = T0 + 2 * 24 * HOUR;
        let asked = post_buyer_message(
            &store,
            &buyer,
            &conv,
            PostMessage {
                shop_id: Some(ShopId::parse("shop1").unwrap()),
                text: "我买的四件套怎么还没发货啊".into(),
            },
            now,
        )
        .await
        .unwrap();
        let card = asked.card.expect("a prediction card");
        assert_eq!(card.guess.order_id.as_str(), OVERDUE);

        let chosen = select_order(
            &store,
            &buyer,
            &conv,
            SelectOrder {
                via: SelectionVia::Confirm,
                card_id: Some(card.card_id.clone()),
                order_id: None,
            },
            now + 1000,
        )
        .await
        .unwrap();
        let solution = chosen
            .panel
            .solution
            .expect("a solution for the overdue order");
        assert_eq!(solution.solution_id, "urge_shipment.overdue");
        let seen = panel(&store, &agent, &conv, now + 2000).await.unwrap();
        assert_eq!(
            seen.solution.map(|s| s.solution_id),
            Some(solution.solution_id)
        );
        assert_eq!(store.due_count(), 1, "captured with the answer");

        let first = sweep(&store, &NoWait, now + 3000, 0).await.unwrap();
        let again = sweep(&store, &NoWait, now + 4000, 5).await.unwrap();
        assert_eq!((first.paid, first.fen_paid), (1, COUPON.0));
        assert_eq!(again.paid, 0);
        let buyer_id = UserId::parse("buyer1").unwrap();
        assert_eq!(
            store.coupon(&buyer_id, &OrderId::parse(OVERDUE).unwrap()),
            Some(COUPON)
        );
        let shop = store
            .shop(&ShopId::parse("shop1").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shop.deposit, Fen(10_000 - COUPON.0));
        let messages = store.messages(&conv, 50).await.unwrap();
        // The domain's words, stored as they were given: a coupon message, as in DynamoDB.
        assert!(messages.iter().any(|m| matches!(
            &m.body,
            MessageBody::Coupon { text, .. } if text.contains("优惠券")
        )));
    }

    #[tokio::test]
    async fn a_refused_commit_writes_nothing() {
        let store = seeded().await;
        let shop = shop();
        let conv_id = ConversationId::parse("conv2").unwrap();
        let buyer = UserId::parse("buyer1").unwrap();
        let mut conv = Conversation::open(&conv_id, &shop, &buyer, T0);
        conv.version = 1;
        let text = |t: &str, at| {
            Message::new(
                &conv_id,
                Sender::Buyer(buyer.clone()),
                MessageBody::Text { text: t.into() },
                at,
            )
        };
        let order = order_in(OVERDUE, OrderNode::Overdue);
        let first = text("什么时候发货", T0);
        let due = DueCompensation::new(&order, &conv_id, &first.message_id, T0);
        store
            .commit(ConversationChange {
                conversation: conv.clone(),
                expected_version: None,
                messages: vec![first],
                stats: vec![],
                compensations: vec![due.clone()],
            })
            .await
            .unwrap();
        let before = store.clone();

        // A stale version, then a second compensation for the same order: both refused whole.
        let mut next = conv.clone();
        next.version = 2;
        for (expected, compensations) in [(None, vec![]), (Some(1), vec![due])] {
            let err = store
                .commit(ConversationChange {
                    conversation: next.clone(),
                    expected_version: expected,
                    messages: vec![text("还没发吗", T0 + 1)],
                    stats: vec![],
                    compensations,
                })
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Conflict(_)), "{err:?}");
            assert_eq!(store.messages(&conv_id, 10).await.unwrap().len(), 1);
            assert_eq!(
                store
                    .conversation(&conv_id)
                    .await
                    .unwrap()
                    .map(|c| c.version),
                before
                    .conversation(&conv_id)
                    .await
                    .unwrap()
                    .map(|c| c.version)
            );
        }
    }

    #[tokio::test]
    async fn listings_page_and_refuse_a_cursor_they_did_not_give() {
        let store = seeded().await;
        let shop_id = ShopId::parse("shop1").unwrap();
        for i in 0..5u64 {
            let f = Feedback {
                feedback_id: format!("fb{i}"),
                shop_id: shop_id.clone(),
                author: UserId::parse("agent1").unwrap(),
                intent: IntentId::UrgeShipment,
                solution_id: None,
                conversation_id: None,
                description: "话术不对".into(),
                created_at: T0 + i as Millis,
                screenshots: vec![],
            };
            store.put_feedback(&f, &f.stat()).await.unwrap();
            let err = store.put_feedback(&f, &f.stat()).await.unwrap_err();
            assert!(matches!(err, Error::Conflict(_)));
        }
        let first = store
            .feedback_page(Some(&shop_id), None, 2, None)
            .await
            .unwrap();
        let ids: Vec<&str> = first.items.iter().map(|f| f.feedback_id.as_str()).collect();
        assert_eq!(ids, ["fb4", "fb3"], "newest first");
        let second = store
            .feedback_page(Some(&shop_id), None, 10, first.next)
            .await
            .unwrap();
        assert_eq!(second.items.len(), 3);
        assert_eq!(second.next, None);
        let err = store
            .feedback_page(None, None, 2, Some("forged".into()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let stats = store.stats(&shop_id, "urge_shipment").await.unwrap();
        assert_eq!(stats.feedback, 5, "counted once each");
    }
}
