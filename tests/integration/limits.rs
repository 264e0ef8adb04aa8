//! The buyers' abuse limits through the intake handler on DynamoDB Local: 429 with the seconds to
//! wait, nothing of the refused message stored; the counters are atomic under concurrent sends.

use crate::support::*;
use assistant_domain::model::limits::Limits;
use serde_json::json;

async fn limited(
    messages_per_minute: u32,
    conversations_per_day: u32,
) -> assistant_aws::DynamoStore {
    seeded()
        .await
        .with_limits(Limits::new(messages_per_minute, conversations_per_day).unwrap())
}

async fn say(
    store: &assistant_aws::DynamoStore,
    conversation: &str,
    text: &str,
) -> (i64, serde_json::Value) {
    call(
        store,
        POST_MESSAGE,
        conversation,
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": text})),
    )
    .await
}

#[tokio::test]
async fn a_buyer_over_the_minutes_messages_gets_429_and_nothing_is_stored() {
    let store = limited(2, 20).await;
    assert_eq!(say(&store, "lim1", "在吗").await.0, 201);
    assert_eq!(say(&store, "lim1", "在吗").await.0, 201);
    let before = snapshot(&store, "lim1").await;
    let refused = say(&store, "lim1", "在吗").await;
    assert_error(&refused, 429);
    assert_eq!(refused.1["error"]["code"], "too_many_requests");
    let wait = refused.1["error"]["retry_after_seconds"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{}", refused.1);
    assert_eq!(snapshot(&store, "lim1").await, before, "nothing written");
}

#[tokio::test]
async fn concurrent_new_conversations_never_overrun_the_days_limit() {
    let store = limited(100, 3).await;
    let ids: Vec<String> = (0..8).map(|i| format!("limc{i}")).collect();
    let sends = ids.iter().map(|id| say(&store, id, "你好"));
    let results = futures_util::future::join_all(sends).await;
    let opened = results.iter().filter(|r| r.0 == 201).count();
    let refused = results.iter().filter(|r| r.0 == 429).count();
    assert_eq!((opened, refused), (3, 5), "{results:?}");
    for (id, result) in ids.iter().zip(&results) {
        let stored = snapshot(&store, id).await;
        assert_eq!(stored.0.is_some(), result.0 == 201, "{id}: {:?}", result.1);
    }
}
