//! Whole flows against DynamoDB Local: the scripted demo through the real handlers (every node,
//! the shop's part, the requests of each step), and what an ordinary message costs in requests.
//! The events/ fixtures play each handler's flow (fixtures.rs); every node's flow, the card's
//! guesses and the panel's rules run on the in-memory twin (shared/domain/tests/usecases/order_flow.rs).

use crate::support::*;
use assistant_domain::model::order::OrderNode;
use serde_json::json;

#[tokio::test]
async fn the_demo_plays_every_node_and_reports_requests() {
    let store = fresh_store().await;
    let blobs = integration_tests::fresh_blobs().await;
    let mut out = Vec::new();
    // Boxed: the whole demo is one future, too big for a test thread's stack in a debug build.
    let steps = Box::pin(assistant_cli::demo::run(
        &store,
        Some(&blobs),
        NOW,
        &mut out,
    ))
    .await
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    for node in OrderNode::ALL {
        assert!(
            text.contains(&format!("方案: urge_shipment.{}", node.as_str())),
            "{node:?} in demo:\n{text}"
        );
    }
    assert!(
        text.contains("订单预测卡片（以小鹿家居-小美的名义")
            || text.contains("订单预测卡片（以小鹿家居-阿豪的名义"),
        "{text}"
    );
    assert!(!text.contains("错误:"), "no step failed:\n{text}");
    // The shop's part: refused while the robot is off, then an edit every agent sees, a
    // feedback with its screenshot stored, the robot's answer and the handoff.
    assert!(text.contains("拒绝 (409): robot_off"), "{text}");
    assert!(text.contains("真的很抱歉，订单没能在"), "{text}");
    assert!(text.contains("截图 1 张（image/png"), "{text}");
    assert!(text.contains("已为您转接人工客服"), "{text}");
    assert_eq!(blobs.keys("feedback/").await.unwrap().len(), 1);
    // Every step is a handful of requests; the queue reads its 8 index partitions.
    assert!(
        steps
            .iter()
            .all(|(_, what, n)| (1..=6).contains(n)
                || (what.as_str() == "客服查看等待队列" && *n == 8)),
        "{steps:?}"
    );
}

#[tokio::test]
async fn an_ordinary_message_is_three_requests() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    call(
        &store,
        SELECT,
        "c1",
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await;
    let before = store.requests();
    let v = urge(&store, "c1", "好的，谢谢").await;
    assert_eq!(
        store.requests() - before,
        3,
        "take the buyer's allowance, read the conversation, put the message: {v}"
    );
}

/// `POST /conversations` sent again with its `Idempotency-Key` (its answer was lost): 200 with
/// the conversation the first try opened, as the buyer sees it, and nothing written; a key that
/// is not one is a 400.
#[tokio::test]
async fn a_retried_open_with_its_key_answers_the_conversation_it_opened() {
    let store = seeded().await;
    let open = |key: &str| {
        let body = json!({"shop_id": SHOP, "text": "我买的四件套怎么还没发货啊"});
        let mut event = local_event(OPEN, &[], &buyer(MAIN_BUYER), Some(&body));
        event
            .headers
            .insert("idempotency-key", key.parse().unwrap());
        event
    };
    let (status, first) = invoke(&store, Function::Intake, open("retry-1"), NOW).await;
    assert_eq!(status, 201, "{first}");
    let id = first["conversation_id"].as_str().unwrap().to_string();
    assert!(first["card"]["card_id"].is_string(), "{first}");
    let before = snapshot(&store, &id).await;
    let (status, again) = invoke(&store, Function::Intake, open("retry-1"), NOW + 1).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["conversation_id"], id.as_str());
    let kinds: Vec<&str> = again["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["type"].as_str())
        .collect();
    assert_eq!(kinds, ["text", "prediction_card"], "{again}");
    assert!(
        again.to_string().find("classification").is_none(),
        "the buyer's view"
    );
    assert_eq!(snapshot(&store, &id).await, before, "nothing written");
    let (status, other) = invoke(&store, Function::Intake, open("retry-2"), NOW + 2).await;
    assert_eq!(status, 201);
    assert_ne!(other["conversation_id"], id.as_str());
    let refused = invoke(&store, Function::Intake, open("not a key!"), NOW + 3).await;
    assert!(assert_error(&refused, 400).contains("Idempotency-Key"));
}
