//! The buyers' abuse limits on the in-memory twin: a buyer over a limit gets 429 with its
//! `Retry-After`, and nothing of the refused message is stored.

use assistant_domain::error::Error;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, ShopId, UserId};
use assistant_domain::model::limits::Limits;
use assistant_domain::model::time::{Millis, HOUR, MINUTE};
use assistant_domain::ports::ConversationStore;
use assistant_domain::usecases::PostMessage;
use assistant_testkit::builders::{seed_shop, shop};
use assistant_testkit::fixtures::buyer_says;
use assistant_testkit::MemoryStore;

/// 10:00:00 Beijing time (2026-11-25T02:00:00Z).
const NOW: Millis = 1_795_572_000_000;

async fn store(limits: Limits) -> MemoryStore {
    let store = MemoryStore::with_limits(limits);
    seed_shop(&store, &shop("shop1")).await;
    seed_shop(&store, &shop("shop2")).await;
    store
}

fn buyer(name: &str) -> Actor {
    Actor::Buyer(UserId::parse(name).unwrap())
}

fn conv(id: &str) -> ConversationId {
    ConversationId::parse(id).unwrap()
}

fn says(shop: &str, text: &str) -> PostMessage {
    PostMessage {
        shop_id: Some(ShopId::parse(shop).unwrap()),
        text: text.into(),
    }
}

fn retry_after(err: Error) -> u64 {
    match err {
        Error::TooMany {
            retry_after_seconds,
            ..
        } => retry_after_seconds,
        other => panic!("expected TooMany, got {other:?}"),
    }
}

#[tokio::test]
async fn a_buyer_over_their_messages_a_minute_is_refused_until_the_minute_ends() {
    let store = store(Limits::new(3, 20).unwrap()).await;
    let at = NOW - NOW.rem_euclid(MINUTE) + 15_000;
    for i in 0..3 {
        buyer_says(
            &store,
            &buyer("b1"),
            &conv("c1"),
            says("shop1", "在吗"),
            at + i,
        )
        .await
        .unwrap();
    }
    let err = buyer_says(
        &store,
        &buyer("b1"),
        &conv("c1"),
        says("shop1", "在吗"),
        at + 3,
    )
    .await
    .unwrap_err();
    assert_eq!(retry_after(err), 45);
    // Nothing of the refused message is stored.
    let stored = store.messages(&conv("c1"), 100).await.unwrap();
    assert_eq!(stored.iter().filter(|m| m.sent_at == at + 3).count(), 0);
    assert_eq!(stored.len(), 3 + robotless_extras(&stored));
    // Another buyer is not held back by this one.
    buyer_says(
        &store,
        &buyer("b2"),
        &conv("c2"),
        says("shop1", "在吗"),
        at + 4,
    )
    .await
    .unwrap();
    // The next minute the buyer may write again.
    buyer_says(
        &store,
        &buyer("b1"),
        &conv("c1"),
        says("shop1", "在吗"),
        at + MINUTE,
    )
    .await
    .unwrap();
}

/// Messages other than the buyer's own (a card, a robot answer) that the three brought.
fn robotless_extras(stored: &[assistant_domain::model::conversation::Message]) -> usize {
    use assistant_domain::model::conversation::Sender;
    stored
        .iter()
        .filter(|m| !matches!(m.sender, Sender::Buyer(_)))
        .count()
}

#[tokio::test]
async fn a_buyer_opens_only_so_many_conversations_in_a_shop_a_day() {
    let store = store(Limits::new(100, 2).unwrap()).await;
    for (i, id) in ["c1", "c2"].into_iter().enumerate() {
        buyer_says(
            &store,
            &buyer("b1"),
            &conv(id),
            says("shop1", "你好"),
            NOW + i as i64,
        )
        .await
        .unwrap();
    }
    let err = buyer_says(
        &store,
        &buyer("b1"),
        &conv("c3"),
        says("shop1", "你好"),
        NOW + 2,
    )
    .await
    .unwrap_err();
    // 10:00 in Beijing: 14 hours to midnight.
    assert_eq!(retry_after(err), (14 * HOUR / 1000) as u64);
    assert!(store.conversation(&conv("c3")).await.unwrap().is_none());
    assert!(store.messages(&conv("c3"), 10).await.unwrap().is_empty());
    // The conversations already open go on; another shop is counted on its own.
    buyer_says(
        &store,
        &buyer("b1"),
        &conv("c1"),
        says("shop1", "还在吗"),
        NOW + 3,
    )
    .await
    .unwrap();
    buyer_says(
        &store,
        &buyer("b1"),
        &conv("c4"),
        says("shop2", "你好"),
        NOW + 4,
    )
    .await
    .unwrap();
    // The next Beijing day the buyer may open another.
    buyer_says(
        &store,
        &buyer("b1"),
        &conv("c3"),
        says("shop1", "你好"),
        NOW + 14 * HOUR,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn staff_are_not_limited_as_buyers_are() {
    use assistant_domain::usecases::post_staff_message;
    let store = store(Limits::new(1, 1).unwrap()).await;
    buyer_says(
        &store,
        &buyer("b1"),
        &conv("c1"),
        says("shop1", "你好"),
        NOW,
    )
    .await
    .unwrap();
    let agent = Actor::Agent {
        user: UserId::parse("agent1").unwrap(),
        shop: ShopId::parse("shop1").unwrap(),
    };
    for i in 0..3 {
        post_staff_message(
            &store,
            &agent,
            &conv("c1"),
            PostMessage {
                shop_id: None,
                text: "您好，请问有什么可以帮您".into(),
            },
            NOW + 1 + i,
        )
        .await
        .unwrap();
    }
}
