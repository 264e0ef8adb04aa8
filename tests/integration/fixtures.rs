//! Every handler fed the fixture events in events/: the same files `sam local invoke -e` and
//! `cargo lambda invoke --data-file` use.

use crate::support::*;
use assistant_aws::http::response_json;
use aws_lambda_events::eventbridge::EventBridgeEvent;

#[tokio::test]
async fn the_urge_shipment_fixtures_play_the_flow_in_order() {
    let store = seeded().await;

    let (status, v) = invoke(
        &store,
        Function::Intake,
        event_file("intake-post-message.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["classification"]["intent"], "urge_shipment");
    assert_eq!(v["card"]["guess"]["order_id"], "6930000000000000001");

    let (status, v) = invoke(
        &store,
        Function::OrderCard,
        event_file("order-card-get.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["guess"]["title"], "纯棉四件套 1.8m床");

    let (status, v) = invoke(
        &store,
        Function::OrderCard,
        event_file("order-card-select.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["order"]["node"], "overdue");

    let (status, v) = invoke(
        &store,
        Function::Suggest,
        event_file("suggest-get-panel.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["solution"]["solution_id"], "urge_shipment.overdue");

    let (status, v) = invoke(
        &store,
        Function::Suggest,
        event_file("suggest-use-solution.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["message"]["sender"]["id"], "agent-xiaomei");

    let (status, v) = invoke(
        &store,
        Function::Intake,
        event_file("intake-list-messages.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["messages"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn unfinished_http_functions_answer_501_json() {
    for (file, is_replies) in [
        ("replies-get.json", true),
        ("replies-put.json", true),
        ("feedback-post.json", false),
    ] {
        let event = event_file(file);
        let resp = if is_replies {
            replies::handle(event).await
        } else {
            feedback::handle(event).await
        };
        assert_eq!(resp.status_code, 501, "{file}");
        let v = response_json(&resp);
        assert_eq!(v["error"]["code"], "not_implemented", "{file}: {v}");
    }
    // Without identity they still say 401 first.
    let mut event = event_file("replies-get.json");
    event.request_context.authorizer = None;
    assert_eq!(replies::handle(event).await.status_code, 401);
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
        if name.starts_with("compensate") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<EventBridgeEvent<serde_json::Value>>(&text).unwrap();
        } else {
            let e = event_file(&name);
            assert!(e.route_key.is_some(), "{name}");
            assert!(e.request_context.authorizer.is_some(), "{name}");
        }
        n += 1;
    }
    assert!(n >= 10);
}
