//! The shop's side of the workbench on the in-memory twin: reply editing, the robot and its
//! priority, handoff and the queue, a feedback write failing part-way, adoption figures, and the
//! solutions of the other covered intents. Feedback through the handler (JSON and multipart,
//! screenshots in moto's S3) and the queue index in DynamoDB stay in
//! tests/integration/workbench.rs.

use assistant_domain::model::feedback::FeedbackForm;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, ShopId};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::MINUTE;
use assistant_domain::ports::FeedbackStore;
use assistant_domain::usecases::{
    adoption, edit_replies, edit_robot, get_replies, panel, post_feedback, post_staff_message,
    queue, rate_robot, select_order, use_solution,
};
use assistant_domain::Result;
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::{json, Value};

/// The admin switches the robot (and its answers); the outcome.
async fn robot(
    store: &MemoryStore,
    on: bool,
    version: u64,
    answers: Option<Value>,
) -> Result<Value> {
    let mut input = json!({"expected_version": version, "on": on});
    if let Some(a) = answers {
        input["answers"] = a;
    }
    let view = edit_robot(store, &admin_of(SHOP), &id_of(SHOP), body(input), NOW).await?;
    Ok(serde_json::to_value(view).unwrap())
}

/// `who` edits the demo shop's 催发货 replies.
async fn edit(store: &MemoryStore, who: &Actor, input: Value) -> Result<Value> {
    let shop: ShopId = id_of(SHOP);
    let view = edit_replies(store, who, &shop, "urge_shipment", body(input), NOW).await?;
    Ok(serde_json::to_value(view).unwrap())
}

/// The demo shop's 催发货 replies as `who` reads them.
async fn replies_seen(store: &MemoryStore, who: &Actor) -> Value {
    ok(get_replies(store, who, &id_of(SHOP), "urge_shipment").await)
}

/// The main buyer's overdue order confirmed in a conversation; returns the agent's panel.
async fn overdue_panel(store: &MemoryStore, conv: &str) -> Value {
    confirmed(store, conv, "我买的四件套怎么还没发货").await;
    ok(panel(store, &agent_of(SHOP), &id_of(conv), NOW).await)
}

/// `who` rates a message of the robot in conv-h.
async fn rate(store: &MemoryStore, who: Actor, message: &Value, rating: &str) -> Result<Value> {
    let input = body(json!({"message_id": message, "rating": rating}));
    let outcome = rate_robot(store, &who, &id_of("conv-h"), input, NOW).await?;
    Ok(serde_json::to_value(outcome).unwrap())
}

/// The agent uses the panel in `conv`.
async fn use_panel(store: &MemoryStore, conv: &str, input: Value) -> Value {
    ok(use_solution(store, &agent_of(SHOP), &id_of(conv), body(input), NOW).await)
}

#[tokio::test]
async fn editing_replies_needs_the_robot_and_applies_shop_wide() {
    let store = seeded().await;
    let new = json!({"expected_version": 0, "solution_id": "urge_shipment.overdue",
        "replies": ["抱歉久等了，订单{order_id}预计{new_ship_time}发出～", "给您添麻烦了，我们一直盯着呢"]});

    // Robot off: refused with a reason, nothing stored.
    let msg = refused(
        edit(&store, &admin_of(SHOP), new.clone()).await,
        "robot_off",
    );
    assert!(msg.contains("飞鸽机器人"), "{msg}");
    let v = replies_seen(&store, &agent_of(SHOP)).await;
    assert_eq!(v["version"], 0);
    assert!(v["history"].as_array().unwrap().is_empty());

    robot(&store, true, 0, None).await.unwrap();
    // Only the shop's own admin edits; bad replies are 400s naming the problem.
    refused(
        edit(&store, &agent_of(SHOP), new.clone()).await,
        "forbidden",
    );
    refused(
        edit(&store, &admin_of(OTHER_SHOP), new.clone()).await,
        "not_found",
    );
    let mut bad = new.clone();
    bad["replies"] = json!(["{phone}请联系我"]);
    assert!(refused(edit(&store, &admin_of(SHOP), bad).await, "invalid_input").contains("{phone}"));
    bad = new.clone();
    bad["replies"] = json!(["a", "b", "c", "d"]);
    assert!(
        refused(edit(&store, &admin_of(SHOP), bad).await, "invalid_input")
            .contains("at most 2 more")
    );
    bad = new.clone();
    bad["solution_id"] = json!("logistics.shipped");
    refused(edit(&store, &admin_of(SHOP), bad).await, "invalid_input");

    let v = edit(&store, &admin_of(SHOP), new.clone()).await.unwrap();
    assert_eq!(v["version"], 1);
    // The same edit over a stale version loses: 409, never a silent overwrite.
    refused(edit(&store, &admin_of(SHOP), new.clone()).await, "conflict");

    // Every agent's next panel for that solution shows the shop's replies, filled in.
    let panel_now = overdue_panel(&store, "conv-edit").await;
    let replies = panel_now["solution"]["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 2, "{panel_now}");
    assert!(replies[0]["text"]
        .as_str()
        .unwrap()
        .contains("6930000000000000001"));
    assert_eq!(replies[0]["source"], "shop");
    assert_eq!(replies[1]["source"], "shop_extra");
    // Sending reply 1 sends the shop's extra reply.
    let v = use_panel(
        &store,
        "conv-edit",
        json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 1}),
    )
    .await;
    assert_eq!(v["message"]["body"]["text"], "给您添麻烦了，我们一直盯着呢");

    // Robot off again: the official solution is back (the edit is kept for later).
    robot(&store, false, 1, None).await.unwrap();
    let seen = ok(panel(&store, &agent_of(SHOP), &id_of("conv-edit"), NOW).await);
    assert_eq!(seen["solution"]["replies"][0]["source"], "official");
    robot(&store, true, 2, None).await.unwrap();

    // Reset to official, recorded with before and after.
    let v = edit(
        &store,
        &admin_of(SHOP),
        json!({"expected_version": 1, "solution_id": "urge_shipment.overdue", "reset": true}),
    )
    .await
    .unwrap();
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["after"], json!([]));
    assert_eq!(history[1]["before"], json!([]));
    assert_eq!(history[1]["by"], ADMIN);
    let seen = ok(panel(&store, &agent_of(SHOP), &id_of("conv-edit"), NOW).await);
    assert_eq!(seen["solution"]["replies"][0]["source"], "official");
}

#[tokio::test]
async fn concurrent_edits_one_wins_the_other_gets_409() {
    let store = seeded().await;
    robot(&store, true, 0, None).await.unwrap();
    let input = |text: &str| json!({"expected_version": 0, "solution_id": "urge_shipment.shipped", "replies": [text]});
    let admin = admin_of(SHOP);
    let (a, b) = tokio::join!(
        edit(&store, &admin, input("版本甲：已经发货啦")),
        edit(&store, &admin, input("版本乙：包裹在路上啦"))
    );
    let winner = match (&a, &b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
            assert_eq!(e.code(), "conflict");
            if a.is_ok() {
                "版本甲：已经发货啦"
            } else {
                "版本乙：包裹在路上啦"
            }
        }
        _ => panic!("one wins, the other gets 409: {a:?} / {b:?}"),
    };
    let v = replies_seen(&store, &admin_of(SHOP)).await;
    let shipped = solution_in(&v["solutions"], "urge_shipment.shipped");
    assert_eq!(shipped["replies"], json!([winner]));
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_robot_answers_only_what_the_assistant_does_not_cover() {
    let store = seeded().await;
    let answers = json!({"invoice": "亲，发票可以在订单详情里自助申请～"});
    // A robot answer for a covered intent is refused: the assistant's solution always wins.
    refused(
        robot(&store, true, 0, Some(json!({"logistics": "机器人说"}))).await,
        "invalid_input",
    );
    robot(&store, false, 0, Some(answers.clone()))
        .await
        .unwrap();

    // Robot off: nothing answers the invoice question, the panel has nothing to offer.
    let v = urge(&store, "conv-r", "能开发票吗？要增值税普通发票").await;
    assert_eq!(v["classification"]["intent"], "invoice");
    assert!(v["robot_reply"].is_null());
    assert_eq!(v["panel"]["state"], "not_covered");

    // Robot on: it answers, the panel says so.
    robot(&store, true, 1, None).await.unwrap();
    let v = urge(&store, "conv-r", "发票怎么开呀").await;
    assert_eq!(v["robot_reply"]["sender"]["role"], "robot", "{v}");
    assert_eq!(
        v["robot_reply"]["body"]["text"],
        "亲，发票可以在订单详情里自助申请～"
    );
    assert_eq!(v["panel"]["state"], "robot");
    // A covered intent with the robot on: the assistant's card and solution, no robot reply.
    let v = urge(&store, "conv-r2", "什么时候发货啊").await;
    assert!(v["robot_reply"].is_null());
    assert!(v["card"].is_object());
    // An uncovered intent without a configured answer: nothing.
    let v = urge(&store, "conv-r3", "这个枕头是什么材质的？会不会掉毛").await;
    assert_eq!(v["classification"]["intent"], "product_question", "{v}");
    assert!(v["robot_reply"].is_null());
    assert_eq!(v["panel"]["state"], "not_covered");
}

#[tokio::test]
async fn a_bad_robot_rating_hands_the_buyer_to_a_person_at_the_head_of_the_queue() {
    let store = seeded().await;
    robot(
        &store,
        true,
        0,
        Some(json!({"invoice": "发票在订单详情里申请～"})),
    )
    .await
    .unwrap();
    // Another buyer has been waiting for a while.
    let other = node_order(OrderNode::Shipped);
    let early: ConversationId = id_of("conv-early");
    let waiter = buyer(other.buyer_id.as_str());
    ok(buyer_says(&store, &waiter, &early, ask("在吗"), NOW - 10 * MINUTE).await);

    let v = urge(&store, "conv-h", "怎么开发票").await;
    let robot_msg = v["robot_reply"]["message_id"].clone();
    // Answered by the robot: not waiting for a person.
    let shop: ShopId = id_of(SHOP);
    let q = ok(queue(&store, &agent_of(SHOP), &shop, NOW).await);
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["conversation_id"], "conv-early");
    assert_eq!(q["items"][0]["waited_ms"], 10 * MINUTE);

    // Only the robot's messages can be rated, only by the buyer.
    let buyer_msg = v["message"]["message_id"].clone();
    refused(
        rate(&store, buyer(MAIN_BUYER), &buyer_msg, "bad").await,
        "invalid_input",
    );
    refused(
        rate(&store, agent_of(SHOP), &robot_msg, "bad").await,
        "forbidden",
    );
    let r = ok(rate(&store, buyer(MAIN_BUYER), &robot_msg, "good").await);
    assert_eq!(r["handed_off"].as_bool(), Some(false), "{r}");

    let r = ok(rate(&store, buyer(MAIN_BUYER), &robot_msg, "bad").await);
    assert_eq!(r["handed_off"], true);
    assert_eq!(r["message"]["body"]["text"], "已为您转接人工客服，请稍候～");
    // The buyer sees the handoff in the conversation; the robot stays out from now on.
    let msgs = messages_seen(&store, "conv-h", &buyer(MAIN_BUYER)).await;
    let texts: Vec<&str> = msgs
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"已为您转接人工客服，请稍候～"), "{texts:?}");
    let v = urge(&store, "conv-h", "发票到底怎么开").await;
    assert!(v["robot_reply"].is_null(), "{v}");

    // The queue: longest wait first; the handed-off one is marked.
    let q = ok(queue(&store, &agent_of(SHOP), &shop, NOW).await);
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{q}");
    assert_eq!(items[0]["conversation_id"], "conv-early");
    assert_eq!(items[1]["conversation_id"], "conv-h");
    assert_eq!(items[1]["handed_off"], true);
    assert_eq!(items[1]["last_text"], "怎么开发票");
    // Another shop's staff do not see it; a buyer may not ask.
    refused(
        queue(&store, &agent_of(OTHER_SHOP), &shop, NOW).await,
        "not_found",
    );
    refused(
        queue(&store, &buyer(MAIN_BUYER), &shop, NOW).await,
        "forbidden",
    );

    // An agent answers: that buyer leaves the queue.
    let answer = body(json!({"text": "在的，您说～"}));
    ok(post_staff_message(&store, &agent_of(SHOP), &early, answer, NOW).await);
    let q = ok(queue(&store, &agent_of(SHOP), &shop, NOW).await);
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["conversation_id"], "conv-h");
    // Staff cannot write into another shop's conversation.
    refused(
        post_staff_message(
            &store,
            &agent_of(OTHER_SHOP),
            &early,
            body(json!({"text": "hi"})),
            NOW,
        )
        .await,
        "not_found",
    );
}

// ---- feedback ---------------------------------------------------------------------------------

fn png(extra: usize) -> Vec<u8> {
    let mut v = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    v.resize(16 + extra, 7);
    v
}

#[tokio::test]
async fn a_failure_part_way_leaves_no_orphan_object_and_no_record() {
    let store = seeded().await;
    let actor = agent_of(SHOP);
    let form = || FeedbackForm {
        intent: Some("urge_shipment".into()),
        description: Some("截图里是买家的原话".into()),
        screenshots: vec![png(10), png(20), png(30)],
        ..Default::default()
    };
    for (fail_upload, fail_record) in [(3, false), (0, true)] {
        // The third screenshot's upload fails, or the record's write.
        store.fail_upload(fail_upload);
        store.fail_feedback_writes(fail_record);
        let err = post_feedback(&store, &store, &actor, form(), NOW)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "unavailable");
        assert_eq!(
            store.blob_count(),
            0,
            "no orphans after fail_upload={fail_upload} fail_record={fail_record}"
        );
    }
    let page = store.feedback_page(None, None, 10, None).await.unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn adoption_figures_count_each_use_and_stay_in_their_shop() {
    let store = seeded().await;
    overdue_panel(&store, "conv-a").await; // shown once, however often the panel is fetched
    let v = use_panel(
        &store,
        "conv-a",
        json!({"solution_id": "urge_shipment.overdue", "event": "copied", "reply_index": 0}),
    )
    .await;
    assert!(v["message"].is_null());
    let v = use_panel(&store, "conv-a",
        json!({"solution_id": "urge_shipment.overdue", "event": "edited_sent", "reply_index": 0, "text": "抱歉抱歉，今天一定发"})).await;
    assert!(v["message"].is_object());
    let form = FeedbackForm {
        intent: Some("urge_shipment".into()),
        solution_id: Some("urge_shipment.overdue".into()),
        description: Some("新的发货日期说得太死，周末仓库不发货".into()),
        ..Default::default()
    };
    ok(post_feedback(&store, &store, &agent_of(SHOP), form, NOW).await);

    let shop: ShopId = id_of(SHOP);
    let v = ok(adoption(&store, &admin_of(SHOP), Some(&shop)).await);
    let row = solution_in(&v["rows"], "urge_shipment.overdue");
    assert_eq!(row["intent"], "urge_shipment");
    assert_eq!(
        (
            row["shown"].as_u64(),
            row["copied"].as_u64(),
            row["edited_sent"].as_u64(),
            row["feedback"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1)),
        "{row}"
    );
    assert_eq!(row["copy_rate"], 1.0);
    assert_eq!(row["feedback_rate"], 1.0);
    refused(
        adoption(&store, &admin_of(OTHER_SHOP), Some(&shop)).await,
        "not_found",
    );
    refused(
        adoption(&store, &agent_of(SHOP), Some(&shop)).await,
        "forbidden",
    );
    let v = ok(adoption(&store, &platform(), Some(&shop)).await);
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    let all = ok(adoption(&store, &platform(), None).await);
    assert!(all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["shop_id"] == SHOP));
    refused(adoption(&store, &admin_of(SHOP), None).await, "forbidden");
}

// ---- the other covered intents --------------------------------------------------------------

/// A node's buyer asks `text` in a new conversation and confirms the card; returns the buyer and
/// the panel.
async fn ask_and_confirm(
    store: &MemoryStore,
    node: OrderNode,
    conv: &str,
    text: &str,
    intent: &str,
) -> (Actor, Value) {
    let order = node_order(node);
    let who = buyer(order.buyer_id.as_str());
    let v = ok(buyer_says(store, &who, &id_of(conv), ask(text), NOW).await);
    assert_eq!(v["classification"]["intent"], intent, "{text}: {v}");
    let confirm = body(json!({"via": "confirm", "card_id": v["card"]["card_id"]}));
    let v = ok(select_order(store, &who, &id_of(conv), confirm, NOW).await);
    (who, v["panel"].clone())
}

#[tokio::test]
async fn logistics_address_cancel_and_refund_have_solutions_that_send_real_messages() {
    let store = seeded().await;
    let (_, panel) = ask_and_confirm(
        &store,
        OrderNode::Shipped,
        "conv-l",
        "帮我查下物流到哪了",
        "logistics",
    )
    .await;
    assert_eq!(panel["solution"]["solution_id"], "logistics.shipped");
    assert!(
        panel["solution"]["replies"][0]["text"]
            .as_str()
            .unwrap()
            .contains("运单号"),
        "{panel}"
    );

    let (who, panel) = ask_and_confirm(
        &store,
        OrderNode::AwaitingShipment,
        "conv-c",
        "地址填错了，能改一下收货地址吗",
        "change_address",
    )
    .await;
    assert_eq!(
        panel["solution"]["solution_id"],
        "change_address.awaiting_shipment"
    );
    let v = use_panel(&store, "conv-c",
        json!({"solution_id": "change_address.awaiting_shipment", "event": "sent", "action_id": "send_address_change_form"})).await;
    assert_eq!(v["message"]["body"]["type"], "address_change_form");
    assert_eq!(v["message"]["body"]["before_shipping"], true);
    let v = use_panel(&store, "conv-c",
        json!({"solution_id": "change_address.awaiting_shipment", "event": "sent", "action_id": "hold_shipment"})).await;
    assert!(v["message"].is_object(), "{v}");
    // The warehouse note is for the shop, not the buyer.
    let msgs = messages_seen(&store, "conv-c", &who).await;
    let types: Vec<&str> = msgs
        .iter()
        .filter_map(|m| m["body"]["type"].as_str())
        .collect();
    assert!(
        types.contains(&"address_change_form") && !types.contains(&"shipment_hold"),
        "{types:?}"
    );

    let (_, panel) = ask_and_confirm(
        &store,
        OrderNode::AwaitingShipment,
        "conv-x",
        "不想要了，帮我取消订单吧",
        "cancel_order",
    )
    .await;
    assert_eq!(
        panel["solution"]["solution_id"],
        "cancel_order.awaiting_shipment"
    );
    let v = use_panel(&store, "conv-x",
        json!({"solution_id": "cancel_order.awaiting_shipment", "event": "sent", "action_id": "send_cancel_entry"})).await;
    assert_eq!(
        v["message"]["body"]["type"].as_str(),
        Some("cancel_entry"),
        "{v}"
    );

    let (_, panel) = ask_and_confirm(
        &store,
        OrderNode::Delivered,
        "conv-f",
        "收到的东西不合适，我要退货退款",
        "refund_return",
    )
    .await;
    assert_eq!(panel["solution"]["solution_id"], "refund_return.delivered");
    assert_eq!(
        panel["solution"]["actions"][0]["action_id"],
        "send_after_sale_entry"
    );
}
