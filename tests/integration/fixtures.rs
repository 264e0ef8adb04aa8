//! Every handler fed the fixture events in events/: the same files `sam local invoke -e` and
//! `cargo lambda invoke --data-file` use.

use crate::support::*;
use assistant_aws::http::response_json;
use assistant_aws::routes::Route;
use assistant_aws::DynamoStore;
use assistant_testkit::fixtures::solution_in;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

/// Plays the fixture `file` (in the conversation `conv`, for those that name one) on the function
/// the route registry names for its route; asserts the answer's `status` and returns its body.
async fn play(store: &DynamoStore, file: &str, status: i64, conv: &str) -> Value {
    let event = event_file_in(file, conv);
    let key = event.route_key.clone().unwrap_or_default();
    let function = Route::from_key(&key)
        .unwrap_or_else(|| panic!("{file}: {key} is in the route registry"))
        .function();
    let (got, v) = invoke(store, function, event, NOW).await;
    assert_eq!(got, status, "{file}: {v}");
    v
}

#[tokio::test]
async fn the_urge_shipment_fixtures_play_the_flow_in_order() {
    let store = seeded().await;

    let v = play(&store, "intake-open-conversation.json", 201, "").await;
    assert!(v["classification"].is_null() && v["panel"].is_null(), "{v}");
    assert_eq!(v["card"]["guess"]["order_id"], "6930000000000000001");
    let conv = v["conversation_id"].as_str().expect("minted").to_string();
    let conv = conv.as_str();

    let v = play(&store, "order-card-get.json", 200, conv).await;
    assert_eq!(v["guess"]["title"], "纯棉四件套 1.8m床");

    let v = play(&store, "order-card-select.json", 200, conv).await;
    assert_eq!(v["order"]["node"], "overdue");

    let v = play(&store, "suggest-get-panel.json", 200, conv).await;
    assert_eq!(v["solution"]["solution_id"], "urge_shipment.overdue");

    let v = play(&store, "suggest-use-solution.json", 201, conv).await;
    assert_eq!(v["message"]["sender"]["id"], "agent-xiaomei");

    // A follow-up in the same conversation: the buyer now waits for a person.
    let v = play(&store, "intake-post-message.json", 201, conv).await;
    assert!(v["card"].is_null(), "the order is confirmed: {v}");
    let v = play(&store, "intake-list-messages.json", 200, conv).await;
    assert_eq!(v["messages"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_workbench_fixtures_edit_replies_send_feedback_and_read_figures() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    // The robot goes on (it is off in the demo data), then the admin edits a reply.
    let v = play(&store, "robot-put.json", 200, "").await;
    assert_eq!(v["on"], true);
    let v = play(&store, "robot-get.json", 200, "").await;
    assert_eq!(v["version"].as_i64(), Some(1), "{v}");
    let v = play(&store, "replies-put.json", 200, "").await;
    assert_eq!(v["version"], 1);
    let v = play(&store, "replies-get.json", 200, "").await;
    let overdue = solution_in(&v["solutions"], "urge_shipment.overdue");
    assert_eq!(overdue["edited"], true);
    assert_eq!(overdue["replies"].as_array().unwrap().len(), 2);
    assert_eq!(v["history"][0]["by"], "admin-lin");

    // The conversation of the feedback fixture exists once the buyer has written.
    let v = play(&store, "intake-open-conversation.json", 201, "").await;
    let conv = v["conversation_id"].as_str().expect("minted").to_string();
    let conv = conv.as_str();
    let post = event_file_in("feedback-post.json", conv);
    let resp = feedback::handle(&store, &blobs, post, NOW).await;
    let v = response_json(&resp);
    assert_eq!(resp.status_code, 201, "{v}");
    let id = v["feedback"]["feedback_id"].as_str().unwrap().to_string();
    assert_eq!(v["feedback"]["screenshots"][0]["content_type"], "image/png");
    let resp = feedback::handle(&store, &blobs, event_file("feedback-list.json"), NOW).await;
    let v = response_json(&resp);
    assert_eq!(resp.status_code, 200, "{v}");
    assert_eq!(v["items"][0]["feedback_id"], id.as_str());
    let mut shot = event_file("feedback-screenshot.json");
    shot.path_parameters
        .insert("feedback_id".into(), id.clone());
    let resp = feedback::handle(&store, &blobs, shot, NOW).await;
    assert_eq!(resp.status_code, 200);
    assert!(resp.is_base64_encoded);
    assert_eq!(resp.headers["content-type"], "image/png");

    let v = play(&store, "suggest-adoption-shop.json", 200, "").await;
    let row = solution_in(&v["rows"], "urge_shipment.overdue");
    assert_eq!(row["feedback"], 1);
    let v = play(&store, "suggest-adoption-all.json", 200, "").await;
    assert!(!v["rows"].as_array().unwrap().is_empty());

    play(&store, "intake-agent-message.json", 201, conv).await;
    let v = play(&store, "intake-queue.json", 200, "").await;
    assert_eq!(
        v["items"].as_array().unwrap().len(),
        0,
        "the agent answered: {v}"
    );
}

#[tokio::test]
async fn without_identity_every_function_says_401_first() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    for file in [
        "replies-get.json",
        "robot-put.json",
        "intake-queue.json",
        "push-ticket.json",
    ] {
        let mut event = event_file(file);
        event.request_context.authorizer = None;
        let function = if file.starts_with("intake") {
            Function::Intake
        } else if file.starts_with("push") {
            Function::Push
        } else {
            Function::Replies
        };
        assert_eq!(invoke(&store, function, event, NOW).await.0, 401, "{file}");
    }
    let mut event = event_file("feedback-post.json");
    event.request_context.authorizer = None;
    assert_eq!(
        feedback::handle(&store, &blobs, event, NOW)
            .await
            .status_code,
        401
    );
    assert!(blobs.keys("").await.unwrap().is_empty());
}

#[tokio::test]
async fn the_schedule_fixture_runs_a_sweep() {
    let store = seeded().await;
    // The overdue buyer asks with the order number: a compensation is due.
    let (status, _) = call(
        &store,
        POST_MESSAGE,
        "c1",
        &buyer(MAIN_BUYER),
        Some(serde_json::json!({"shop_id": SHOP, "text": "6930000000000000001 什么时候发货"})),
    )
    .await;
    assert_eq!(status, 201);
    let text = std::fs::read_to_string(
        integration_tests::workspace_root().join("events/compensate-schedule.json"),
    )
    .unwrap();
    let event: EventBridgeEvent<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let report = compensate::handle(&store, &event, NOW).await.unwrap();
    assert_eq!((report.examined, report.paid, report.fen_paid), (1, 1, 300));
    // The same event delivered again pays nothing more.
    let again = compensate::handle(&store, &event, NOW).await.unwrap();
    assert_eq!((again.examined, again.paid), (0, 0));
}

#[test]
fn every_fixture_is_a_valid_event() {
    let dir = integration_tests::workspace_root().join("events");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            continue; // events/schema: the order events' JSON Schema
        }
        if name.starts_with("push-") && name != "push-ticket.json" {
            // The WebSocket API's events (tests/integration/push.rs plays them in order).
            let e = crate::push::socket_file(&name, "");
            let key = e.request_context.route_key.as_deref().unwrap_or_default();
            assert!(
                assistant_aws::websocket::SocketRoute::from_key(key).is_some(),
                "{name}: {key}"
            );
            assert!(e.request_context.connection_id.is_some(), "{name}");
        } else if name.starts_with("compensate") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<EventBridgeEvent<serde_json::Value>>(&text).unwrap();
        } else if name.starts_with("order-") && !name.starts_with("order-card") {
            // The order system's events (tests/integration/orders.rs checks them whole).
            let text = std::fs::read_to_string(&path).unwrap();
            let e = serde_json::from_str::<EventBridgeEvent<serde_json::Value>>(&text).unwrap();
            assert_eq!(e.source, orders::SOURCE, "{name}");
        } else {
            let e = event_file(&name);
            assert!(e.route_key.is_some(), "{name}");
            assert!(e.request_context.authorizer.is_some(), "{name}");
        }
        n += 1;
    }
    assert!(n >= 10);
}
