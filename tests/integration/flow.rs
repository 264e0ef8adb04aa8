//! The 催发货 flow end to end through the real handlers, against DynamoDB Local: one node (every
//! node, the card's guesses and the panel's rules run on the in-memory twin in
//! shared/domain/tests/order_flow.rs), the scripted demo, and what a message costs in requests.

use crate::support::*;
use assistant_cli::seed::{self, AGENTS};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::HOUR;
use serde_json::json;

/// One node's whole flow: the buyer asks, the card goes out as the serving agent, the buyer
/// confirms, the panel shows that node's solution, the agent sends each action and the reply.
async fn flow_for(node: OrderNode) {
    let store = seeded().await;
    let (_, order) = seed::node_buyers(NOW - HOUR)
        .into_iter()
        .find(|(n, _)| *n == node)
        .unwrap();
    let buyer_id = order.buyer_id.to_string();
    let claims = buyer(&buyer_id);
    let conv = format!("conv-{}", node.as_str().replace('_', "-"));

    let (status, v) = call(
        &store,
        POST_MESSAGE,
        &conv,
        &claims,
        Some(json!({"shop_id": SHOP, "text": "亲，我的东西什么时候发货？"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["classification"]["intent"], "urge_shipment");
    let card = &v["card"];
    assert_eq!(card["guess"]["order_id"], order.order_id.as_str());
    assert_eq!(card["guess"]["node"], node.as_str());
    assert!(
        AGENTS.contains(&card["sent_as"].as_str().unwrap()),
        "sent as a serving agent: {card}"
    );
    assert_eq!(v["panel"]["state"], "awaiting_order");

    // The card is in the conversation as the agent's message.
    let (_, msgs) = call(&store, LIST_MESSAGES, &conv, &claims, None).await;
    let card_msg = &msgs["messages"][1];
    assert_eq!(card_msg["body"]["type"], "prediction_card");
    assert_eq!(card_msg["sender"]["role"], "agent");
    assert_eq!(card_msg["sender"]["id"], card["sent_as"]);

    let (status, v) = call(
        &store,
        SELECT,
        &conv,
        &claims,
        Some(json!({"via": "confirm", "card_id": card["card_id"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let panel = &v["panel"];
    assert_eq!(panel["state"], "ready");
    assert_eq!(panel["intent"]["label"], "什么时候发货");
    let solution = &panel["solution"];
    assert_eq!(
        solution["solution_id"],
        format!("urge_shipment.{}", node.as_str())
    );
    assert_eq!(solution["node"], node.as_str());
    let reply = solution["replies"][0]["text"].as_str().unwrap().to_string();
    assert!(!reply.contains('{') && !reply.contains('}'), "{reply}");
    assert!(
        reply.starts_with("亲") || reply.starts_with("非常抱歉"),
        "{reply}"
    );

    // The agent's panel (suggest) resolves the same.
    let staff = agent_of(SHOP);
    let (status, p) = call(&store, PANEL, &conv, &staff, None).await;
    assert_eq!(status, 200);
    assert_eq!(p["solution"], *solution);

    for action in solution["actions"].as_array().unwrap() {
        let (status, v) = call(&store, USE, &conv, &staff, Some(json!({
            "solution_id": solution["solution_id"], "event": "sent", "action_id": action["action_id"]
        }))).await;
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["message"]["visible_to_buyer"], action["reaches_buyer"]);
        assert_eq!(
            v["message"]["body"]["order_id"]
                .as_str()
                .or(v["message"]["body"]["order"]["order_id"].as_str()),
            Some(order.order_id.as_str()),
            "{v}"
        );
    }
    let (status, v) = call(
        &store,
        USE,
        &conv,
        &staff,
        Some(json!({
            "solution_id": solution["solution_id"], "event": "sent", "reply_index": 0
        })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(v["message"]["body"]["text"], reply.as_str());
}

/// Every node's flow runs on the twin (shared/domain/tests/order_flow.rs); this one goes through
/// the handlers and DynamoDB Local.
#[tokio::test]
async fn flow_overdue_through_the_handlers() {
    flow_for(OrderNode::Overdue).await
}

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
    assert!(text.contains("订单预测卡片（以客服"), "{text}");
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
async fn an_ordinary_message_is_two_requests() {
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
        2,
        "read the conversation, put the message: {v}"
    );
}
