//! The shop's side of the workbench against DynamoDB Local and moto S3: reply editing, the robot
//! and its priority, handoff and the queue, feedback with screenshots, adoption figures, and the
//! solutions of the other covered intents.

use crate::support::*;
use assistant_aws::s3::S3Blobs;
use assistant_aws::DynamoStore;
use assistant_cli::seed;
use assistant_domain::intent::IntentId;
use assistant_domain::model::conversation::{Conversation, Message};
use assistant_domain::model::feedback::Feedback;
use assistant_domain::model::ids::{ConversationId, ShopId};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::{Millis, HOUR, MINUTE};
use assistant_domain::model::usage::StatEvent;
use assistant_domain::ports::{
    BlobStore, ConversationChange, ConversationStore, FeedbackStore, Page,
};
use assistant_domain::{Error, Result};
use base64::Engine;
use serde_json::{json, Value};

const ADMIN: &str = seed::ADMIN;
const REPLIES: &str = "/shops/{shop_id}/replies/{intent}";
const ROBOT: &str = "/shops/{shop_id}/robot";

fn admin_of(shop: &str) -> Vec<(&str, &str)> {
    vec![("sub", ADMIN), ("role", "shop_admin"), ("shop_id", shop)]
}

fn platform() -> Vec<(&'static str, &'static str)> {
    vec![("sub", "ops-wang"), ("role", "platform")]
}

/// Calls a shop-level route (replies, robot, queue, adoption).
async fn shop_call(
    store: &DynamoStore,
    function: Function,
    route: &str,
    params: &[(&str, &str)],
    claims: &[(&str, &str)],
    body: Option<Value>,
) -> (i64, Value) {
    let event = local_event(route, params, claims, body.as_ref());
    invoke(store, function, event, NOW).await
}

async fn robot(
    store: &DynamoStore,
    on: bool,
    version: u64,
    answers: Option<Value>,
) -> (i64, Value) {
    let mut body = json!({"expected_version": version, "on": on});
    if let Some(a) = answers {
        body["answers"] = a;
    }
    shop_call(
        store,
        Function::Replies,
        &format!("PUT {ROBOT}"),
        &[("shop_id", SHOP)],
        &admin_of(SHOP),
        Some(body),
    )
    .await
}

async fn edit(store: &DynamoStore, claims: &[(&str, &str)], body: Value) -> (i64, Value) {
    shop_call(
        store,
        Function::Replies,
        &format!("PUT {REPLIES}"),
        &[("shop_id", SHOP), ("intent", "urge_shipment")],
        claims,
        Some(body),
    )
    .await
}

/// The main buyer's overdue order confirmed in a conversation; returns the agent's panel.
async fn overdue_panel(store: &DynamoStore, conv: &str) -> Value {
    let v = urge(store, conv, "我买的四件套怎么还没发货").await;
    let (status, v) = call(
        store,
        SELECT,
        conv,
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, panel) = call(store, PANEL, conv, &agent_of(SHOP), None).await;
    assert_eq!(status, 200);
    panel
}

#[tokio::test]
async fn editing_replies_needs_the_robot_and_applies_shop_wide() {
    let store = seeded().await;
    let new = json!({"expected_version": 0, "solution_id": "urge_shipment.overdue",
        "replies": ["抱歉久等了，订单{order_id}预计{new_ship_time}发出～", "给您添麻烦了，我们一直盯着呢"]});

    // Robot off: refused with a reason, nothing stored.
    let refused = edit(&store, &admin_of(SHOP), new.clone()).await;
    let msg = assert_error(&refused, 409);
    assert_eq!(refused.1["error"]["code"], "robot_off");
    assert!(msg.contains("飞鸽机器人"), "{msg}");
    let (_, v) = shop_call(
        &store,
        Function::Replies,
        &format!("GET {REPLIES}"),
        &[("shop_id", SHOP), ("intent", "urge_shipment")],
        &agent_of(SHOP),
        None,
    )
    .await;
    assert_eq!(v["version"], 0);
    assert!(v["history"].as_array().unwrap().is_empty());

    assert_eq!(robot(&store, true, 0, None).await.0, 200);
    // Only the shop's own admin edits; bad replies are 400s naming the problem.
    assert_error(&edit(&store, &agent_of(SHOP), new.clone()).await, 403);
    assert_error(
        &edit(&store, &admin_of(seed::OTHER_SHOP), new.clone()).await,
        404,
    );
    let mut bad = new.clone();
    bad["replies"] = json!(["{phone}请联系我"]);
    assert!(assert_error(&edit(&store, &admin_of(SHOP), bad).await, 400).contains("{phone}"));
    bad = new.clone();
    bad["replies"] = json!(["a", "b", "c", "d"]);
    assert!(assert_error(&edit(&store, &admin_of(SHOP), bad).await, 400).contains("at most 2 more"));
    bad = new.clone();
    bad["solution_id"] = json!("logistics.shipped");
    assert_error(&edit(&store, &admin_of(SHOP), bad).await, 400);

    let (status, v) = edit(&store, &admin_of(SHOP), new.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["version"], 1);
    // The same edit over a stale version loses: 409, never a silent overwrite.
    let stale = edit(&store, &admin_of(SHOP), new.clone()).await;
    assert_eq!(stale.1["error"]["code"], "conflict", "{}", stale.1);

    // Every agent's next panel for that solution shows the shop's replies, filled in.
    let panel = overdue_panel(&store, "conv-edit").await;
    let replies = panel["solution"]["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 2, "{panel}");
    assert!(replies[0]["text"]
        .as_str()
        .unwrap()
        .contains("6930000000000000001"));
    assert_eq!(replies[0]["source"], "shop");
    assert_eq!(replies[1]["source"], "shop_extra");
    // Sending reply 1 sends the shop's extra reply.
    let (status, v) = call(
        &store,
        USE,
        "conv-edit",
        &agent_of(SHOP),
        Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 1})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["message"]["body"]["text"], "给您添麻烦了，我们一直盯着呢");

    // Robot off again: the official solution is back (the edit is kept for later).
    assert_eq!(robot(&store, false, 1, None).await.0, 200);
    let (_, panel) = call(&store, PANEL, "conv-edit", &agent_of(SHOP), None).await;
    assert_eq!(panel["solution"]["replies"][0]["source"], "official");
    assert_eq!(robot(&store, true, 2, None).await.0, 200);

    // Reset to official, recorded with before and after.
    let (status, v) = edit(
        &store,
        &admin_of(SHOP),
        json!({"expected_version": 1, "solution_id": "urge_shipment.overdue", "reset": true}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["after"], json!([]));
    assert_eq!(history[1]["before"], json!([]));
    assert_eq!(history[1]["by"], ADMIN);
    let (_, panel) = call(&store, PANEL, "conv-edit", &agent_of(SHOP), None).await;
    assert_eq!(panel["solution"]["replies"][0]["source"], "official");
}

#[tokio::test]
async fn concurrent_edits_one_wins_the_other_gets_409() {
    let store = seeded().await;
    assert_eq!(robot(&store, true, 0, None).await.0, 200);
    let body = |text: &str| json!({"expected_version": 0, "solution_id": "urge_shipment.shipped", "replies": [text]});
    let admin = admin_of(SHOP);
    let (a, b) = tokio::join!(
        edit(&store, &admin, body("版本甲：已经发货啦")),
        edit(&store, &admin, body("版本乙：包裹在路上啦"))
    );
    let statuses = {
        let mut s = vec![a.0, b.0];
        s.sort();
        s
    };
    assert_eq!(statuses, vec![200, 409], "{} / {}", a.1, b.1);
    let (_, v) = shop_call(
        &store,
        Function::Replies,
        &format!("GET {REPLIES}"),
        &[("shop_id", SHOP), ("intent", "urge_shipment")],
        &admin_of(SHOP),
        None,
    )
    .await;
    let winner = if a.0 == 200 {
        "版本甲：已经发货啦"
    } else {
        "版本乙：包裹在路上啦"
    };
    let shipped = v["solutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["solution_id"] == "urge_shipment.shipped")
        .unwrap()
        .clone();
    assert_eq!(shipped["replies"], json!([winner]));
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_robot_answers_only_what_the_assistant_does_not_cover() {
    let store = seeded().await;
    let answers = json!({"invoice": "亲，发票可以在订单详情里自助申请～"});
    // A robot answer for a covered intent is refused: the assistant's solution always wins.
    assert_error(
        &robot(&store, true, 0, Some(json!({"logistics": "机器人说"}))).await,
        400,
    );
    assert_eq!(robot(&store, false, 0, Some(answers.clone())).await.0, 200);

    // Robot off: nothing answers the invoice question, the panel has nothing to offer.
    let (status, v) = call(
        &store,
        POST_MESSAGE,
        "conv-r",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "能开发票吗？要增值税普通发票"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert!(v["robot_reply"].is_null());
    let seen = agents_see(&store, "conv-r").await;
    assert_eq!(seen["classification"]["intent"], "invoice");
    assert_eq!(seen["panel"]["state"], "not_covered");

    // Robot on: it answers, the panel says so.
    assert_eq!(robot(&store, true, 1, None).await.0, 200);
    let (_, v) = call(
        &store,
        POST_MESSAGE,
        "conv-r",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "发票怎么开呀"})),
    )
    .await;
    assert_eq!(v["robot_reply"]["sender"]["role"], "robot", "{v}");
    assert_eq!(
        v["robot_reply"]["body"]["text"],
        "亲，发票可以在订单详情里自助申请～"
    );
    assert_eq!(
        agents_see(&store, "conv-r").await["panel"]["state"],
        "robot"
    );
    // A covered intent with the robot on: the assistant's card and solution, no robot reply.
    let v = urge(&store, "conv-r2", "什么时候发货啊").await;
    assert!(v["robot_reply"].is_null());
    assert!(v["card"].is_object());
    // An uncovered intent without a configured answer: nothing.
    let (_, v) = call(
        &store,
        POST_MESSAGE,
        "conv-r3",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "这个枕头是什么材质的？会不会掉毛"})),
    )
    .await;
    assert!(v["robot_reply"].is_null());
    let seen = agents_see(&store, "conv-r3").await;
    assert_eq!(
        seen["classification"]["intent"], "product_question",
        "{seen}"
    );
    assert_eq!(seen["panel"]["state"], "not_covered");
}

#[tokio::test]
async fn a_bad_robot_rating_hands_the_buyer_to_a_person_at_the_head_of_the_queue() {
    let store = seeded().await;
    assert_eq!(
        robot(
            &store,
            true,
            0,
            Some(json!({"invoice": "发票在订单详情里申请～"}))
        )
        .await
        .0,
        200
    );
    // Another buyer has been waiting for a while.
    let other = seed::node_buyers(NOW - HOUR)
        .into_iter()
        .find(|(n, _)| *n == OrderNode::Shipped)
        .unwrap()
        .1;
    let event = local_event(
        POST_MESSAGE,
        &[("conversation_id", "conv-early")],
        &buyer(other.buyer_id.as_str()),
        Some(&json!({"shop_id": SHOP, "text": "在吗"})),
    );
    assert_eq!(
        invoke(&store, Function::Intake, event, NOW - 10 * MINUTE)
            .await
            .0,
        201
    );

    let (_, v) = call(
        &store,
        POST_MESSAGE,
        "conv-h",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "怎么开发票"})),
    )
    .await;
    let robot_msg = v["robot_reply"]["message_id"].as_str().unwrap().to_string();
    // Answered by the robot: not waiting for a person.
    let queue = |claims: Vec<(&'static str, &'static str)>| {
        let store = store.clone();
        async move {
            shop_call(
                &store,
                Function::Intake,
                "GET /shops/{shop_id}/queue",
                &[("shop_id", SHOP)],
                &claims,
                None,
            )
            .await
        }
    };
    let (status, q) = queue(agent_of(SHOP)).await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["conversation_id"], "conv-early");
    assert_eq!(q["items"][0]["waited_ms"], 10 * MINUTE);

    // Only the robot's messages can be rated, only by the buyer.
    let rate = |id: String, claims: Vec<(&'static str, &'static str)>, rating: &'static str| {
        let store = store.clone();
        async move {
            call(
                &store,
                "POST /conversations/{conversation_id}/robot-rating",
                "conv-h",
                &claims,
                Some(json!({"message_id": id, "rating": rating})),
            )
            .await
        }
    };
    let buyer_msg = v["message"]["message_id"].as_str().unwrap().to_string();
    assert_error(&rate(buyer_msg, buyer(MAIN_BUYER), "bad").await, 400);
    assert_error(&rate(robot_msg.clone(), agent_of(SHOP), "bad").await, 403);
    let (status, r) = rate(robot_msg.clone(), buyer(MAIN_BUYER), "good").await;
    assert_eq!(
        (status, r["handed_off"].as_bool()),
        (200, Some(false)),
        "{r}"
    );

    let (status, r) = rate(robot_msg, buyer(MAIN_BUYER), "bad").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["handed_off"], true);
    assert_eq!(r["message"]["body"]["text"], "已为您转接人工客服，请稍候～");
    // The buyer sees the handoff in the conversation; the robot stays out from now on.
    let (_, msgs) = call(&store, LIST_MESSAGES, "conv-h", &buyer(MAIN_BUYER), None).await;
    let texts: Vec<&str> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"已为您转接人工客服，请稍候～"), "{texts:?}");
    let (_, v) = call(
        &store,
        POST_MESSAGE,
        "conv-h",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "发票到底怎么开"})),
    )
    .await;
    assert!(v["robot_reply"].is_null(), "{v}");

    // The queue: longest wait first; the handed-off one is marked.
    let (_, q) = queue(agent_of(SHOP)).await;
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{q}");
    assert_eq!(items[0]["conversation_id"], "conv-early");
    assert_eq!(items[1]["conversation_id"], "conv-h");
    assert_eq!(items[1]["handed_off"], true);
    assert_eq!(items[1]["last_text"], "怎么开发票");
    // Another shop's staff do not see it; a buyer may not ask.
    assert_error(
        &shop_call(
            &store,
            Function::Intake,
            "GET /shops/{shop_id}/queue",
            &[("shop_id", SHOP)],
            &agent_of(seed::OTHER_SHOP),
            None,
        )
        .await,
        404,
    );
    assert_error(&queue(buyer(MAIN_BUYER)).await, 403);

    // An agent answers: that buyer leaves the queue.
    let (status, v) = call(
        &store,
        POST_MESSAGE,
        "conv-early",
        &agent_of(SHOP),
        Some(json!({"text": "在的，您说～"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let (_, q) = queue(agent_of(SHOP)).await;
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["conversation_id"], "conv-h");
    // Staff cannot write into another shop's conversation.
    assert_error(
        &call(
            &store,
            POST_MESSAGE,
            "conv-early",
            &agent_of(seed::OTHER_SHOP),
            Some(json!({"text": "hi"})),
        )
        .await,
        404,
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

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn post_feedback<B: BlobStore>(
    store: &impl assistant_domain::ports::Store,
    blobs: &B,
    claims: &[(&str, &str)],
    body: Value,
) -> (i64, Value) {
    let event = local_event("POST /feedback", &[], claims, Some(&body));
    let resp = feedback::handle(store, blobs, event, NOW).await;
    (resp.status_code, assistant_aws::http::response_json(&resp))
}

async fn list_feedback(
    store: &DynamoStore,
    blobs: &S3Blobs,
    claims: &[(&str, &str)],
    query: &[(&str, &str)],
) -> (i64, Value) {
    let mut event = local_event("GET /feedback", &[], claims, None);
    let q: std::collections::HashMap<String, String> = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    event.query_string_parameters = q.into();
    let resp = feedback::handle(store, blobs, event, NOW).await;
    (resp.status_code, assistant_aws::http::response_json(&resp))
}

fn feedback_body(shots: Vec<String>) -> Value {
    json!({"intent": "urge_shipment", "solution_id": "urge_shipment.overdue",
        "description": "新的发货日期说得太死，周末仓库不发货", "screenshots": shots})
}

#[tokio::test]
async fn feedback_with_screenshots_is_stored_whole_and_read_by_the_right_people() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    let (status, v) = post_feedback(
        &store,
        &blobs,
        &agent_of(SHOP),
        feedback_body(vec![b64(&png(100)), b64(&png(2000))]),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let fb = &v["feedback"];
    assert_eq!(fb["author"], "agent-xiaomei");
    assert_eq!(fb["screenshots"].as_array().unwrap().len(), 2);
    assert_eq!(blobs.keys("feedback/").await.unwrap().len(), 2);

    // Multipart works too (the workbench's upload form).
    let boundary = "XyZ123";
    let mut body = Vec::new();
    for (name, value) in [
        ("intent", "logistics"),
        ("description", "物流卡片里的状态不对"),
    ] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"screenshot\"; filename=\"a.gif\"\r\nContent-Type: image/gif\r\n\r\n").as_bytes());
    body.extend(png(50));
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut event = local_event("POST /feedback", &[], &admin_of(SHOP), None);
    event.headers.insert(
        "content-type",
        format!("multipart/form-data; boundary={boundary}")
            .parse()
            .unwrap(),
    );
    event.body = Some(b64(&body));
    event.is_base64_encoded = true;
    let resp = feedback::handle(&store, &blobs, event, NOW + 1).await;
    let v = assistant_aws::http::response_json(&resp);
    assert_eq!(resp.status_code, 201, "{v}");
    // Recognised by its bytes, whatever the part said.
    assert_eq!(v["feedback"]["screenshots"][0]["content_type"], "image/png");

    // Listing: the platform sees all, newest first, by intent; a shop admin their own shop only.
    let (status, all) = list_feedback(&store, &blobs, &platform(), &[]).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert_eq!(all["items"][0]["intent"], "logistics");
    let (_, only) =
        list_feedback(&store, &blobs, &platform(), &[("intent", "urge_shipment")]).await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let (status, mine) = list_feedback(&store, &blobs, &admin_of(SHOP), &[]).await;
    assert_eq!((status, mine["items"].as_array().unwrap().len()), (200, 2));
    let (_, theirs) = list_feedback(&store, &blobs, &admin_of(seed::OTHER_SHOP), &[]).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());
    // Another shop's feedback is a 404, as another shop's figures, replies or queue (one access
    // policy: `assistant_domain::access`); it was a 403 before the policy was made one.
    assert_error(
        &list_feedback(
            &store,
            &blobs,
            &admin_of(seed::OTHER_SHOP),
            &[("shop_id", SHOP)],
        )
        .await,
        404,
    );
    assert_error(
        &list_feedback(&store, &blobs, &agent_of(SHOP), &[]).await,
        403,
    );
    assert_error(
        &list_feedback(&store, &blobs, &platform(), &[("limit", "0")]).await,
        400,
    );
    assert_error(
        &list_feedback(&store, &blobs, &platform(), &[("cursor", "garbage")]).await,
        400,
    );

    // Paging: one at a time, no repeats, no gaps.
    let (_, p1) = list_feedback(&store, &blobs, &platform(), &[("limit", "1")]).await;
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    let (_, p2) = list_feedback(
        &store,
        &blobs,
        &platform(),
        &[("limit", "1"), ("cursor", &cursor)],
    )
    .await;
    assert_ne!(p1["items"][0]["feedback_id"], p2["items"][0]["feedback_id"]);
    assert!(p2["next_cursor"].is_null(), "{p2}");

    // The screenshot itself: to the shop's admin and the platform, not another shop.
    let id = fb["feedback_id"].as_str().unwrap();
    let shot = |claims: Vec<(&'static str, &'static str)>| {
        let event = local_event(
            "GET /feedback/{feedback_id}/screenshots/{index}",
            &[("feedback_id", id), ("index", "1")],
            &claims,
            None,
        );
        let (store, blobs) = (store.clone(), blobs.clone());
        async move { feedback::handle(&store, &blobs, event, NOW).await }
    };
    let resp = shot(admin_of(SHOP)).await;
    assert_eq!(resp.status_code, 200);
    let Some(aws_lambda_events::encodings::Body::Binary(bytes)) = resp.body else {
        panic!("binary body")
    };
    assert_eq!(bytes, png(2000));
    assert_eq!(shot(platform()).await.status_code, 200);
    assert_eq!(shot(admin_of(seed::OTHER_SHOP)).await.status_code, 404);
}

#[tokio::test]
async fn bad_feedback_is_refused_and_leaves_nothing_behind() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    let gif = b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00");
    let cases = [
        (
            feedback_body(vec![b64(&png(10)), gif]),
            400,
            "screenshots[1]",
        ),
        (feedback_body(vec![b64(&png(10)); 4]), 400, "at most 3"),
        (feedback_body(vec!["%%%not base64".into()]), 400, "base64"),
        (feedback_body(vec![b64(&png(1024 * 1024))]), 400, "1024 KiB"),
        (
            json!({"intent": "urge_shipment", "description": "  "}),
            400,
            "description",
        ),
        (json!({"intent": "nope", "description": "x"}), 400, "intent"),
        (
            json!({"intent": "urge_shipment", "description": "x", "conversation_id": "conv-nobody"}),
            404,
            "",
        ),
    ];
    for (body, status, needle) in cases {
        let r = post_feedback(&store, &blobs, &agent_of(SHOP), body).await;
        let msg = assert_error(&r, status);
        assert!(msg.contains(needle), "{msg}");
    }
    // Over the body limit: 413.
    let r = post_feedback(
        &store,
        &blobs,
        &agent_of(SHOP),
        feedback_body(vec![b64(&png(1_000_000)); 4]),
    )
    .await;
    assert_error(&r, 413);
    // Broken multipart and an unknown media type.
    let mut event = local_event("POST /feedback", &[], &agent_of(SHOP), None);
    event.headers.insert(
        "content-type",
        "multipart/form-data; boundary=abc".parse().unwrap(),
    );
    event.body =
        Some("--abc\r\nContent-Disposition: form-data; name=\"intent\"\r\n\r\nlogis".into());
    assert_eq!(
        feedback::handle(&store, &blobs, event, NOW)
            .await
            .status_code,
        400
    );
    let mut event = local_event("POST /feedback", &[], &agent_of(SHOP), None);
    event
        .headers
        .insert("content-type", "text/plain".parse().unwrap());
    event.body = Some("hello".into());
    assert_eq!(
        feedback::handle(&store, &blobs, event, NOW)
            .await
            .status_code,
        415
    );
    // A buyer may not send feedback.
    assert_error(
        &post_feedback(&store, &blobs, &buyer(MAIN_BUYER), feedback_body(vec![])).await,
        403,
    );

    assert!(
        blobs.keys("").await.unwrap().is_empty(),
        "no orphan objects"
    );
    let (_, all) = list_feedback(&store, &blobs, &platform(), &[]).await;
    assert!(
        all["items"].as_array().unwrap().is_empty(),
        "no records: {all}"
    );
}

/// Storage that fails where we say: the third screenshot upload, or the record's write.
#[derive(Clone)]
struct Failing {
    store: DynamoStore,
    blobs: S3Blobs,
    fail_upload: usize,
    fail_record: bool,
    uploads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl BlobStore for Failing {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        let n = self
            .uploads
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if n == self.fail_upload {
            return Err(Error::Unavailable("injected S3 failure".into()));
        }
        self.blobs.put_blob(key, bytes, content_type).await
    }
    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.blobs.get_blob(key).await
    }
    async fn delete_blob(&self, key: &str) -> Result<()> {
        self.blobs.delete_blob(key).await
    }
}

impl FeedbackStore for Failing {
    async fn put_feedback(&self, feedback: &Feedback, stat: &StatEvent) -> Result<()> {
        if self.fail_record {
            return Err(Error::Unavailable("injected DynamoDB failure".into()));
        }
        self.store.put_feedback(feedback, stat).await
    }
    async fn feedback_page(
        &self,
        shop: Option<&ShopId>,
        intent: Option<IntentId>,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Feedback>> {
        self.store.feedback_page(shop, intent, limit, after).await
    }
    async fn feedback(&self, id: &str) -> Result<Option<Feedback>> {
        self.store.feedback(id).await
    }
}

impl ConversationStore for Failing {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        self.store.conversation(id).await
    }
    async fn messages(&self, id: &ConversationId, limit: usize) -> Result<Vec<Message>> {
        self.store.messages(id, limit).await
    }
    async fn commit(&self, change: ConversationChange) -> Result<()> {
        self.store.commit(change).await
    }
    async fn waiting(
        &self,
        shop: &ShopId,
        limit: usize,
    ) -> Result<Vec<assistant_domain::ports::WaitingConversation>> {
        self.store.waiting(shop, limit).await
    }
    async fn append(&self, message: &Message) -> Result<()> {
        self.store.append(message).await
    }
}

#[tokio::test]
async fn a_failure_part_way_leaves_no_orphan_object_and_no_record() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    let actor = assistant_domain::model::identity::Actor::from_claims(
        Some("agent-xiaomei"),
        Some("agent"),
        Some(SHOP),
    )
    .unwrap();
    let form = || assistant_domain::model::feedback::FeedbackForm {
        intent: Some("urge_shipment".into()),
        description: Some("截图里是买家的原话".into()),
        screenshots: vec![png(10), png(20), png(30)],
        ..Default::default()
    };
    for (fail_upload, fail_record) in [(3, false), (0, true)] {
        let failing = Failing {
            store: store.clone(),
            blobs: blobs.clone(),
            fail_upload,
            fail_record,
            uploads: Default::default(),
        };
        let err =
            assistant_domain::usecases::post_feedback(&failing, &failing, &actor, form(), NOW)
                .await
                .unwrap_err();
        assert_eq!(err.code(), "unavailable");
        assert!(
            blobs.keys("").await.unwrap().is_empty(),
            "no orphans after fail_upload={fail_upload} fail_record={fail_record}"
        );
    }
    let page = store.feedback_page(None, None, 10, None).await.unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn adoption_figures_count_each_use_and_stay_in_their_shop() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    overdue_panel(&store, "conv-a").await; // shown once, however often the panel is fetched
    let (status, _) = call(
        &store,
        USE,
        "conv-a",
        &agent_of(SHOP),
        Some(json!({"solution_id": "urge_shipment.overdue", "event": "copied", "reply_index": 0})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&store, USE, "conv-a", &agent_of(SHOP),
        Some(json!({"solution_id": "urge_shipment.overdue", "event": "edited_sent", "reply_index": 0, "text": "抱歉抱歉，今天一定发"}))).await;
    assert_eq!(status, 201);
    assert_eq!(
        post_feedback(&store, &blobs, &agent_of(SHOP), feedback_body(vec![]))
            .await
            .0,
        201
    );

    let adoption = |claims: Vec<(&'static str, &'static str)>, shop: &'static str| {
        let store = store.clone();
        async move {
            shop_call(
                &store,
                Function::Suggest,
                "GET /shops/{shop_id}/adoption",
                &[("shop_id", shop)],
                &claims,
                None,
            )
            .await
        }
    };
    let (status, v) = adoption(admin_of(SHOP), SHOP).await;
    assert_eq!(status, 200, "{v}");
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["solution_id"] == "urge_shipment.overdue")
        .unwrap()
        .clone();
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
    assert_error(&adoption(admin_of(seed::OTHER_SHOP), SHOP).await, 404);
    assert_error(&adoption(agent_of(SHOP), SHOP).await, 403);
    let (status, v) = adoption(platform(), SHOP).await;
    assert_eq!((status, v["rows"].as_array().unwrap().len()), (200, 1));
    let (status, all) = shop_call(
        &store,
        Function::Suggest,
        "GET /adoption",
        &[],
        &platform(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{all}");
    assert!(all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["shop_id"] == SHOP));
    assert_error(
        &shop_call(
            &store,
            Function::Suggest,
            "GET /adoption",
            &[],
            &admin_of(SHOP),
            None,
        )
        .await,
        403,
    );
}

// ---- the other covered intents --------------------------------------------------------------

/// A node's buyer asks `text` in a new conversation and confirms the card; returns the panel.
async fn ask_and_confirm(
    store: &DynamoStore,
    node: OrderNode,
    conv: &str,
    text: &str,
    intent: &str,
) -> (String, Value) {
    let order = seed::node_buyers(NOW - HOUR)
        .into_iter()
        .find(|(n, _)| *n == node)
        .unwrap()
        .1;
    let claims = buyer(order.buyer_id.as_str());
    let (status, v) = call(
        store,
        POST_MESSAGE,
        conv,
        &claims,
        Some(json!({"shop_id": SHOP, "text": text})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let seen = agents_see(store, conv).await;
    assert_eq!(seen["classification"]["intent"], intent, "{text}: {seen}");
    let (status, v) = call(
        store,
        SELECT,
        conv,
        &claims,
        Some(json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, panel) = call(store, PANEL, conv, &agent_of(SHOP), None).await;
    assert_eq!(status, 200, "{panel}");
    (order.buyer_id.to_string(), panel)
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

    let (buyer_id, panel) = ask_and_confirm(
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
    let (status, v) = call(&store, USE, "conv-c", &agent_of(SHOP),
        Some(json!({"solution_id": "change_address.awaiting_shipment", "event": "sent", "action_id": "send_address_change_form"}))).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["message"]["body"]["type"], "address_change_form");
    assert_eq!(v["message"]["body"]["before_shipping"], true);
    let (status, v) = call(&store, USE, "conv-c", &agent_of(SHOP),
        Some(json!({"solution_id": "change_address.awaiting_shipment", "event": "sent", "action_id": "hold_shipment"}))).await;
    assert_eq!(status, 201, "{v}");
    // The warehouse note is for the shop, not the buyer.
    let (_, msgs) = call(&store, LIST_MESSAGES, "conv-c", &buyer(&buyer_id), None).await;
    let types: Vec<&str> = msgs["messages"]
        .as_array()
        .unwrap()
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
    let (status, v) = call(&store, USE, "conv-x", &agent_of(SHOP),
        Some(json!({"solution_id": "cancel_order.awaiting_shipment", "event": "sent", "action_id": "send_cancel_entry"}))).await;
    assert_eq!(
        (status, v["message"]["body"]["type"].as_str()),
        (201, Some("cancel_entry")),
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

/// The conversation store's queue read returns only waiting conversations, oldest wait first.
#[tokio::test]
async fn the_waiting_index_is_sparse() {
    let store = seeded().await;
    for (i, conv) in ["q1", "q2", "q3"].iter().enumerate() {
        let event = local_event(
            POST_MESSAGE,
            &[("conversation_id", conv)],
            &buyer(MAIN_BUYER),
            Some(&json!({"shop_id": SHOP, "text": "你好"})),
        );
        let at: Millis = NOW - (3 - i as i64) * MINUTE;
        assert_eq!(invoke(&store, Function::Intake, event, at).await.0, 201);
    }
    call(
        &store,
        POST_MESSAGE,
        "q2",
        &agent_of(SHOP),
        Some(json!({"text": "您好"})),
    )
    .await;
    let waiting = store
        .waiting(&ShopId::parse(SHOP).unwrap(), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = waiting.iter().map(|c| c.conversation_id.as_str()).collect();
    assert_eq!(ids, vec!["q1", "q3"]);
}

/// `WaitingIndex` projects only what the queue shows: a step that changes a waiting conversation
/// but not its wait (answering the card) rewrites META and leaves the index alone, and the queue
/// still shows what the buyer started waiting with.
#[tokio::test]
async fn a_waiting_conversations_other_steps_do_not_rewrite_the_queue_index() {
    let store = seeded().await;
    let index_units = |store: &DynamoStore| {
        store
            .capacity_by_part()
            .iter()
            .filter(|(part, _)| part.ends_with("/WaitingIndex"))
            .map(|(_, units)| *units)
            .sum::<f64>()
    };
    let (status, asked) = call(
        &store,
        POST_MESSAGE,
        "wq",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": SHOP, "text": "我买的四件套怎么还没发货啊"})),
    )
    .await;
    assert_eq!(status, 201);
    let entered = index_units(&store);
    assert!(entered > 0.0, "the wait starting writes the index");

    let (status, _) = call(
        &store,
        SELECT,
        "wq",
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": asked["card"]["card_id"]})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        index_units(&store),
        entered,
        "answering the card left the index alone"
    );

    let queue = store
        .waiting(&ShopId::parse(SHOP).unwrap(), 10)
        .await
        .unwrap();
    let entry = queue
        .iter()
        .find(|w| w.conversation_id.as_str() == "wq")
        .expect("still waiting");
    assert_eq!(entry.preview.as_deref(), Some("我买的四件套怎么还没发货啊"));
    assert!(!entry.handed_off);
}
