//! The storage contract: what every implementation of the store traits must do, written once and
//! run against each (`MemoryStore` in this crate's tests, `DynamoStore` on DynamoDB Local in
//! `tests/integration/contract.rs`). Each check takes a fresh, empty store and panics with the
//! check's name on the first difference.
//!
//! It covers what the use cases rely on: versioned, all-or-nothing conversation commits; one
//! compensation per order; a payout that stores the notice the domain worded, exactly; counters;
//! the queue; versioned reply and robot edits; feedback pages and their cursors; and, in
//! [`run_platform`], onboarding, top-ups once per key, arrears left, the deposit ledger; in
//! [`run_push`], single-use tickets, connections and their subscriptions.

use crate::builders::{
    order_in, owned_by, seed_shop, seed_shop_with, shop, shop_id, user_id, BUYER, SHOP, T0,
};
use assistant_domain::intent::IntentId;
use assistant_domain::model::compensation::{payout_notice, DueCompensation, PayOutcome};
use assistant_domain::model::conversation::{Conversation, Message, MessageBody, Sender};
use assistant_domain::model::feedback::Feedback;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, OrderId};
use assistant_domain::model::ledger::{IdempotencyKey, LedgerEntry, TopUpOutcome};
use assistant_domain::model::limits::{Allowance, Limits};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::order_facts::{events_of, facts_of};
use assistant_domain::model::push::{Connection, ConnectionId, Subscriber, Ticket, Topic};
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings};
use assistant_domain::model::shop::{Agent, ServingRule, ShopProfile};
use assistant_domain::model::time::{beijing_date, Millis, MINUTE};
use assistant_domain::model::usage::{SolutionEvent, StatEvent};
use assistant_domain::ports::{
    ConversationChange, OrderEventOutcome, PlatformStore, PushStore, ReportStore, Store,
};
use assistant_domain::Error;
use std::future::Future;

/// Every check, each on a fresh store from `fresh`.
pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: Store + ReportStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    orders_are_read_by_shop_and_buyer(&fresh().await).await;
    a_buyers_orders_read_newest_first_and_no_more_than_asked(&fresh().await).await;
    order_events_merge_into_one_order_whatever_their_order(&fresh().await).await;
    a_shop_reads_back_with_its_setup(&fresh().await).await;
    reply_edits_are_versioned_and_recorded(&fresh().await).await;
    robot_edits_are_versioned_and_switch_the_shop(&fresh().await).await;
    a_refused_commit_writes_nothing(&fresh().await).await;
    messages_read_oldest_first_and_are_never_overwritten(&fresh().await).await;
    the_queue_lists_waiting_buyers_longest_first(&fresh().await).await;
    conversations_are_found_by_the_order_they_named(&fresh().await).await;
    counts_add_up_however_they_are_written(&fresh().await).await;
    a_payout_stores_the_domains_notice_once(&fresh().await).await;
    feedback_pages_newest_first_and_refuses_forged_cursors(&fresh().await).await;
    allowances_never_overrun_however_many_take_at_once(&fresh().await).await;
}

const OVERDUE: &str = "6930000000000000001";

fn conversation(id: &str) -> Conversation {
    Conversation::open(
        &ConversationId::parse(id).unwrap(),
        &shop(SHOP),
        &user_id(BUYER),
        T0,
    )
}

fn text(conv: &Conversation, t: &str, at: Millis) -> Message {
    Message::new(
        &conv.conversation_id,
        Sender::Buyer(conv.buyer_id.clone()),
        MessageBody::Text { text: t.into() },
        at,
    )
}

/// A change that creates `conv` (version 1) with these messages.
fn create(conv: &Conversation, messages: Vec<Message>) -> ConversationChange {
    let mut c = conv.clone();
    c.version = 1;
    ConversationChange {
        conversation: c,
        expected_version: None,
        messages,
        stats: vec![],
        compensations: vec![],
    }
}

/// A change from the stored version `from` to `from + 1`.
fn next(conv: &Conversation, from: u64, messages: Vec<Message>) -> ConversationChange {
    let mut c = conv.clone();
    c.version = from + 1;
    ConversationChange {
        conversation: c,
        expected_version: Some(from),
        messages,
        stats: vec![],
        compensations: vec![],
    }
}

/// How many messages `conv` has (up to ten).
async fn message_count<S: Store>(store: &S, conv: &Conversation) -> usize {
    store
        .messages(&conv.conversation_id, 10)
        .await
        .unwrap()
        .len()
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    match result {
        Err(Error::Conflict(_)) => {}
        other => panic!("{what}: expected a conflict, got {other:?}"),
    }
}

/// One conditional merge per event: a fact is stored only if newer, a redelivery or an older fact
/// changes nothing, facts before "created" are no order yet, and an order id of another shop or
/// buyer is a conflict that writes nothing.
pub async fn order_events_merge_into_one_order_whatever_their_order<S: Store>(store: &S) {
    let order = order_in("100000000009", OrderNode::AfterSale);
    let events = events_of(&order, "c");
    let (created, rest) = events.split_first().unwrap();
    // Everything but "created", newest first: no order to show yet.
    for e in rest.iter().rev() {
        let outcome = store.apply_order_event(e).await.unwrap();
        assert_eq!(
            outcome,
            OrderEventOutcome::Changed,
            "order events: {:?}",
            e.kind()
        );
    }
    let (shop, buyer) = (shop_id(SHOP), user_id(BUYER));
    assert_eq!(
        store.order(&shop, &buyer, &order.order_id).await.unwrap(),
        None,
        "order events: no order before its created fact"
    );
    assert!(
        store
            .recent_orders(&shop, &buyer, 50)
            .await
            .unwrap()
            .is_empty(),
        "order events: not in the buyer's list before it is created"
    );
    assert_eq!(
        store.apply_order_event(created).await.unwrap(),
        OrderEventOutcome::Changed
    );
    for e in &events {
        assert_eq!(
            store.apply_order_event(e).await.unwrap(),
            OrderEventOutcome::Unchanged,
            "order events: a redelivery changes nothing"
        );
    }
    let mut older = rest[0].clone();
    older.occurred_at -= 1;
    older.event_id.push_str("-older");
    assert_eq!(
        store.apply_order_event(&older).await.unwrap(),
        OrderEventOutcome::Unchanged,
        "order events: an older fact of a kind loses"
    );
    let read = store.order(&shop, &buyer, &order.order_id).await.unwrap();
    assert_eq!(
        read.as_ref(),
        Some(&order),
        "order events: the order, merged"
    );
    assert_eq!(
        store.recent_orders(&shop, &buyer, 50).await.unwrap(),
        vec![order.clone()]
    );
    let facts = store.order_facts(&order.order_id).await.unwrap();
    assert_eq!(
        facts.as_ref().and_then(|f| f.order()).as_ref(),
        Some(&order)
    );

    let mut elsewhere = rest[0].clone();
    elsewhere.shop_id = shop_id("shop2");
    elsewhere.occurred_at += 1;
    is_conflict(
        store.apply_order_event(&elsewhere).await,
        "order events: another shop's order id",
    );
    let mut other_buyer = rest[0].clone();
    other_buyer.buyer_id = user_id("buyer2");
    other_buyer.occurred_at += 1;
    is_conflict(
        store.apply_order_event(&other_buyer).await,
        "order events: another buyer's order id",
    );
    assert_eq!(
        store.order_facts(&order.order_id).await.unwrap(),
        facts,
        "order events: a refused event writes nothing"
    );
    assert_eq!(
        store
            .order(&shop_id("shop2"), &buyer, &order.order_id)
            .await
            .unwrap(),
        None
    );
    // put_order stores the same facts the events make
    let stamped_alike = facts_of(&order);
    assert_eq!(stamped_alike.order().as_ref(), Some(&order));
}

/// The card's read: the newest `limit` of a buyer's orders in a shop, newest first by when each
/// was placed (not by order number), however many the buyer has.
pub async fn a_buyers_orders_read_newest_first_and_no_more_than_asked<S: Store>(store: &S) {
    // Order numbers run against placing times, so that an order-number sort would be caught.
    let orders: Vec<_> = (0..12)
        .map(|i| {
            let mut o = order_in(&format!("1000000001{:02}", 50 - i), OrderNode::Unpaid);
            o.created_at = T0 - 1_000 * (12 - i);
            o
        })
        .collect();
    for o in &orders {
        store.put_order(o).await.unwrap();
    }
    store
        .put_order(&owned_by(
            order_in("100000000199", OrderNode::Unpaid),
            SHOP,
            "buyer2",
        ))
        .await
        .unwrap();
    let newest: Vec<_> = orders.iter().rev().take(5).cloned().collect();
    assert_eq!(
        store
            .recent_orders(&shop_id(SHOP), &user_id(BUYER), 5)
            .await
            .unwrap(),
        newest,
        "orders: the newest five, newest first"
    );
    let all = store
        .recent_orders(&shop_id(SHOP), &user_id(BUYER), 50)
        .await
        .unwrap();
    assert_eq!(all.len(), 12, "orders: all twelve when fewer than asked");
    assert_eq!(all[0], orders[11], "orders: newest first");
}

pub async fn orders_are_read_by_shop_and_buyer<S: Store>(store: &S) {
    let mine = [
        order_in("100000000001", OrderNode::Overdue),
        order_in("100000000002", OrderNode::Shipped),
    ];
    for o in &mine {
        store.put_order(o).await.unwrap();
    }
    let others = [
        owned_by(order_in("100000000003", OrderNode::Unpaid), SHOP, "buyer2"),
        owned_by(order_in("100000000004", OrderNode::Unpaid), "shop2", BUYER),
    ];
    for o in &others {
        store.put_order(o).await.unwrap();
    }
    let mut read = store
        .recent_orders(&shop_id(SHOP), &user_id(BUYER), 50)
        .await
        .unwrap();
    read.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    assert_eq!(
        read, mine,
        "orders: only the buyer's in this shop, as written"
    );
    let one = store
        .order(&shop_id(SHOP), &user_id(BUYER), &mine[1].order_id)
        .await
        .unwrap();
    assert_eq!(one.as_ref(), Some(&mine[1]), "orders: one by its key");
    let missing = store
        .order(&shop_id(SHOP), &user_id(BUYER), &others[0].order_id)
        .await
        .unwrap();
    assert_eq!(missing, None, "orders: another buyer's order is not found");
}

pub async fn a_shop_reads_back_with_its_setup<S: Store>(store: &S) {
    assert_eq!(
        store.shop(&shop_id(SHOP)).await.unwrap(),
        None,
        "shops: none yet"
    );
    assert!(store.shop_setup(&shop_id(SHOP)).await.unwrap().is_none());
    store.put_shop(&shop(SHOP)).await.unwrap();
    assert_eq!(
        store.shop(&shop_id(SHOP)).await.unwrap(),
        Some(shop(SHOP)),
        "shops: as written"
    );
    let setup = store.shop_setup(&shop_id(SHOP)).await.unwrap().unwrap();
    assert_eq!(setup.shop, shop(SHOP), "shops: the setup's profile");
    assert!(setup.replies.is_empty(), "shops: no edited replies yet");
    assert_eq!(setup.robot.version, 0, "shops: the robot never set up");
    assert!(setup.robot.answers.is_empty());
}

fn replies(version: u64, reply: &str) -> (IntentReplies, ReplyChange) {
    let shop = shop_id(SHOP);
    let mut r = IntentReplies::empty(&shop, IntentId::UrgeShipment);
    r.version = version;
    r.solutions
        .insert("urge_shipment.overdue".into(), vec![reply.into()]);
    r.updated_at = T0 + version as Millis;
    r.updated_by = Some(user_id("admin1"));
    let change = ReplyChange {
        shop_id: shop,
        intent: IntentId::UrgeShipment,
        version,
        by: user_id("admin1"),
        at: T0 + version as Millis,
        solution_id: "urge_shipment.overdue".into(),
        before: vec![],
        after: vec![reply.into()],
    };
    (r, change)
}

pub async fn reply_edits_are_versioned_and_recorded<S: Store>(store: &S) {
    store.put_shop(&shop(SHOP)).await.unwrap();
    let (v1, c1) = replies(1, "亲，马上为您催促仓库");
    store.save_replies(&v1, &c1).await.unwrap();
    is_conflict(
        store.save_replies(&v1, &c1).await,
        "replies: the same version twice",
    );
    let (v3, c3) = replies(3, "跳过一个版本");
    is_conflict(
        store.save_replies(&v3, &c3).await,
        "replies: a skipped version",
    );
    let (v2, c2) = replies(2, "亲，今天一定发出");
    store.save_replies(&v2, &c2).await.unwrap();
    let setup = store.shop_setup(&shop_id(SHOP)).await.unwrap().unwrap();
    assert_eq!(
        setup.replies.get(&IntentId::UrgeShipment),
        Some(&v2),
        "replies: the latest version in the setup"
    );
    let history = store
        .reply_history(&shop_id(SHOP), IntentId::UrgeShipment, 20)
        .await
        .unwrap();
    assert_eq!(
        history,
        vec![c2.clone(), c1],
        "replies: history newest first"
    );
    let latest = store
        .reply_history(&shop_id(SHOP), IntentId::UrgeShipment, 1)
        .await
        .unwrap();
    assert_eq!(latest, vec![c2], "replies: history limited");
}

pub async fn robot_edits_are_versioned_and_switch_the_shop<S: Store>(store: &S) {
    store.put_shop(&shop(SHOP)).await.unwrap();
    let mut robot = RobotSettings::empty(&shop_id(SHOP));
    robot.version = 1;
    robot
        .answers
        .insert(IntentId::Invoice, "发票可在订单详情里申请～".into());
    store.save_robot(true, &robot).await.unwrap();
    is_conflict(
        store.save_robot(false, &robot).await,
        "robot: the same version twice",
    );
    let setup = store.shop_setup(&shop_id(SHOP)).await.unwrap().unwrap();
    assert!(setup.shop.robot_on, "robot: switched on with its answers");
    assert_eq!(setup.robot, robot, "robot: its answers as written");
    robot.version = 2;
    store.save_robot(false, &robot).await.unwrap();
    let shop = store.shop(&shop_id(SHOP)).await.unwrap().unwrap();
    assert!(!shop.robot_on, "robot: switched off");
}

/// Moved from `MemoryStore`'s own tests: a stale version, or a second compensation for an
/// order, refuses the whole change.
pub async fn a_refused_commit_writes_nothing<S: Store>(store: &S) {
    store.put_shop(&shop(SHOP)).await.unwrap();
    let conv = conversation("conv2");
    let order = order_in(OVERDUE, OrderNode::Overdue);
    let first = text(&conv, "什么时候发货", T0);
    let due = DueCompensation::new(&order, &conv.conversation_id, &first.message_id, T0);
    let mut change = create(&conv, vec![first]);
    change.compensations = vec![due.clone()];
    store.commit(change).await.unwrap();
    assert!(store
        .compensation_exists(&order.shop_id, &order.buyer_id, &order.order_id)
        .await
        .unwrap());

    for (expected, compensations) in [(None, vec![]), (Some(1), vec![due])] {
        let mut change = next(&conv, 1, vec![text(&conv, "还没发吗", T0 + 1)]);
        change.expected_version = expected;
        change.compensations = compensations;
        let err = store.commit(change).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert_eq!(
            message_count(store, &conv).await,
            1,
            "commit: nothing of a refused change is written"
        );
        assert_eq!(
            store
                .conversation(&conv.conversation_id)
                .await
                .unwrap()
                .map(|c| c.version),
            Some(1)
        );
    }
    // The next version over the stored one goes through.
    store
        .commit(next(&conv, 1, vec![text(&conv, "还没发吗", T0 + 2)]))
        .await
        .unwrap();
    let stored = store.conversation(&conv.conversation_id).await.unwrap();
    assert_eq!(stored.map(|c| c.version), Some(2));
}

pub async fn messages_read_oldest_first_and_are_never_overwritten<S: Store>(store: &S) {
    let conv = conversation("conv3");
    let m: Vec<Message> = (0..4)
        .map(|i| text(&conv, &format!("第{i}条"), T0 + i * MINUTE))
        .collect();
    store
        .commit(create(&conv, vec![m[0].clone(), m[1].clone()]))
        .await
        .unwrap();
    store.append(&m[2]).await.unwrap();
    store.append(&m[3]).await.unwrap();
    is_conflict(
        store.append(&m[3]).await,
        "messages: the same message twice",
    );
    let all = store.messages(&conv.conversation_id, 100).await.unwrap();
    assert_eq!(all, m, "messages: every one as written, oldest first");
    let latest = store.messages(&conv.conversation_id, 2).await.unwrap();
    assert_eq!(
        latest,
        m[2..].to_vec(),
        "messages: the latest ones, oldest first"
    );
    let none = store
        .messages(&ConversationId::parse("nobody").unwrap(), 10)
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn the_queue_lists_waiting_buyers_longest_first<S: Store>(store: &S) {
    let mut waits = Vec::new();
    for (id, since) in [("q1", T0 + 2 * MINUTE), ("q2", T0), ("q3", T0 + MINUTE)] {
        let mut c = conversation(id);
        c.waiting_since = Some(since);
        c.preview = Some(format!("{id} 在等"));
        store.commit(create(&c, vec![])).await.unwrap();
        waits.push(c);
    }
    let mut elsewhere = conversation("q4");
    elsewhere.shop_id = shop_id("shop2");
    elsewhere.waiting_since = Some(T0);
    store.commit(create(&elsewhere, vec![])).await.unwrap();

    let queue = store.waiting(&shop_id(SHOP), 50).await.unwrap();
    let ids: Vec<&str> = queue.iter().map(|w| w.conversation_id.as_str()).collect();
    assert_eq!(
        ids,
        ["q2", "q3", "q1"],
        "queue: longest wait first, this shop only"
    );
    assert_eq!(queue[0].preview.as_deref(), Some("q2 在等"));
    assert_eq!(queue[0].buyer_id, user_id(BUYER));

    // An agent answers q2: it leaves the queue in the same write.
    let mut answered = waits[1].clone();
    answered.waiting_since = None;
    store.commit(next(&answered, 1, vec![])).await.unwrap();
    let queue = store.waiting(&shop_id(SHOP), 50).await.unwrap();
    let ids: Vec<&str> = queue.iter().map(|w| w.conversation_id.as_str()).collect();
    assert_eq!(
        ids,
        ["q3", "q1"],
        "queue: an answered buyer no longer waits"
    );
}

/// An order's conversations in one shop: those whose confirmed order it is, no more than asked;
/// one that names another order since is no longer among them.
pub async fn conversations_are_found_by_the_order_they_named<S: Store>(store: &S) {
    let (order, other) = (
        OrderId::parse(OVERDUE).unwrap(),
        OrderId::parse("6930000000000000002").unwrap(),
    );
    let mut named = Vec::new();
    for (id, confirmed, shop_name) in [
        ("o1", Some(&order), SHOP),
        ("o2", Some(&order), SHOP),
        ("o3", Some(&other), SHOP),
        ("o4", None, SHOP),
        ("o5", Some(&order), "shop2"),
    ] {
        let mut c = conversation(id);
        c.shop_id = shop_id(shop_name);
        c.confirmed_order = confirmed.cloned();
        store.commit(create(&c, vec![])).await.unwrap();
        named.push(c);
    }
    let shop = shop_id(SHOP);
    // The ids about `order`, at most `limit`, sorted.
    let about = |order: &OrderId, limit| {
        let (shop, order) = (shop.clone(), order.clone());
        async move {
            let mut ids: Vec<String> = store
                .conversations_about(&shop, &order, limit)
                .await
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        about(&order, 20).await,
        ["o1", "o2"],
        "conversations about the order, this shop only"
    );
    assert_eq!(about(&order, 1).await.len(), 1, "no more than asked");
    assert!(about(&order, 0).await.is_empty());

    // o2's buyer names the other order: it is about that one from then on.
    let mut moved = named[1].clone();
    moved.confirmed_order = Some(other.clone());
    store.commit(next(&moved, 1, vec![])).await.unwrap();
    assert_eq!(
        about(&order, 20).await,
        ["o1"],
        "a conversation about another order now"
    );
    assert_eq!(about(&other, 20).await, ["o2", "o3"]);
}

pub async fn counts_add_up_however_they_are_written<S: Store>(store: &S) {
    let stat = |shop: &str, event| StatEvent {
        shop: shop_id(shop),
        solution_id: "urge_shipment.overdue".into(),
        event,
    };
    store
        .record(&stat(SHOP, SolutionEvent::Copied))
        .await
        .unwrap();
    store
        .record(&stat(SHOP, SolutionEvent::Copied))
        .await
        .unwrap();
    store
        .record(&stat("shop2", SolutionEvent::Sent))
        .await
        .unwrap();
    let conv = conversation("conv4");
    // Two counts of one solution in one change: refused whole (one item, one operation).
    let mut twice = create(&conv, vec![text(&conv, "在吗", T0)]);
    twice.stats = vec![
        stat(SHOP, SolutionEvent::Shown),
        stat(SHOP, SolutionEvent::Sent),
    ];
    assert!(
        store.commit(twice).await.is_err(),
        "stats: one count per solution per change"
    );
    assert!(store
        .conversation(&conv.conversation_id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .messages(&conv.conversation_id, 10)
        .await
        .unwrap()
        .is_empty());
    let mut change = create(&conv, vec![]);
    change.stats = vec![stat(SHOP, SolutionEvent::Shown)];
    store.commit(change).await.unwrap();
    store
        .record(&stat(SHOP, SolutionEvent::Sent))
        .await
        .unwrap();

    let mine = store
        .stats(&shop_id(SHOP), "urge_shipment.overdue")
        .await
        .unwrap();
    assert_eq!(
        (
            mine.shown,
            mine.copied,
            mine.sent,
            mine.edited_sent,
            mine.feedback
        ),
        (1, 2, 1, 0, 0),
        "stats: recorded alone or with a commit"
    );
    let never = store
        .stats(&shop_id(SHOP), "logistics.shipped")
        .await
        .unwrap();
    assert_eq!(never, Default::default(), "stats: zero when never counted");
    let rows = store.stat_rows(Some(&shop_id(SHOP))).await.unwrap();
    assert_eq!(rows.len(), 1, "stats: one row per shop and solution");
    assert_eq!(rows[0].stats, mine);
    let mut all: Vec<String> = store
        .stat_rows(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{}:{}", r.shop, r.stats.sent))
        .collect();
    all.sort();
    assert_eq!(all, ["shop1:1", "shop2:1"], "stats: every shop's rows");
}

/// The payout: conditional on the deposit read, once per order, and the buyer's notice stored
/// exactly as the domain worded it (the in-memory twin once wrote its own text instead).
pub async fn a_payout_stores_the_domains_notice_once<S: Store + ReportStore>(store: &S) {
    seed_shop_with(store, &shop(SHOP), Fen(100)).await;
    let order = order_in(OVERDUE, OrderNode::Overdue);
    store.put_order(&order).await.unwrap();
    let conv = conversation("conv5");
    let asked = text(&conv, "什么时候发货", T0);
    let due = DueCompensation::new(&order, &conv.conversation_id, &asked.message_id, T0);
    let mut change = create(&conv, vec![asked.clone()]);
    change.compensations = vec![due.clone()];
    store.commit(change).await.unwrap();

    let page = store.due(due.shard(), 100, None).await.unwrap();
    assert_eq!(
        page.items,
        vec![due.clone()],
        "payout: listed due in its shard"
    );
    let other = (due.shard() + 1) % assistant_domain::model::compensation::DUE_SHARDS;
    assert!(store.due(other, 100, None).await.unwrap().items.is_empty());

    let paid_at = T0 + 10 * MINUTE;
    let notice = payout_notice(&due, paid_at);
    assert_eq!(
        store.pay(&due, Fen(99), &notice, paid_at).await.unwrap(),
        PayOutcome::DepositMoved,
        "payout: refused over a deposit that moved"
    );
    assert_eq!(
        store.messages(&conv.conversation_id, 10).await.unwrap(),
        vec![asked.clone()],
        "payout: a refused payout tells nobody"
    );
    assert_eq!(
        store.pay(&due, Fen(100), &notice, paid_at).await.unwrap(),
        PayOutcome::Paid {
            balance_after: Fen(-200)
        },
        "payout: paid from the deposit read, into arrears"
    );
    let messages = store.messages(&conv.conversation_id, 10).await.unwrap();
    assert_eq!(
        messages,
        vec![asked, notice.clone()],
        "payout: the notice stored exactly as the domain worded it"
    );
    let again = payout_notice(&due, paid_at + MINUTE);
    assert_eq!(
        store
            .pay(&due, Fen(-200), &again, paid_at + MINUTE)
            .await
            .unwrap(),
        PayOutcome::AlreadyPaid,
        "payout: once per order"
    );
    assert_eq!(message_count(store, &conv).await, 2);
    assert_eq!(
        store.deposit(&shop_id(SHOP)).await.unwrap(),
        Some(Fen(-200))
    );
    assert!(store
        .due(due.shard(), 100, None)
        .await
        .unwrap()
        .items
        .is_empty());

    let paid = store.paid_on(&beijing_date(paid_at)).await.unwrap();
    assert_eq!(paid.len(), 1, "report: the day's payout");
    assert_eq!(
        (
            paid[0].order_id.clone(),
            paid[0].amount,
            paid[0].paid_at,
            paid[0].balance_after
        ),
        (order.order_id.clone(), due.amount, paid_at, Fen(-200))
    );
    let arrears = store.shops_in_arrears().await.unwrap();
    assert_eq!(arrears.len(), 1, "report: the shop in arrears");
    assert_eq!(
        (arrears[0].shop_id.clone(), arrears[0].deposit),
        (shop_id(SHOP), Fen(-200))
    );
}

/// Moved from `MemoryStore`'s own tests.
pub async fn feedback_pages_newest_first_and_refuses_forged_cursors<S: Store>(store: &S) {
    let shop = shop_id(SHOP);
    for i in 0..5u64 {
        let f = Feedback {
            feedback_id: format!("{:013}-fb{i}", T0 + i as Millis),
            shop_id: shop.clone(),
            author: user_id("agent1"),
            intent: IntentId::UrgeShipment,
            solution_id: None,
            conversation_id: None,
            description: "话术不对".into(),
            created_at: T0 + i as Millis,
            screenshots: vec![],
        };
        store.put_feedback(&f, &f.stat()).await.unwrap();
        is_conflict(
            store.put_feedback(&f, &f.stat()).await,
            "feedback: the same id twice",
        );
        assert_eq!(store.feedback(&f.feedback_id).await.unwrap(), Some(f));
    }
    let first = store
        .feedback_page(Some(&shop), None, 2, None)
        .await
        .unwrap();
    let ids: Vec<&str> = first.items.iter().map(|f| f.feedback_id.as_str()).collect();
    assert_eq!(
        ids,
        [format!("{:013}-fb4", T0 + 4), format!("{:013}-fb3", T0 + 3)],
        "feedback: newest first"
    );
    let second = store
        .feedback_page(Some(&shop), None, 10, first.next)
        .await
        .unwrap();
    assert_eq!(second.items.len(), 3, "feedback: the rest on the next page");
    assert_eq!(second.next, None);
    let everyone = store.feedback_page(None, None, 10, None).await.unwrap();
    assert_eq!(everyone.items.len(), 5, "feedback: every shop's");
    let other_intent = store
        .feedback_page(None, Some(IntentId::Logistics), 10, None)
        .await
        .unwrap();
    assert!(other_intent.items.is_empty(), "feedback: by intent");
    let err = store
        .feedback_page(None, None, 2, Some("forged".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input", "feedback: a forged cursor");
    let stats = store.stats(&shop, "urge_shipment").await.unwrap();
    assert_eq!(stats.feedback, 5, "feedback: counted once each");
    assert_eq!(
        store.feedback("0000000000000-none").await.unwrap(),
        None,
        "feedback: a missing id"
    );
}

/// An allowance is taken one use at a time up to its limit, even by concurrent takes; its own
/// window, buyer and shop only.
pub async fn allowances_never_overrun_however_many_take_at_once<S: Store>(store: &S) {
    let limits = Limits::new(5, 2).unwrap();
    let buyer = user_id(BUYER);
    let messages = Allowance::message(&limits, &buyer, T0);
    let takes = (0..12).map(|_| store.take(&messages));
    let taken = futures_util::future::join_all(takes).await;
    let granted = taken.iter().filter(|t| *t.as_ref().unwrap()).count();
    assert_eq!(
        granted, 5,
        "allowances: concurrent takes granted {granted} of 5"
    );
    assert!(
        !store.take(&messages).await.unwrap(),
        "allowances: a used-up window refuses"
    );
    // The next window, another buyer, and conversations are counted apart.
    let next = Allowance::message(&limits, &buyer, messages.end);
    assert!(
        store.take(&next).await.unwrap(),
        "allowances: the next window is open"
    );
    let other = Allowance::message(&limits, &user_id("buyer-other"), T0);
    assert!(
        store.take(&other).await.unwrap(),
        "allowances: another buyer is apart"
    );
    let convs = Allowance::conversation(&limits, &buyer, &shop_id(SHOP), T0);
    assert!(
        store.take(&convs).await.unwrap(),
        "allowances: conversations apart"
    );
    assert!(
        store.take(&convs).await.unwrap(),
        "allowances: conversations apart"
    );
    assert!(
        !store.take(&convs).await.unwrap(),
        "allowances: 2 conversations a day"
    );
    let elsewhere = Allowance::conversation(&limits, &buyer, &shop_id("shop-other"), T0);
    assert!(
        store.take(&elsewhere).await.unwrap(),
        "allowances: per shop"
    );
}
/// The platform's part of the contract (onboarding, top-ups, the ledger), each check on a fresh
/// store from `fresh`.
pub async fn run_platform<S, F, Fut>(fresh: F)
where
    S: Store + ReportStore + PlatformStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    onboarding_sets_the_profile_and_keeps_deposit_and_robot(&fresh().await).await;
    a_top_up_is_made_once_per_key_and_over_the_deposit_read(&fresh().await).await;
    a_top_up_back_above_zero_leaves_arrears_and_the_ledger_holds_both_kinds(&fresh().await).await;
}

fn profile(name: &str, agents: &[(&str, Option<&str>)], rule: ServingRule) -> ShopProfile {
    ShopProfile {
        shop_id: shop_id(SHOP),
        name: name.into(),
        agents: agents
            .iter()
            .map(|(id, display)| Agent::new(user_id(id), *display))
            .collect(),
        serving_rule: rule,
    }
}

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(Some(raw)).unwrap()
}

fn operator() -> assistant_domain::model::ids::UserId {
    user_id("platform-ops")
}

pub async fn onboarding_sets_the_profile_and_keeps_deposit_and_robot<
    S: Store + PlatformStore + ReportStore,
>(
    store: &S,
) {
    let first = profile(
        "小鹿家居旗舰店",
        &[("a1", Some("小美")), ("a2", None)],
        ServingRule::ByBuyer,
    );
    assert_eq!(store.deposit(&shop_id(SHOP)).await.unwrap(), None);
    let done = store.onboard_shop(&first).await.unwrap();
    assert!(done.created, "onboard: a new shop");
    assert_eq!((done.deposit, done.shop.robot_on), (Fen(0), false));
    assert_eq!(
        store.deposit(&shop_id(SHOP)).await.unwrap(),
        Some(Fen(0)),
        "onboard: the deposit is opened at 0"
    );
    assert_eq!(
        store.shop(&shop_id(SHOP)).await.unwrap(),
        Some(done.shop.clone())
    );
    // The shop's admin turns the robot on; a payout moves the deposit.
    let mut changed = done.shop.clone();
    changed.robot_on = true;
    store.put_shop(&changed).await.unwrap();
    store.put_deposit(&shop_id(SHOP), Fen(-300)).await.unwrap();
    let rule = ServingRule::Fixed {
        agent_id: user_id("a2"),
    };
    let second = profile("小鹿家居", &[("a2", Some("阿豪"))], rule.clone());
    let done = store.onboard_shop(&second).await.unwrap();
    assert!(!done.created, "onboard: an existing shop");
    assert_eq!(
        (done.shop.robot_on, done.deposit),
        (true, Fen(-300)),
        "onboard: the deposit and the robot stay"
    );
    assert_eq!(
        store.deposit(&shop_id(SHOP)).await.unwrap(),
        Some(Fen(-300)),
        "onboard: the stored deposit stays"
    );
    assert_eq!(
        store.shops_in_arrears().await.unwrap().len(),
        1,
        "onboard: the shop stays in arrears"
    );
    let stored = store.shop(&shop_id(SHOP)).await.unwrap().unwrap();
    assert_eq!(stored, done.shop, "onboard: answered as stored");
    assert_eq!(stored.name, "小鹿家居");
    assert_eq!(stored.serving_rule, rule);
    assert_eq!(stored.agent_display_name(&user_id("a2")), "阿豪");
    let setup = store.shop_setup(&shop_id(SHOP)).await.unwrap().unwrap();
    assert_eq!(setup.shop, stored, "onboard: the setup read sees it");
}

pub async fn a_top_up_is_made_once_per_key_and_over_the_deposit_read<
    S: Store + ReportStore + PlatformStore,
>(
    store: &S,
) {
    seed_shop(store, &shop(SHOP)).await;
    let k1 = key("topup-1");
    let entry = LedgerEntry::top_up(&shop_id(SHOP), &k1, Fen(500), Fen(10_000), &operator(), T0);
    assert_eq!(
        store.top_up_with_key(&shop_id(SHOP), &k1).await.unwrap(),
        None
    );
    let stale = LedgerEntry::top_up(&shop_id(SHOP), &k1, Fen(500), Fen(9_000), &operator(), T0);
    assert_eq!(
        store.top_up(&stale, Fen(9_000)).await.unwrap(),
        TopUpOutcome::DepositMoved,
        "top-up: refused over a deposit that moved"
    );
    assert_eq!(
        store.top_up_with_key(&shop_id(SHOP), &k1).await.unwrap(),
        None,
        "top-up: a refused one leaves no marker"
    );
    assert_eq!(
        store.top_up(&entry, Fen(10_000)).await.unwrap(),
        TopUpOutcome::Applied
    );
    assert_eq!(
        store.top_up_with_key(&shop_id(SHOP), &k1).await.unwrap(),
        Some(entry.clone()),
        "top-up: its key reads back its entry"
    );
    let again = LedgerEntry::top_up(
        &shop_id(SHOP),
        &k1,
        Fen(500),
        Fen(10_500),
        &operator(),
        T0 + 1,
    );
    assert_eq!(
        store.top_up(&again, Fen(10_500)).await.unwrap(),
        TopUpOutcome::KeyUsed,
        "top-up: once per key"
    );
    assert_eq!(
        store.deposit(&shop_id(SHOP)).await.unwrap(),
        Some(Fen(10_500))
    );
    let page = store.ledger_page(&shop_id(SHOP), 10, None).await.unwrap();
    assert_eq!(page.items, vec![entry], "top-up: one ledger entry");
    // Keys are per shop.
    seed_shop(store, &shop("shop2")).await;
    let theirs = LedgerEntry::top_up(
        &shop_id("shop2"),
        &k1,
        Fen(500),
        Fen(10_000),
        &operator(),
        T0,
    );
    assert_eq!(
        store.top_up(&theirs, Fen(10_000)).await.unwrap(),
        TopUpOutcome::Applied
    );
}

pub async fn a_top_up_back_above_zero_leaves_arrears_and_the_ledger_holds_both_kinds<
    S: Store + ReportStore + PlatformStore,
>(
    store: &S,
) {
    seed_shop_with(store, &shop(SHOP), Fen(100)).await;
    let order = order_in(OVERDUE, OrderNode::Overdue);
    store.put_order(&order).await.unwrap();
    let conv = conversation("conv-arrears");
    let asked = text(&conv, "什么时候发货", T0);
    let due = DueCompensation::new(&order, &conv.conversation_id, &asked.message_id, T0);
    let mut change = create(&conv, vec![asked]);
    change.compensations = vec![due.clone()];
    store.commit(change).await.unwrap();
    let paid_at = T0 + MINUTE;
    store
        .pay(&due, Fen(100), &payout_notice(&due, paid_at), paid_at)
        .await
        .unwrap();
    assert_eq!(store.shops_in_arrears().await.unwrap().len(), 1);

    // Not enough to leave arrears: still listed, at the new balance.
    let small = LedgerEntry::top_up(
        &shop_id(SHOP),
        &key("k-small"),
        Fen(100),
        Fen(-200),
        &operator(),
        paid_at + 1,
    );
    assert_eq!(
        store.top_up(&small, Fen(-200)).await.unwrap(),
        TopUpOutcome::Applied
    );
    let arrears = store.shops_in_arrears().await.unwrap();
    assert_eq!(
        arrears.iter().map(|a| a.deposit).collect::<Vec<_>>(),
        vec![Fen(-100)],
        "arrears: still below zero"
    );
    let back = LedgerEntry::top_up(
        &shop_id(SHOP),
        &key("k-back"),
        Fen(100),
        Fen(-100),
        &operator(),
        paid_at + 2,
    );
    assert_eq!(
        store.top_up(&back, Fen(-100)).await.unwrap(),
        TopUpOutcome::Applied
    );
    assert!(
        store.shops_in_arrears().await.unwrap().is_empty(),
        "arrears: a deposit back at zero leaves them"
    );

    let first = store.ledger_page(&shop_id(SHOP), 2, None).await.unwrap();
    assert_eq!(first.items, vec![back, small], "ledger: newest first");
    let next = first.next.expect("ledger: a second page");
    let rest = store
        .ledger_page(&shop_id(SHOP), 2, Some(next))
        .await
        .unwrap();
    assert_eq!(rest.next, None);
    assert_eq!(
        rest.items,
        vec![LedgerEntry::payout(
            &shop_id(SHOP),
            &order.order_id,
            due.amount,
            Fen(-200),
            paid_at
        )],
        "ledger: the payout, as a ledger entry"
    );
    match store
        .ledger_page(&shop_id(SHOP), 2, Some("forged".into()))
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "cursor"),
        other => panic!("ledger: a forged cursor is a 400, got {other:?}"),
    }
    assert!(store
        .ledger_page(&shop_id("shop2"), 10, None)
        .await
        .unwrap()
        .items
        .is_empty());
}

/// The push part of the contract (tickets, connections, subscriptions), each check on a fresh
/// store from `fresh`.
pub async fn run_push<S, F, Fut>(fresh: F)
where
    S: Store + PushStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    a_ticket_is_taken_once_however_many_present_it(&fresh().await).await;
    subscriptions_follow_their_connection_and_never_overrun(&fresh().await).await;
}

fn push_actor() -> Actor {
    Actor::from_claims(Some("agent-1"), Some("agent"), Some(SHOP)).unwrap()
}

fn connection_id(raw: &str) -> ConnectionId {
    ConnectionId::parse(raw).unwrap()
}

pub async fn a_ticket_is_taken_once_however_many_present_it<S: Store + PushStore>(store: &S) {
    let ticket = Ticket::mint(&push_actor(), T0);
    store.put_ticket(&ticket).await.unwrap();
    assert!(
        matches!(store.put_ticket(&ticket).await, Err(Error::Conflict(_))),
        "tickets: a value is stored once"
    );
    let takes = futures_util::future::join_all((0..8).map(|_| store.take_ticket(&ticket.ticket)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    let got: Vec<_> = takes.into_iter().flatten().collect();
    assert_eq!(
        got,
        vec![ticket.clone()],
        "tickets: one of eight takes gets it"
    );
    assert_eq!(
        store.take_ticket(&ticket.ticket).await.unwrap(),
        None,
        "tickets: gone once taken"
    );
    let unknown = Ticket::mint(&push_actor(), T0);
    assert_eq!(store.take_ticket(&unknown.ticket).await.unwrap(), None);
}

pub async fn subscriptions_follow_their_connection_and_never_overrun<S: Store + PushStore>(
    store: &S,
) {
    let ticket = Ticket::mint(&push_actor(), T0);
    let first = Connection::open(connection_id("Conn1a="), &ticket, T0);
    let second = Connection::open(connection_id("Conn2b="), &ticket, T0);
    let queue = Topic::Queue(shop_id(SHOP));
    let chat = Topic::Conversation(ConversationId::parse("conv-push").unwrap());
    // No connection stored: nothing to subscribe.
    assert!(
        matches!(
            store.subscribe(&first, &queue).await,
            Err(Error::Conflict(_))
        ),
        "push: a subscription needs its connection"
    );
    assert_eq!(
        connection_ids(store.subscribers(&queue, T0).await.unwrap()),
        vec![]
    );
    store.put_connection(&first).await.unwrap();
    store.put_connection(&second).await.unwrap();
    let read = store.connection(&first.connection_id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&first), "push: a connection reads back");
    store.subscribe(&first, &queue).await.unwrap();
    // A second subscribe over the same read lost a race: refused, nothing written.
    assert!(
        matches!(
            store.subscribe(&first, &chat).await,
            Err(Error::Conflict(_))
        ),
        "push: a subscribe over a stale read is refused"
    );
    let now = store
        .connection(&first.connection_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.topics, vec![queue.clone()]);
    store.subscribe(&now, &chat).await.unwrap();
    store.subscribe(&second, &queue).await.unwrap();
    let mut topics = store
        .connection(&first.connection_id)
        .await
        .unwrap()
        .unwrap()
        .topics;
    topics.sort();
    let mut expected = vec![queue.clone(), chat.clone()];
    expected.sort();
    assert_eq!(topics, expected, "push: the topics read back");
    let subscribers = store.subscribers(&queue, T0).await.unwrap();
    assert!(
        subscribers.iter().all(|s| s.identity == ticket.identity),
        "push: a subscriber carries its connection's identity"
    );
    let subscribers = connection_ids(subscribers);
    assert_eq!(
        subscribers,
        vec![first.connection_id.clone(), second.connection_id.clone()]
    );
    // A connection past its TTL is nobody's subscriber, even before the TTL deletes it.
    assert_eq!(
        connection_ids(store.subscribers(&queue, first.expires_at).await.unwrap()),
        vec![]
    );
    store.disconnect(&first.connection_id).await.unwrap();
    assert_eq!(store.connection(&first.connection_id).await.unwrap(), None);
    assert_eq!(
        connection_ids(store.subscribers(&queue, T0).await.unwrap()),
        vec![second.connection_id.clone()],
        "push: a disconnect removes its subscriptions only"
    );
    assert_eq!(
        connection_ids(store.subscribers(&chat, T0).await.unwrap()),
        vec![]
    );
    // Disconnecting twice, or a connection never stored, is no error.
    store.disconnect(&first.connection_id).await.unwrap();
    store.disconnect(&connection_id("Never=")).await.unwrap();
}

/// The connection ids of some subscribers, sorted.
fn connection_ids(subscribers: Vec<Subscriber>) -> Vec<ConnectionId> {
    let mut ids: Vec<ConnectionId> = subscribers.into_iter().map(|s| s.connection_id).collect();
    ids.sort();
    ids
}
