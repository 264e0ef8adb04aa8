//! Push connections on the in-memory twin: a ticket is minted for the caller and taken once by
//! `$connect`; a connection follows only what its identity may read over HTTP (a buyer their own
//! conversations, staff their shop's queue and conversations); `$disconnect` removes it all.

use assistant_domain::model::identity::Actor;
use assistant_domain::model::push::{
    ConnectionId, SubscribeMessage, Topic, MAX_SUBSCRIPTIONS, TICKET_TTL,
};
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{ConversationStore, PushStore, StatsStore};
use assistant_domain::usecases::{connect, disconnect, mint_ticket, subscribe};
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::json;

fn socket(raw: &str) -> ConnectionId {
    ConnectionId::parse(raw).unwrap()
}

fn message(v: serde_json::Value) -> SubscribeMessage {
    body(v)
}

fn to_conversation(id: &str) -> SubscribeMessage {
    message(json!({"action": "subscribe", "conversation_id": id}))
}

fn to_queue(shop: &str) -> SubscribeMessage {
    message(json!({"action": "subscribe", "queue": shop}))
}

/// A connection opened for `actor` through a fresh ticket.
async fn connected(store: &MemoryStore, actor: &Actor, id: &str) -> ConnectionId {
    connected_at(store, actor, id, NOW).await
}

/// A connection opened for `actor` through a ticket minted at `at`.
async fn connected_at(store: &MemoryStore, actor: &Actor, id: &str, at: Millis) -> ConnectionId {
    let ticket = ok(mint_ticket(store, actor, at).await);
    let id = socket(id);
    connect(store, &id, ticket["ticket"].as_str(), at + 1)
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn a_ticket_opens_one_connection_within_a_minute() {
    let store = seeded().await;
    let view = ok(mint_ticket(&store, &buyer(MAIN_BUYER), NOW).await);
    assert_eq!(view["expires_in"], 60);
    assert_eq!(view["expires_at"], NOW + TICKET_TTL);
    let ticket = view["ticket"].as_str().unwrap().to_string();
    let opened = connect(&store, &socket("A1="), Some(&ticket), NOW + 1)
        .await
        .unwrap();
    assert_eq!(opened.identity.actor().unwrap(), buyer(MAIN_BUYER));
    // Used: the same ticket opens nothing more.
    let msg = refused(
        connect(&store, &socket("A2="), Some(&ticket), NOW + 2).await,
        "unauthenticated",
    );
    assert!(msg.contains("ticket"), "{msg}");
    assert!(store.connection(&socket("A2=")).await.unwrap().is_none());

    // Expired: a minute after it was minted it is refused (and gone).
    let late = ok(mint_ticket(&store, &agent_of(SHOP), NOW).await);
    let late = late["ticket"].as_str().unwrap();
    refused(
        connect(&store, &socket("B1="), Some(late), NOW + TICKET_TTL).await,
        "unauthenticated",
    );
    refused(
        connect(&store, &socket("B1="), Some(late), NOW + 1).await,
        "unauthenticated",
    );
    // None, a malformed or an unknown one: 401, nothing stored.
    for bad in [None, Some(""), Some("not-a-ticket"), Some(&*"0".repeat(64))] {
        refused(
            connect(&store, &socket("C1="), bad, NOW).await,
            "unauthenticated",
        );
    }
    assert!(store.connection(&socket("C1=")).await.unwrap().is_none());
}

#[tokio::test]
async fn the_platform_gets_no_ticket() {
    let store = seeded().await;
    refused(mint_ticket(&store, &platform(), NOW).await, "forbidden");
}

#[tokio::test]
async fn a_buyer_follows_their_own_conversations_only() {
    let store = seeded().await;
    urge(&store, "conv-push-1", "我的订单怎么还没发货").await;
    let me = connected(&store, &buyer(MAIN_BUYER), "Buyer1=").await;
    let done = ok(subscribe(&store, &me, &to_conversation("conv-push-1"), NOW).await);
    assert_eq!(done["subscribed"], json!({"conversation": "conv-push-1"}));
    assert_eq!(done["new"], true);
    // Again: the same subscription, nothing written.
    let again = ok(subscribe(&store, &me, &to_conversation("conv-push-1"), NOW).await);
    assert_eq!(again["new"], false);
    let topic = Topic::Conversation(id_of("conv-push-1"));
    assert_eq!(
        ids(store.subscribers(&topic, NOW).await.unwrap()),
        vec![me.clone()]
    );

    // Another buyer's conversation, or one that does not exist: 404, as over HTTP.
    let other = connected(&store, &buyer("buyer-li"), "Buyer2=").await;
    refused(
        subscribe(&store, &other, &to_conversation("conv-push-1"), NOW).await,
        "not_found",
    );
    refused(
        subscribe(&store, &me, &to_conversation("conv-nowhere"), NOW).await,
        "not_found",
    );
    // A queue is staff's: 403.
    refused(
        subscribe(&store, &me, &to_queue(SHOP), NOW).await,
        "forbidden",
    );
    assert_eq!(
        ids(store.subscribers(&topic, NOW).await.unwrap()),
        vec![me.clone()]
    );
    assert!(ids(store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap())
    .is_empty());
}

#[tokio::test]
async fn staff_follow_their_shops_queue_and_conversations() {
    let store = seeded().await;
    urge(&store, "conv-push-2", "我的订单怎么还没发货").await;
    for (actor, id) in [(agent_of(SHOP), "Agent1="), (admin_of(SHOP), "Admin1=")] {
        let conn = connected(&store, &actor, id).await;
        ok(subscribe(&store, &conn, &to_queue(SHOP), NOW).await);
        ok(subscribe(&store, &conn, &to_conversation("conv-push-2"), NOW).await);
    }
    // Another shop's staff: 404 for this shop's queue and conversation.
    let outsider = connected(&store, &agent_of(OTHER_SHOP), "Other1=").await;
    refused(
        subscribe(&store, &outsider, &to_queue(SHOP), NOW).await,
        "not_found",
    );
    refused(
        subscribe(&store, &outsider, &to_conversation("conv-push-2"), NOW).await,
        "not_found",
    );
    ok(subscribe(&store, &outsider, &to_queue(OTHER_SHOP), NOW).await);
    let mut queue = ids(store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap());
    queue.sort();
    assert_eq!(queue, vec![socket("Admin1="), socket("Agent1=")]);
}

#[tokio::test]
async fn a_subscribe_needs_an_open_connection_and_a_clear_message() {
    let store = seeded().await;
    // Never connected, or disconnected: 401.
    refused(
        subscribe(&store, &socket("Ghost="), &to_queue(SHOP), NOW).await,
        "unauthenticated",
    );
    let conn = connected(&store, &agent_of(SHOP), "Agent2=").await;
    ok(subscribe(&store, &conn, &to_queue(SHOP), NOW).await);
    disconnect(&store, &conn).await.unwrap();
    refused(
        subscribe(&store, &conn, &to_queue(SHOP), NOW).await,
        "unauthenticated",
    );
    assert!(ids(store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap())
    .is_empty());
    // Disconnecting again is no error.
    disconnect(&store, &conn).await.unwrap();

    // Bad messages: 400 naming the field.
    let conn = connected(&store, &agent_of(SHOP), "Agent3=").await;
    for (bad, field) in [
        (json!({"action": "subscribe"}), "body"),
        (
            json!({"action": "subscribe", "queue": SHOP, "conversation_id": "c1"}),
            "body",
        ),
        (json!({"action": "subscribe", "queue": "a#b"}), "queue"),
        (
            json!({"action": "subscribe", "conversation_id": "x y"}),
            "conversation_id",
        ),
    ] {
        let m = message(bad.clone());
        let msg = refused(subscribe(&store, &conn, &m, NOW).await, "invalid_input");
        assert!(msg.starts_with(field), "{bad}: {msg}");
    }
}

#[tokio::test]
async fn a_connection_follows_at_most_twenty_topics() {
    let store = seeded().await;
    let conn = connected(&store, &agent_of(SHOP), "Many1=").await;
    // Each conversation of a buyer of its own (a buyer opens at most 20 a day).
    let open = |i: usize| {
        let store = &store;
        async move {
            let id = format!("conv-many-{i}");
            let asker = buyer(&format!("buyer-many-{i}"));
            ok(buyer_says(store, &asker, &id_of(&id), ask("在吗"), NOW).await);
            id
        }
    };
    for i in 0..MAX_SUBSCRIPTIONS {
        let id = open(i).await;
        ok(subscribe(&store, &conn, &to_conversation(&id), NOW).await);
    }
    let id = open(MAX_SUBSCRIPTIONS).await;
    let msg = refused(
        subscribe(&store, &conn, &to_conversation(&id), NOW).await,
        "conflict",
    );
    assert!(msg.contains("20"), "{msg}");
    refused(
        subscribe(&store, &conn, &to_queue(SHOP), NOW).await,
        "conflict",
    );
    // One already followed still answers (nothing new).
    let again = ok(subscribe(&store, &conn, &to_conversation("conv-many-0"), NOW).await);
    assert_eq!(again["new"], false);
}

#[tokio::test]
async fn an_expired_connection_is_closed() {
    let store = seeded().await;
    let conn = connected(&store, &agent_of(SHOP), "Old1=").await;
    let later = NOW + assistant_domain::model::push::CONNECTION_TTL + 1;
    refused(
        subscribe(&store, &conn, &to_queue(SHOP), later).await,
        "unauthenticated",
    );
}

/// The connection ids of some subscribers, sorted.
fn ids(subscribers: Vec<assistant_domain::model::push::Subscriber>) -> Vec<ConnectionId> {
    let mut ids: Vec<ConnectionId> = subscribers.into_iter().map(|s| s.connection_id).collect();
    ids.sort();
    ids
}

// ---- the fan-out (issue 17, item 2) ---------------------------------------------------------

use assistant_domain::usecases::{post_staff_message, sweep};
use assistant_testkit::views::{leaks, FORBIDDEN_FOR_BUYERS};
use assistant_testkit::MemoryPusher;

/// The staff accounts a buyer's payload must never name.
const STAFF: &[&str] = &["agent-xiaomei", "agent-ahao", "admin-lin"];

/// A seeded twin whose committed changes are pushed through a recording `@connections`.
async fn pushing() -> (MemoryStore, MemoryPusher) {
    let pusher = MemoryPusher::default();
    (seeded().await.with_pusher(pusher.clone()), pusher)
}

/// A connection of `actor` following `topic`.
async fn following(
    store: &MemoryStore,
    actor: &Actor,
    id: &str,
    topic: SubscribeMessage,
) -> ConnectionId {
    following_at(store, actor, id, topic, NOW).await
}

/// A connection of `actor` opened and following `topic` from `at`.
async fn following_at(
    store: &MemoryStore,
    actor: &Actor,
    id: &str,
    topic: SubscribeMessage,
    at: Millis,
) -> ConnectionId {
    let id = connected_at(store, actor, id, at).await;
    ok(subscribe(store, &id, &topic, at).await);
    id
}

/// Every message pushed to a connection, in order, across its payloads.
fn pushed_messages(pusher: &MemoryPusher, id: &ConnectionId) -> Vec<serde_json::Value> {
    pusher
        .posted_to(id)
        .iter()
        .filter(|p| p["type"] == "conversation")
        .flat_map(|p| p["messages"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn staff_says(text: &str) -> assistant_domain::usecases::PostMessage {
    body(json!({ "text": text }))
}

#[tokio::test]
async fn a_buyer_message_reaches_each_follower_once_in_its_roles_view() {
    let (store, pusher) = pushing().await;
    urge(&store, "conv-fan-1", "你好").await;
    let agent = following(
        &store,
        &agent_of(SHOP),
        "Agent1=",
        to_conversation("conv-fan-1"),
    )
    .await;
    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer1=",
        to_conversation("conv-fan-1"),
    )
    .await;
    // A stranger's connection follows nothing of this conversation: it hears nothing.
    let other = following(
        &store,
        &agent_of(OTHER_SHOP),
        "Other1=",
        to_queue(OTHER_SHOP),
    )
    .await;

    // Another buyer's connection that follows it anyway (written past `subscribe`'s check): the
    // fan-out checks again, and it hears nothing either.
    let stray = {
        use assistant_domain::model::push::{Connection, Ticket};
        let ticket = Ticket::mint(&buyer("buyer-li"), NOW);
        let stray = Connection::open(socket("Stray1="), &ticket, NOW);
        store.put_connection(&stray).await.unwrap();
        let topic = Topic::Conversation(id_of("conv-fan-1"));
        store.subscribe(&stray, &topic).await.unwrap();
        stray.connection_id
    };
    let asked = urge(&store, "conv-fan-1", "我的订单怎么还没发货").await;
    let message_id = asked["message"]["message_id"].clone();

    // The agent: the buyer's message once, as staff read it (the verdict included), the card
    // with its account, and word that the panel changed.
    let to_agent = pusher.posted_to(&agent);
    assert_eq!(to_agent.len(), 1, "{to_agent:?}");
    let seen = pushed_messages(&pusher, &agent);
    assert_eq!(
        seen.iter()
            .filter(|m| m["message_id"] == message_id)
            .count(),
        1
    );
    let theirs = seen.iter().find(|m| m["message_id"] == message_id).unwrap();
    assert_eq!(theirs["classification"]["intent"], "urge_shipment");
    assert!(seen.iter().any(|m| m["body"]["type"] == "prediction_card"));
    assert_eq!(to_agent[0]["panel_changed"], true);
    assert_eq!(to_agent[0]["panel"]["state"], "awaiting_order");
    assert_eq!(to_agent[0]["conversation_id"], "conv-fan-1");

    // The buyer: the same message and the card, in the buyer's view: no verdict, no panel, no
    // account anywhere in the payload.
    let to_buyer = pusher.posted_to(&me);
    assert_eq!(to_buyer.len(), 1, "{to_buyer:?}");
    assert_eq!(leaks(&to_buyer[0], STAFF), Vec::<String>::new());
    let mine = pushed_messages(&pusher, &me);
    assert_eq!(
        mine.iter()
            .filter(|m| m["message_id"] == message_id)
            .count(),
        1
    );
    assert_eq!(mine[0]["sender"]["role"], "buyer");
    let card = mine
        .iter()
        .find(|m| m["body"]["type"] == "prediction_card")
        .unwrap();
    // Sent in the serving agent's name: the shop's display name for them, not the account.
    let sent_by = card["body"]["card"]["sent_by"].as_str().unwrap();
    assert!(sent_by.starts_with("小鹿家居"), "{sent_by}");
    // The cursor is the last message's place.
    let last = mine.last().unwrap();
    let cursor = to_buyer[0]["cursor"].as_str().unwrap();
    assert!(
        cursor.ends_with(last["message_id"].as_str().unwrap()),
        "{cursor}"
    );

    assert!(pusher.posted_to(&other).is_empty());
    assert!(pusher.posted_to(&stray).is_empty());
    assert!(pusher.failures().is_empty(), "{:?}", pusher.failures());
    for key in FORBIDDEN_FOR_BUYERS {
        assert!(
            !to_buyer[0].to_string().contains(&format!("\"{key}\":")),
            "{key}"
        );
    }
}

/// The panel reaches the staff with the change that moved it, as `GET …/panel` would show it,
/// with the version it belongs to; reading it afterwards tells no one anything.
#[tokio::test]
async fn the_panel_is_pushed_with_its_change_and_reading_it_tells_no_one() {
    use assistant_domain::usecases::{panel, select_order};
    let (store, pusher) = pushing().await;
    urge(&store, "conv-fan-p", "你好").await;
    let agent = following(
        &store,
        &agent_of(SHOP),
        "AgentP=",
        to_conversation("conv-fan-p"),
    )
    .await;
    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "BuyerP=",
        to_conversation("conv-fan-p"),
    )
    .await;
    let asked = urge(&store, "conv-fan-p", "我的订单怎么还没发货").await;
    let confirm = body(json!({"via": "confirm", "card_id": asked["card"]["card_id"]}));
    ok(select_order(
        &store,
        &buyer(MAIN_BUYER),
        &id_of("conv-fan-p"),
        confirm,
        NOW,
    )
    .await);

    let to_agent = pusher.posted_to(&agent);
    assert_eq!(to_agent.len(), 2, "{to_agent:?}");
    assert_eq!(to_agent[0]["panel"]["state"], "awaiting_order");
    let pushed = &to_agent[1]["panel"];
    assert_eq!(pushed["state"], "ready");
    let conv = store
        .conversation(&id_of("conv-fan-p"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(to_agent[1]["panel_version"], conv.version);
    assert!(
        to_agent[0]["panel_version"].as_u64() < to_agent[1]["panel_version"].as_u64(),
        "{to_agent:?}"
    );
    // The buyer heard the same two changes, and no panel.
    let to_buyer = pusher.posted_to(&me);
    assert_eq!(to_buyer.len(), 2, "{to_buyer:?}");
    for p in &to_buyer {
        assert!(
            p.get("panel").is_none() && p.get("panel_version").is_none(),
            "{p}"
        );
    }

    pusher.clear();
    let read = ok(panel(&store, &agent_of(SHOP), &id_of("conv-fan-p"), NOW).await);
    assert_eq!(
        &read, pushed,
        "the pushed panel is the one GET …/panel shows"
    );
    assert!(
        pusher.posted_to(&agent).is_empty() && pusher.posted_to(&me).is_empty(),
        "reading the panel announced nothing"
    );
    // Its solution was counted shown once, when it was pushed, not again when read.
    let solution = pushed["solution"]["solution_id"].as_str().unwrap();
    let stats = store.stats(&id_of(SHOP), solution).await.unwrap();
    assert_eq!(stats.shown, 1, "{stats:?}");
}

/// An order that moved to another node since its panel was told (here its promised ship time
/// passed): the first agent to read the panel counts the new solution shown, and the other
/// staff following the conversation receive that panel.
#[tokio::test]
async fn a_panel_whose_order_moved_on_reaches_the_other_staff() {
    use assistant_domain::usecases::{panel, select_order};
    let (store, pusher) = pushing().await;
    let wang = buyer("buyer-wang");
    let conv = id_of("conv-fan-moved");
    let asked = ok(buyer_says(&store, &wang, &conv, ask("我的订单什么时候发货"), NOW).await);
    let confirm = body(json!({"via": "confirm", "card_id": asked["card"]["card_id"]}));
    let chosen = ok(select_order(&store, &wang, &conv, confirm, NOW).await);
    assert_eq!(
        chosen["panel"]["solution"]["solution_id"],
        "urge_shipment.awaiting_shipment"
    );
    // The admin opened the conversation two days on (a connection lives two hours).
    let later = NOW + 2 * assistant_domain::model::time::DAY;
    let other = following_at(
        &store,
        &admin_of(SHOP),
        "AdminM=",
        to_conversation("conv-fan-moved"),
        later - 60_000,
    )
    .await;
    let read = ok(panel(&store, &agent_of(SHOP), &conv, later).await);
    assert_eq!(read["solution"]["solution_id"], "urge_shipment.overdue");
    let told = pusher.posted_to(&other);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["panel"], read);
    assert_eq!(told[0]["messages"], json!([]));
    // Read again: nothing new, nothing told.
    ok(panel(&store, &agent_of(SHOP), &conv, later).await);
    assert_eq!(pusher.posted_to(&other).len(), 1);
}

/// An order event that moves an order to another node (here it shipped) changes the panel of
/// each conversation about it: the staff following such a conversation are pushed the new panel,
/// as `GET …/panel` shows it, with no message; its buyer hears nothing of it. Redelivered, the
/// event tells no one again; a conversation no agent follows is left as it is (its solution is
/// counted shown only once an agent opens it).
#[tokio::test]
async fn an_order_event_that_moves_the_order_pushes_its_conversations_new_panel_to_staff() {
    use assistant_domain::model::order::OrderNode;
    use assistant_domain::model::order_facts::{OrderEvent, OrderStep, Shipped};
    use assistant_domain::ports::OrderEventOutcome;
    use assistant_domain::usecases::{
        apply_order_event, panel, select_order, show_moved_panels, KnownShops,
    };
    let (store, pusher) = pushing().await;
    let wang = buyer("buyer-wang");
    let order = node_order(OrderNode::AwaitingShipment);
    assert_eq!(order.buyer_id, id_of("buyer-wang"));
    // Two conversations about the same order: one an agent follows, one only its buyer does.
    let mut versions = Vec::new();
    for name in ["conv-order-moved", "conv-order-quiet"] {
        let conv = id_of(name);
        let asked = ok(buyer_says(&store, &wang, &conv, ask("我的订单什么时候发货"), NOW).await);
        let confirm = body(json!({"via": "confirm", "card_id": asked["card"]["card_id"]}));
        let chosen = ok(select_order(&store, &wang, &conv, confirm, NOW).await);
        assert_eq!(
            chosen["panel"]["solution"]["solution_id"],
            "urge_shipment.awaiting_shipment"
        );
        versions.push(store.conversation(&conv).await.unwrap().unwrap().version);
    }
    let agent = following(
        &store,
        &agent_of(SHOP),
        "AgentO=",
        to_conversation("conv-order-moved"),
    )
    .await;
    let me = following(&store, &wang, "WangO=", to_conversation("conv-order-moved")).await;
    let quiet = following(&store, &wang, "WangQ=", to_conversation("conv-order-quiet")).await;
    pusher.clear();

    let shipped = OrderEvent {
        event_id: "evt-wang-shipped".into(),
        order_id: order.order_id.clone(),
        shop_id: order.shop_id.clone(),
        buyer_id: order.buyer_id.clone(),
        occurred_at: NOW + 60_000,
        step: OrderStep::Shipped(Shipped {
            courier: "顺丰速运".into(),
            tracking_no: "SF1234567890".into(),
        }),
    };
    let known = KnownShops::default();
    let later = NOW + 120_000;
    assert_eq!(
        apply_order_event(&store, &known, &shipped).await.unwrap(),
        OrderEventOutcome::Changed
    );
    let moved = show_moved_panels(&store, &shipped, later).await;
    assert!(moved.failed.is_empty(), "{:?}", moved.failed);
    assert_eq!(moved.shown, vec![id_of("conv-order-moved")]);

    // The agent: one push, the panel alone, of the version the change wrote.
    let to_agent = pusher.posted_to(&agent);
    assert_eq!(to_agent.len(), 1, "{to_agent:?}");
    let pushed = &to_agent[0];
    assert_eq!(pushed["type"], "conversation");
    assert_eq!(pushed["conversation_id"], "conv-order-moved");
    assert_eq!(pushed["messages"], json!([]));
    assert_eq!(pushed["panel_changed"], true);
    assert_eq!(
        pushed["panel"]["solution"]["solution_id"],
        "urge_shipment.shipped"
    );
    let conv = store
        .conversation(&id_of("conv-order-moved"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.version, versions[0] + 1);
    assert_eq!(pushed["panel_version"], conv.version);
    assert_eq!(
        conv.shown_solution.as_deref(),
        Some("urge_shipment.shipped")
    );
    // The buyers' connections: nothing with a panel (here, nothing at all: no message).
    for buyer_side in [&me, &quiet] {
        for p in pusher.posted_to(buyer_side) {
            assert!(p.get("panel").is_none(), "{p}");
        }
    }
    // The conversation no agent follows: not written.
    let untouched = store
        .conversation(&id_of("conv-order-quiet"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.version, versions[1]);
    // Counted shown once, for the panel put in front of the agent.
    let stats = store
        .stats(&id_of(SHOP), "urge_shipment.shipped")
        .await
        .unwrap();
    assert_eq!(stats.shown, 1, "{stats:?}");
    // The pushed panel is the one GET …/panel shows, and reading it tells no one.
    let read = ok(panel(&store, &agent_of(SHOP), &id_of("conv-order-moved"), later).await);
    assert_eq!(&read, &pushed["panel"]);
    assert_eq!(pusher.all().len(), 1, "{:?}", pusher.all());

    // Redelivered: the order is unchanged, and telling again tells no one.
    assert_eq!(
        apply_order_event(&store, &known, &shipped).await.unwrap(),
        OrderEventOutcome::Unchanged
    );
    let again = show_moved_panels(&store, &shipped, later + 1).await;
    assert!(
        again.shown.is_empty() && again.failed.is_empty(),
        "{again:?}"
    );
    assert_eq!(pusher.all().len(), 1, "{:?}", pusher.all());
    assert!(pusher.failures().is_empty(), "{:?}", pusher.failures());
}

#[tokio::test]
async fn the_queue_hears_a_wait_start_and_end_and_the_buyer_hears_the_agent_by_name() {
    let (store, pusher) = pushing().await;
    let queue = following(&store, &admin_of(SHOP), "Admin1=", to_queue(SHOP)).await;
    urge(&store, "conv-fan-2", "在吗").await;
    let waits = pusher.posted_to(&queue);
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0]["type"], "queue");
    assert_eq!(waits[0]["conversation_id"], "conv-fan-2");
    assert_eq!(waits[0]["waiting"]["buyer_id"], MAIN_BUYER);
    assert_eq!(waits[0]["waiting"]["last_text"], "在吗");

    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer2=",
        to_conversation("conv-fan-2"),
    )
    .await;
    // Another message while the buyer already waits: the conversation's followers hear it, the
    // queue's entry is unchanged.
    urge(&store, "conv-fan-2", "有人吗").await;
    assert_eq!(pusher.posted_to(&queue).len(), 1);
    assert_eq!(pushed_messages(&pusher, &me).len(), 1);

    // An agent answers: the wait ends, and the buyer sees the answer under the shop's name.
    let staff = agent_of(SHOP);
    ok(post_staff_message(
        &store,
        &staff,
        &id_of("conv-fan-2"),
        staff_says("您好，我在"),
        NOW + 5,
    )
    .await);
    let served = pusher.posted_to(&queue);
    assert_eq!(served.len(), 2);
    assert_eq!(served[1]["waiting"], serde_json::Value::Null);
    let mine = pushed_messages(&pusher, &me);
    let answer = mine.last().unwrap();
    assert_eq!(
        answer["sender"],
        json!({"role": "agent", "name": "小鹿家居-小美"})
    );
    assert_eq!(
        leaks(&json!(pusher.posted_to(&me)), STAFF),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_gone_connection_is_removed_and_a_failing_post_fails_nothing() {
    let (store, pusher) = pushing().await;
    urge(&store, "conv-fan-3", "你好").await;
    let gone = following(
        &store,
        &agent_of(SHOP),
        "Gone1=",
        to_conversation("conv-fan-3"),
    )
    .await;
    let broken = following(
        &store,
        &admin_of(SHOP),
        "Broken1=",
        to_conversation("conv-fan-3"),
    )
    .await;
    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer3=",
        to_conversation("conv-fan-3"),
    )
    .await;
    pusher.gone(&gone);
    pusher.failing(&broken);

    let asked = urge(&store, "conv-fan-3", "什么时候发货").await;
    // The write stands: stored, answered, and pushed to the connection that is fine.
    let stored = store.messages(&id_of("conv-fan-3"), 100).await.unwrap();
    assert!(stored
        .iter()
        .any(|m| m.message_id.as_str() == asked["message"]["message_id"]));
    assert_eq!(
        pushed_messages(&pusher, &me).first().unwrap()["message_id"],
        asked["message"]["message_id"]
    );
    // The gone connection is removed with its subscriptions; the failing one is kept (a fault
    // is not a goodbye) and the failure reported.
    assert!(store.connection(&gone).await.unwrap().is_none());
    let followers = ids(store
        .subscribers(&Topic::Conversation(id_of("conv-fan-3")), NOW)
        .await
        .unwrap());
    assert_eq!(followers, vec![broken.clone(), me.clone()]);
    let failures = pusher.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("Broken1="), "{failures:?}");
    // A store without a pusher announces nothing, and writes the same.
    let quiet = seeded().await;
    urge(&quiet, "conv-fan-3", "什么时候发货").await;
}

#[tokio::test]
async fn an_internal_note_reaches_staff_only() {
    let (store, pusher) = pushing().await;
    confirmed(&store, "conv-fan-4", "6930000000000000001 什么时候发货").await;
    let agent = following(
        &store,
        &agent_of(SHOP),
        "Agent4=",
        to_conversation("conv-fan-4"),
    )
    .await;
    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer4=",
        to_conversation("conv-fan-4"),
    )
    .await;
    let used = assistant_domain::usecases::use_solution(
        &store,
        &agent_of(SHOP),
        &id_of("conv-fan-4"),
        body(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "action_id": "remind_warehouse_urgent"})),
        NOW + 10,
    )
    .await;
    ok(used);
    let note = pushed_messages(&pusher, &agent);
    assert!(
        note.iter().any(|m| m["visible_to_buyer"] == false),
        "{note:?}"
    );
    assert!(
        pushed_messages(&pusher, &me).is_empty(),
        "{:?}",
        pusher.posted_to(&me)
    );
}

#[tokio::test]
async fn the_coupon_notice_after_a_payout_is_pushed() {
    let (store, pusher) = pushing().await;
    urge(&store, "conv-fan-5", "6930000000000000001 什么时候发货").await;
    let me = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer5=",
        to_conversation("conv-fan-5"),
    )
    .await;
    let report = sweep(&store, &NoWait, NOW + 60_000, 0).await.unwrap();
    assert_eq!(report.paid, 1);
    let mine = pushed_messages(&pusher, &me);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["body"]["type"], "coupon");
    assert_eq!(mine[0]["sender"]["role"], "system");
}

#[tokio::test]
async fn a_reconnecting_client_catches_up_after_its_cursor() {
    let (store, pusher) = pushing().await;
    urge(&store, "conv-fan-6", "你好").await;
    let first = following(
        &store,
        &buyer(MAIN_BUYER),
        "Buyer6=",
        to_conversation("conv-fan-6"),
    )
    .await;
    // (Later than the first: messages of one instant are ordered by their ids.)
    ok(buyer_says(
        &store,
        &buyer(MAIN_BUYER),
        &id_of("conv-fan-6"),
        ask("在吗"),
        NOW + 10,
    )
    .await);
    let cursor = pusher.posted_to(&first)[0]["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    // The socket drops; meanwhile the buyer's other device and the agent write.
    disconnect(&store, &first).await.unwrap();
    let asked = ok(buyer_says(
        &store,
        &buyer(MAIN_BUYER),
        &id_of("conv-fan-6"),
        ask("我的订单怎么还没发货"),
        NOW + 20,
    )
    .await);
    ok(post_staff_message(
        &store,
        &agent_of(SHOP),
        &id_of("conv-fan-6"),
        staff_says("马上查"),
        NOW + 30,
    )
    .await);

    // Reconnected with the cursor: exactly the messages after it, in the buyer's view.
    let again = connected(&store, &buyer(MAIN_BUYER), "Buyer6b=").await;
    let resumed = json!({"action": "subscribe", "conversation_id": "conv-fan-6", "after": cursor});
    let answer = ok(subscribe(&store, &again, &message(resumed), NOW + 40).await);
    assert_eq!(answer["new"], true);
    let missed = &answer["missed"];
    assert_eq!(missed["complete"], true);
    let got: Vec<&str> = missed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let all = messages_seen(&store, "conv-fan-6", &buyer(MAIN_BUYER)).await;
    let at = all
        .iter()
        .position(|m| cursor.ends_with(m["message_id"].as_str().unwrap()))
        .unwrap();
    let expected: Vec<&str> = all[at + 1..]
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);
    assert!(got.contains(&asked["message"]["message_id"].as_str().unwrap()));
    assert_eq!(
        got.len(),
        3,
        "the question, the card and the agent's answer: {got:?}"
    );
    assert_eq!(leaks(missed, STAFF), Vec::<String>::new());
    assert!(missed["cursor"].as_str().unwrap().ends_with(got[2]));

    // Staff catch up in the staff's view; an up-to-date cursor misses nothing.
    let agent = connected(&store, &agent_of(SHOP), "Agent6=").await;
    let resumed = json!({"action": "subscribe", "conversation_id": "conv-fan-6", "after": cursor});
    let answer = ok(subscribe(&store, &agent, &message(resumed), NOW + 40).await);
    assert!(answer["missed"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["classification"]["intent"] == "urge_shipment"));
    let latest = answer["missed"]["cursor"].clone();
    let resumed = json!({"action": "subscribe", "conversation_id": "conv-fan-6", "after": latest});
    let answer = ok(subscribe(&store, &agent, &message(resumed), NOW + 40).await);
    assert_eq!(answer["new"], false);
    assert_eq!(answer["missed"]["messages"], json!([]));
    assert_eq!(answer["missed"]["cursor"], latest);
    // Without `after`, no catch-up; a bad cursor, or one for a queue, is a 400.
    let plain = ok(subscribe(&store, &agent, &to_conversation("conv-fan-6"), NOW).await);
    assert!(plain.get("missed").is_none());
    for bad in [
        json!({"action": "subscribe", "conversation_id": "conv-fan-6", "after": "yesterday"}),
        json!({"action": "subscribe", "queue": SHOP, "after": latest}),
    ] {
        refused(
            subscribe(&store, &agent, &message(bad), NOW).await,
            "invalid_input",
        );
    }
}
