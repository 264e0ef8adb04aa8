//! The 催发货 flow on the in-memory twin, for every order node: the card, its answer, the panel,
//! the agent's use of a solution and what the buyer sees. The whole flow through the handlers
//! against DynamoDB Local stays in tests/integration/flow.rs (one node).

use assistant_domain::model::order::OrderNode;
use assistant_domain::model::usage::SolutionStats;
use assistant_domain::ports::{ConversationStore, StatsStore};
use assistant_domain::usecases::{open_card, panel, select_order, use_solution};
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::{json, Value};

/// The main buyer (or `who`) answers the card or names an order in `conv`; the outcome as JSON.
async fn select(store: &MemoryStore, conv: &str, who: &str, input: Value) -> Value {
    ok(select_order(store, &buyer(who), &id_of(conv), body(input), NOW).await)
}

/// The agent's panel for `conv`, as JSON.
async fn panel_of(store: &MemoryStore, conv: &str) -> Value {
    ok(panel(store, &agent_of(SHOP), &id_of(conv), NOW).await)
}

/// The agent uses the panel in `conv`; the outcome as JSON.
async fn use_panel(store: &MemoryStore, conv: &str, input: Value) -> Value {
    ok(use_solution(store, &agent_of(SHOP), &id_of(conv), body(input), NOW).await)
}

/// One node's whole flow: the buyer asks, the card goes out as the serving agent, the buyer
/// confirms, the panel shows that node's solution, the agent sends each action and the reply.
async fn flow_for(node: OrderNode) {
    let store = seeded().await;
    let order = node_order(node);
    let buyer_id = order.buyer_id.to_string();
    let me = buyer(&buyer_id);
    let conv = format!("conv-{}", node.as_str().replace('_', "-"));

    let v = ok(buyer_says(
        &store,
        &me,
        &id_of(&conv),
        ask("亲，我的东西什么时候发货？"),
        NOW,
    )
    .await);
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
    let msgs = messages_seen(&store, &conv, &me).await;
    let card_msg = &msgs[1];
    assert_eq!(card_msg["body"]["type"], "prediction_card");
    assert_eq!(card_msg["sender"]["role"], "agent");
    assert_eq!(card_msg["sender"]["id"], card["sent_as"]);

    let v = select(
        &store,
        &conv,
        &buyer_id,
        json!({"via": "confirm", "card_id": card["card_id"]}),
    )
    .await;
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

    // The agent's panel resolves the same.
    let p = panel_of(&store, &conv).await;
    assert_eq!(p["solution"], *solution);

    for action in solution["actions"].as_array().unwrap() {
        let v = use_panel(&store, &conv, json!({
            "solution_id": solution["solution_id"], "event": "sent", "action_id": action["action_id"]
        }))
        .await;
        assert_eq!(v["message"]["visible_to_buyer"], action["reaches_buyer"]);
        assert_eq!(
            v["message"]["body"]["order_id"]
                .as_str()
                .or(v["message"]["body"]["order"]["order_id"].as_str()),
            Some(order.order_id.as_str()),
            "{v}"
        );
    }
    let v = use_panel(
        &store,
        &conv,
        json!({"solution_id": solution["solution_id"], "event": "sent", "reply_index": 0}),
    )
    .await;
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
    assert_eq!(v["card"]["reason"], "urgency");
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
    assert_eq!(v["card"]["reason"], "product_name");

    let v = urge(&store, "c3", "订单号6930000000000000003，发货了没").await;
    assert_eq!(v["card"]["guess"]["order_id"], "6930000000000000003");
    assert_eq!(v["card"]["reason"], "order_number_in_text");
}

#[tokio::test]
async fn buyer_picks_another_order_then_switches_by_order_card() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    let card_id = v["card"]["card_id"].clone();
    let me = buyer(MAIN_BUYER);

    let v = select(
        &store,
        "c1",
        MAIN_BUYER,
        json!({"via": "pick", "card_id": card_id, "order_id": "6930000000000000002"}),
    )
    .await;
    assert_eq!(v["message"]["body"]["answer"], "picked");
    assert_eq!(
        v["panel"]["solution"]["solution_id"],
        "urge_shipment.awaiting_shipment"
    );

    // The card is closed now: answering it again is a conflict.
    let again = select_order(
        &store,
        &me,
        &id_of("c1"),
        body(json!({"via": "confirm", "card_id": card_id})),
        NOW,
    )
    .await;
    refused(again, "conflict");
    refused(open_card(&store, &me, &id_of("c1")).await, "not_found");

    // Switching order: the buyer sends an order card of their own.
    let v = select(
        &store,
        "c1",
        MAIN_BUYER,
        json!({"via": "order_card", "order_id": "6930000000000000003"}),
    )
    .await;
    assert_eq!(v["message"]["body"]["type"], "order_card");
    assert_eq!(
        v["panel"]["solution"]["solution_id"],
        "urge_shipment.delivered"
    );
}

#[tokio::test]
async fn later_messages_resolve_against_the_confirmed_order_without_a_new_card() {
    let store = seeded().await;
    confirmed(&store, "c1", "什么时候发货").await;

    let v = urge(&store, "c1", "怎么还不发货啊").await;
    assert!(v["card"].is_null(), "no second card: {v}");
    assert_eq!(v["panel"]["state"], "ready");
    assert_eq!(
        v["panel"]["solution"]["solution_id"],
        "urge_shipment.overdue"
    );

    // A card still waiting for an answer is not sent again either.
    let v = urge(&store, "c2", "什么时候发货").await;
    assert!(v["card"].is_object());
    let v = urge(&store, "c2", "发货了吗？？").await;
    assert!(v["card"].is_null());
    let msgs = messages_seen(&store, "c2", &buyer(MAIN_BUYER)).await;
    let cards = msgs
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
        assert_ne!(v["classification"]["intent"], "urge_shipment", "{text}");
    }
    // An intent the assistant has no solution for (and the robot is off): nothing to offer.
    let v = urge(&store, "c4", "能开增值税发票吗").await;
    assert_eq!(v["panel"]["state"], "not_covered");
    // 查物流 is covered: it gets a card like 催发货, but is not urging.
    let v = urge(&store, "c5", "快递到哪了").await;
    assert_eq!(v["classification"]["intent"], "logistics");
    assert!(v["card"].is_object(), "{v}");
    assert_eq!(v["panel"]["state"], "awaiting_order");
}

#[tokio::test]
async fn a_buyer_without_orders_gets_no_card_and_the_agent_is_told() {
    let store = seeded().await;
    let v = ok(buyer_says(
        &store,
        &buyer("buyer-new"),
        &id_of("c-new"),
        ask("什么时候发货"),
        NOW,
    )
    .await);
    assert!(v["card"].is_null());
    assert_eq!(v["panel"]["state"], "no_order");
    assert!(v["panel"]["note"].as_str().unwrap().contains("订单号"));
}

#[tokio::test]
async fn agent_use_is_stored_and_counted_per_solution() {
    let store = seeded().await;
    confirmed(&store, "c1", "什么时候发货").await; // shown 1
    let panel = panel_of(&store, "c1").await; // shown 2
    let sid = panel["solution"]["solution_id"].clone();
    let reply = panel["solution"]["replies"][0]["text"].clone();

    let v = use_panel(
        &store,
        "c1",
        json!({"solution_id": sid, "event": "copied", "reply_index": 0}),
    )
    .await;
    assert!(v["message"].is_null(), "copying sends nothing");
    let v = use_panel(
        &store,
        "c1",
        json!({"solution_id": sid, "event": "sent", "reply_index": 0}),
    )
    .await;
    assert!(v["message"].is_object());
    let v = use_panel(&store, "c1", json!({"solution_id": sid, "event": "edited_sent", "reply_index": 0, "text": "亲，今天一定给您发出！"})).await;
    assert_eq!(v["message"]["body"]["text"], "亲，今天一定给您发出！");
    let v = use_panel(
        &store,
        "c1",
        json!({"solution_id": sid, "event": "sent", "action_id": "report_shipping_delay"}),
    )
    .await;
    assert!(v["message"].is_object());

    let stats = store
        .stats(&id_of(SHOP), "urge_shipment.overdue")
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
    let theirs = messages_seen(&store, "c1", &buyer(MAIN_BUYER)).await;
    let texts: Vec<&str> = theirs
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert!(texts.contains(&reply.as_str().unwrap()));
    assert!(texts.contains(&"亲，今天一定给您发出！"));
    assert!(theirs
        .iter()
        .all(|m| m["body"]["type"] != "shipping_delay_report"));
    assert!(theirs.iter().all(|m| m["classification"].is_null()));
    let ours = messages_seen(&store, "c1", &agent_of(SHOP)).await;
    assert_eq!(ours.len(), theirs.len() + 1);
}

#[tokio::test]
async fn a_stale_or_wrong_use_of_the_panel_is_refused() {
    let store = seeded().await;
    let staff = agent_of(SHOP);
    let attempt = |input: Value| {
        let (store, staff) = (store.clone(), staff.clone());
        async move { use_solution(&store, &staff, &id_of("c1"), parse_body(input)?, NOW).await }
    };
    // Nothing to use before the buyer named an order.
    urge(&store, "c1", "什么时候发货").await;
    let r =
        attempt(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0}))
            .await;
    refused(r, "conflict");
    let card = ok(open_card(&store, &buyer(MAIN_BUYER), &id_of("c1")).await);
    select(
        &store,
        "c1",
        MAIN_BUYER,
        json!({"via": "confirm", "card_id": card["card_id"]}),
    )
    .await;

    let r =
        attempt(json!({"solution_id": "urge_shipment.shipped", "event": "sent", "reply_index": 0}))
            .await;
    assert!(refused(r, "conflict").contains("reload"));
    let r =
        attempt(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 5}))
            .await;
    assert!(refused(r, "invalid_input").contains("reply_index"));
    let r = attempt(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "action_id": "send_logistics_card"})).await;
    assert!(refused(r, "invalid_input").contains("not offered"));
    let r = attempt(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0, "action_id": "report_shipping_delay"})).await;
    refused(r, "invalid_input");
    let r = attempt(
        json!({"solution_id": "urge_shipment.overdue", "event": "edited_sent", "reply_index": 0}),
    )
    .await;
    assert!(refused(r, "invalid_input").contains("text"));
}

#[tokio::test]
async fn a_greeting_after_a_question_keeps_the_panel_on_that_question() {
    let store = seeded().await;
    let v = urge(&store, "c1", "你好，在吗？").await;
    assert_eq!(
        v["panel"]["state"], "idle",
        "a greeting pops nothing up: {v}"
    );
    confirmed(&store, "c1", "什么时候发货").await;
    let v = urge(&store, "c1", "好的，谢谢").await;
    assert!(v["panel"].is_null(), "nothing changed for the agent: {v}");
    let panel = panel_of(&store, "c1").await;
    assert_eq!(
        panel["solution"]["solution_id"], "urge_shipment.overdue",
        "{panel}"
    );
}

#[tokio::test]
async fn fetching_the_panel_writes_nothing_and_counts_it_shown_once() {
    let store = seeded().await;
    confirmed(&store, "c1", "什么时候发货").await;
    urge(&store, "c1", "好的，谢谢").await;
    let version = |store: MemoryStore| async move {
        store
            .conversation(&id_of("c1"))
            .await
            .unwrap()
            .unwrap()
            .version
    };
    let before = version(store.clone()).await;
    for _ in 0..3 {
        panel_of(&store, "c1").await;
    }
    let stats = store
        .stats(&id_of(SHOP), "urge_shipment.overdue")
        .await
        .unwrap();
    assert_eq!(stats.shown, 1, "{stats:?}");
    assert_eq!(
        version(store.clone()).await,
        before,
        "polling the panel wrote nothing"
    );
    // Every message is there, in order.
    let msgs = messages_seen(&store, "c1", &buyer(MAIN_BUYER)).await;
    assert!(
        msgs.iter().any(|m| m["body"]["text"] == "好的，谢谢"),
        "{msgs:?}"
    );
}
