//! The 催发货 flow end to end through the real handlers, against DynamoDB Local.

use crate::support::*;
use assistant_cli::seed::{self, AGENTS};
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::HOUR;
use assistant_domain::model::usage::SolutionStats;
use assistant_domain::ports::{ConversationStore, StatsStore};
use assistant_testkit::views::leaks;
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
    let found = leaks(&v, STAFF);
    assert!(found.is_empty(), "the buyer's answer leaks {found:?}: {v}");
    let card = &v["card"];
    assert_eq!(card["guess"]["order_id"], order.order_id.as_str());
    assert_eq!(card["guess"]["node"], node.as_str());
    assert_eq!(card["sent_by"], "小鹿家居旗舰店客服", "{card}");
    let seen = agents_see(&store, &conv).await;
    assert_eq!(seen["classification"]["intent"], "urge_shipment");
    assert_eq!(seen["panel"]["state"], "awaiting_order");

    // The card is in the conversation as the serving agent's message: by account for staff, by
    // the shop's name for the buyer.
    let (_, msgs) = call(&store, LIST_MESSAGES, &conv, &claims, None).await;
    let card_msg = &msgs["messages"][1];
    assert_eq!(card_msg["body"]["type"], "prediction_card");
    assert_eq!(
        card_msg["sender"],
        json!({"role": "agent", "name": "小鹿家居旗舰店客服"})
    );
    let (_, ours) = call(&store, LIST_MESSAGES, &conv, &agent_of(SHOP), None).await;
    let sent_as = &ours["messages"][1]["body"]["card"]["sent_as"];
    assert!(
        AGENTS.contains(&sent_as.as_str().unwrap()),
        "sent as a serving agent: {ours}"
    );
    assert_eq!(ours["messages"][1]["sender"]["id"], *sent_as);

    let (status, v) = call(
        &store,
        SELECT,
        &conv,
        &claims,
        Some(json!({"via": "confirm", "card_id": card["card_id"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(leaks(&v, STAFF).is_empty(), "{v}");
    let staff = agent_of(SHOP);
    let (status, panel) = call(&store, PANEL, &conv, &staff, None).await;
    assert_eq!(status, 200);
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

macro_rules! node_flows {
    ($($name:ident => $node:expr),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() { flow_for($node).await }
    )*};
}

node_flows! {
    flow_unpaid => OrderNode::Unpaid,
    flow_awaiting_shipment => OrderNode::AwaitingShipment,
    flow_overdue => OrderNode::Overdue,
    flow_shipped => OrderNode::Shipped,
    flow_delivered => OrderNode::Delivered,
    flow_after_sale => OrderNode::AfterSale,
    flow_closed => OrderNode::Closed,
}

#[tokio::test]
async fn card_guess_follows_order_number_then_product_then_urgency() {
    let store = seeded().await;
    let v = urge(&store, "c1", "发货了吗").await;
    assert_eq!(
        v["card"]["guess"]["order_id"], "6930000000000000001",
        "most overdue first"
    );
    // Why it guessed is the staff's to see (the buyer's card has no reason).
    let (_, ours) = call(&store, GET_CARD, "c1", &agent_of(SHOP), None).await;
    assert_eq!(ours["reason"], "urgency");
    assert!(v["card"]["reason"].is_null(), "{v}");
    let listed: Vec<&str> = std::iter::once(&v["card"]["guess"])
        .chain(v["card"]["others"].as_array().unwrap())
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 4, "only this shop's orders: {listed:?}");
    assert!(!listed.contains(&"6930000000000000999"));
    assert_eq!(
        listed[1], "6930000000000000002",
        "then the one awaiting shipment"
    );
    assert_eq!(listed[3], "6930000000000000004", "closed last");

    let v = urge(&store, "c2", "马克杯啥时候发").await;
    assert_eq!(v["card"]["guess"]["order_id"], "6930000000000000002");
    // Why it guessed is the staff's to see (the buyer's card has no reason).
    let (_, ours) = call(&store, GET_CARD, "c2", &agent_of(SHOP), None).await;
    assert_eq!(ours["reason"], "product_name");
    assert!(v["card"]["reason"].is_null(), "{v}");

    let v = urge(&store, "c3", "订单号6930000000000000003，发货了没").await;
    assert_eq!(v["card"]["guess"]["order_id"], "6930000000000000003");
    // Why it guessed is the staff's to see (the buyer's card has no reason).
    let (_, ours) = call(&store, GET_CARD, "c3", &agent_of(SHOP), None).await;
    assert_eq!(ours["reason"], "order_number_in_text");
    assert!(v["card"]["reason"].is_null(), "{v}");
}

#[tokio::test]
async fn buyer_picks_another_order_then_switches_by_order_card() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    let card_id = v["card"]["card_id"].clone();
    let me = buyer(MAIN_BUYER);

    let (status, v) = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "pick", "card_id": card_id, "order_id": "6930000000000000002"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["message"]["body"]["answer"], "picked");
    assert!(v["panel"].is_null(), "the panel stays with the agents: {v}");
    assert_eq!(
        agents_see(&store, "c1").await["panel"]["solution"]["solution_id"],
        "urge_shipment.awaiting_shipment"
    );

    // The card is closed now: answering it again is a conflict.
    let (status, _) = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "confirm", "card_id": card_id})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(&store, GET_CARD, "c1", &me, None).await;
    assert_eq!(status, 404);

    // Switching order: the buyer sends an order card of their own.
    let (status, v) = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "order_card", "order_id": "6930000000000000003"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["message"]["body"]["type"], "order_card");
    assert_eq!(
        agents_see(&store, "c1").await["panel"]["solution"]["solution_id"],
        "urge_shipment.delivered"
    );
}

#[tokio::test]
async fn later_messages_resolve_against_the_confirmed_order_without_a_new_card() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    let me = buyer(MAIN_BUYER);
    call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await;

    let v = urge(&store, "c1", "怎么还不发货啊").await;
    assert!(v["card"].is_null(), "no second card: {v}");
    let seen = agents_see(&store, "c1").await;
    assert_eq!(seen["panel"]["state"], "ready");
    assert_eq!(
        seen["panel"]["solution"]["solution_id"],
        "urge_shipment.overdue"
    );

    // A card still waiting for an answer is not sent again either.
    let v = urge(&store, "c2", "什么时候发货").await;
    assert!(v["card"].is_object());
    let v = urge(&store, "c2", "发货了吗？？").await;
    assert!(v["card"].is_null());
    let (_, msgs) = call(&store, LIST_MESSAGES, "c2", &me, None).await;
    let cards = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"]["type"] == "prediction_card")
        .count();
    assert_eq!(cards, 1);
}

#[tokio::test]
async fn non_urging_messages_send_no_card() {
    let store = seeded().await;
    for (conv, text) in [
        ("c1", "你好"),
        ("c2", "不着急，你们慢慢发"),
        ("c3", "能开发票吗"),
    ] {
        let v = urge(&store, conv, text).await;
        assert!(v["card"].is_null(), "{text}: {v}");
        let seen = agents_see(&store, conv).await;
        assert_ne!(seen["classification"]["intent"], "urge_shipment", "{text}");
    }
    // An intent the assistant has no solution for (and the robot is off): nothing to offer.
    urge(&store, "c4", "能开增值税发票吗").await;
    assert_eq!(
        agents_see(&store, "c4").await["panel"]["state"],
        "not_covered"
    );
    // 查物流 is covered: it gets a card like 催发货, but is not urging.
    let v = urge(&store, "c5", "快递到哪了").await;
    assert!(v["card"].is_object(), "{v}");
    let seen = agents_see(&store, "c5").await;
    assert_eq!(seen["classification"]["intent"], "logistics");
    assert_eq!(seen["panel"]["state"], "awaiting_order");
}

#[tokio::test]
async fn a_buyer_without_orders_gets_no_card_and_the_agent_is_told() {
    let store = seeded().await;
    let (status, v) = call(
        &store,
        POST_MESSAGE,
        "c-new",
        &buyer("buyer-new"),
        Some(json!({"shop_id": SHOP, "text": "什么时候发货"})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(v["card"].is_null());
    let (_, panel) = call(&store, PANEL, "c-new", &agent_of(SHOP), None).await;
    assert_eq!(panel["state"], "no_order");
    assert!(panel["note"].as_str().unwrap().contains("订单号"));
}

#[tokio::test]
async fn agent_use_is_stored_and_counted_per_solution() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    let me = buyer(MAIN_BUYER);
    call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await; // shown 1
    let staff = agent_of(SHOP);
    let (_, panel) = call(&store, PANEL, "c1", &staff, None).await; // shown 2
    let sid = panel["solution"]["solution_id"].clone();
    let reply = panel["solution"]["replies"][0]["text"].clone();

    let (status, v) = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": sid, "event": "copied", "reply_index": 0})),
    )
    .await;
    assert_eq!(status, 200);
    assert!(v["message"].is_null(), "copying sends nothing");
    let (status, _) = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": sid, "event": "sent", "reply_index": 0})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, v) = call(&store, USE, "c1", &staff, Some(json!({"solution_id": sid, "event": "edited_sent", "reply_index": 0, "text": "亲，今天一定给您发出！"}))).await;
    assert_eq!(status, 201);
    assert_eq!(v["message"]["body"]["text"], "亲，今天一定给您发出！");
    let (status, _) = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": sid, "event": "sent", "action_id": "report_shipping_delay"})),
    )
    .await;
    assert_eq!(status, 201);

    let stats = store
        .stats(&ShopId::parse(SHOP).unwrap(), "urge_shipment.overdue")
        .await
        .unwrap();
    assert_eq!(
        stats,
        SolutionStats {
            // Once per solution put in front of the agents, however often the panel is fetched.
            shown: 1,
            copied: 1,
            sent: 2,
            edited_sent: 1,
            feedback: 0
        }
    );

    // The buyer sees the replies but not the internal report; the agent sees all.
    let (_, theirs) = call(&store, LIST_MESSAGES, "c1", &me, None).await;
    let texts: Vec<&str> = theirs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert!(texts.contains(&reply.as_str().unwrap()));
    assert!(texts.contains(&"亲，今天一定给您发出！"));
    assert!(theirs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["body"]["type"] != "shipping_delay_report"));
    let found = leaks(&theirs, STAFF);
    assert!(found.is_empty(), "the buyer's side leaks {found:?}");
    let (_, ours) = call(&store, LIST_MESSAGES, "c1", &staff, None).await;
    assert_eq!(
        ours["messages"].as_array().unwrap().len(),
        theirs["messages"].as_array().unwrap().len() + 1
    );
}

#[tokio::test]
async fn a_stale_or_wrong_use_of_the_panel_is_refused() {
    let store = seeded().await;
    let staff = agent_of(SHOP);
    // Nothing to use before the buyer named an order.
    urge(&store, "c1", "什么时候发货").await;
    let r = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0})),
    )
    .await;
    assert_error(&r, 409);
    let (_, card) = call(&store, GET_CARD, "c1", &buyer(MAIN_BUYER), None).await;
    call(
        &store,
        SELECT,
        "c1",
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": card["card_id"]})),
    )
    .await;

    let r = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": "urge_shipment.shipped", "event": "sent", "reply_index": 0})),
    )
    .await;
    assert!(assert_error(&r, 409).contains("reload"));
    let r = call(
        &store,
        USE,
        "c1",
        &staff,
        Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 5})),
    )
    .await;
    assert!(assert_error(&r, 400).contains("reply_index"));
    let r = call(&store, USE, "c1", &staff, Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "action_id": "send_logistics_card"}))).await;
    assert!(assert_error(&r, 400).contains("not offered"));
    let r = call(&store, USE, "c1", &staff, Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0, "action_id": "report_shipping_delay"}))).await;
    assert_error(&r, 400);
    let r = call(&store, USE, "c1", &staff, Some(json!({"solution_id": "urge_shipment.overdue", "event": "edited_sent", "reply_index": 0}))).await;
    assert!(assert_error(&r, 400).contains("text"));
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
    assert!(
        text.contains("订单预测卡片（以小鹿家居旗舰店客服的名义"),
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
async fn a_greeting_after_a_question_keeps_the_panel_on_that_question() {
    let store = seeded().await;
    urge(&store, "c1", "你好，在吗？").await;
    let seen = agents_see(&store, "c1").await;
    assert_eq!(
        seen["panel"]["state"], "idle",
        "a greeting pops nothing up: {seen}"
    );
    let v = urge(&store, "c1", "什么时候发货").await;
    call(
        &store,
        SELECT,
        "c1",
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await;
    let v = urge(&store, "c1", "好的，谢谢").await;
    assert!(leaks(&v, STAFF).is_empty(), "{v}");
    let (_, panel) = call(&store, PANEL, "c1", &agent_of(SHOP), None).await;
    assert_eq!(
        panel["solution"]["solution_id"], "urge_shipment.overdue",
        "{panel}"
    );
}

#[tokio::test]
async fn an_ordinary_message_is_three_requests_and_fetching_the_panel_writes_nothing() {
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
    let version = store
        .conversation(&assistant_domain::model::ids::ConversationId::parse("c1").unwrap())
        .await
        .unwrap()
        .unwrap()
        .version;
    for _ in 0..3 {
        let (status, _) = call(&store, PANEL, "c1", &agent_of(SHOP), None).await;
        assert_eq!(status, 200);
    }
    let stats = store
        .stats(&ShopId::parse(SHOP).unwrap(), "urge_shipment.overdue")
        .await
        .unwrap();
    assert_eq!(stats.shown, 1, "{stats:?}");
    let after = store
        .conversation(&assistant_domain::model::ids::ConversationId::parse("c1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.version, version, "polling the panel wrote nothing");
    // Every message is there, in order.
    let (_, msgs) = call(&store, LIST_MESSAGES, "c1", &buyer(MAIN_BUYER), None).await;
    assert!(
        msgs["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"]["text"] == "好的，谢谢"),
        "{msgs}"
    );
}
