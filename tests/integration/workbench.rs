//! The shop's side of the workbench through the feedback handler, against DynamoDB Local and moto
//! S3: feedback as JSON and multipart with screenshots, read by the right people, bad feedback
//! leaving nothing behind; and the queue's index in DynamoDB. Reply editing, the robot, handoff
//! and the queue, adoption figures and the other covered intents run on the in-memory twin
//! (shared/domain/tests/usecases/workbench.rs).

use crate::support::*;
use assistant_aws::s3::S3Blobs;
use assistant_aws::DynamoStore;
use assistant_cli::seed;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::time::{Millis, MINUTE};
use assistant_domain::ports::{BlobStore, ConversationStore};
use base64::Engine;
use serde_json::{json, Value};

const ADMIN: &str = seed::ADMIN;

fn admin_of(shop: &str) -> Vec<(&str, &str)> {
    vec![("sub", ADMIN), ("role", "shop_admin"), ("shop_id", shop)]
}

fn platform() -> Vec<(&'static str, &'static str)> {
    vec![("sub", "ops-wang"), ("role", "platform")]
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

/// The conversation store's queue read returns only waiting conversations, oldest wait first.
#[tokio::test]
async fn the_waiting_index_is_sparse() {
    let store = seeded().await;
    for (i, conv) in ["q1", "q2", "q3"].iter().enumerate() {
        let at: Millis = NOW - (3 - i as i64) * MINUTE;
        assert_eq!(
            open_at(&store, conv, &buyer(MAIN_BUYER), "你好", at)
                .await
                .0,
            201
        );
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
    let q = |name| conversation_id(&store, name);
    assert_eq!(ids, vec![q("q1"), q("q3")]);
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
        .find(|w| w.conversation_id.as_str() == conversation_id(&store, "wq"))
        .expect("still waiting");
    assert_eq!(entry.preview.as_deref(), Some("我买的四件套怎么还没发货啊"));
    assert!(!entry.handed_off);
}
