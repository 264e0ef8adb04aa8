//! Push connections on the in-memory twin: a ticket is minted for the caller and taken once by
//! `$connect`; a connection follows only what its identity may read over HTTP (a buyer their own
//! conversations, staff their shop's queue and conversations); `$disconnect` removes it all.

use assistant_domain::model::identity::Actor;
use assistant_domain::model::push::{
    ConnectionId, SubscribeMessage, Topic, MAX_SUBSCRIPTIONS, TICKET_TTL,
};
use assistant_domain::ports::PushStore;
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
    let ticket = ok(mint_ticket(store, actor, NOW).await);
    let id = socket(id);
    connect(store, &id, ticket["ticket"].as_str(), NOW + 1)
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
        store.subscribers(&topic, NOW).await.unwrap(),
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
        store.subscribers(&topic, NOW).await.unwrap(),
        vec![me.clone()]
    );
    assert!(store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap()
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
    let mut queue = store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap();
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
    assert!(store
        .subscribers(&Topic::Queue(id_of(SHOP)), NOW)
        .await
        .unwrap()
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
