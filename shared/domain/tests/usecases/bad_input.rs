//! Bad input to the use cases, on the in-memory twin: a clear refusal naming the field, nothing
//! written. What the HTTP layer refuses before a use case runs (broken JSON, bad base64 or
//! UTF-8, an oversize body, any body on any route) is tested through the handlers in
//! tests/integration/bad_input.rs.

use assistant_domain::model::conversation::MAX_TEXT_CHARS;
use assistant_domain::model::ids::ConversationId;
use assistant_domain::usecases::{open_card, panel, screenshot, select_order, use_solution};
use assistant_testkit::fixtures::*;
use serde_json::json;

#[tokio::test]
async fn text_length_limit_is_stated_and_exact() {
    let store = seeded().await;
    let me = buyer(MAIN_BUYER);
    let too_long = "催".repeat(MAX_TEXT_CHARS + 1);
    let r = buyer_says(&store, &me, &id_of("c-len"), ask(&too_long), NOW).await;
    assert!(refused(r, "invalid_input").contains("at most 1000 characters"));
    assert_eq!(snapshot(&store, "c-len").await, (None, vec![]));
    let just_right = "催".repeat(MAX_TEXT_CHARS);
    ok(buyer_says(&store, &me, &id_of("c-len"), ask(&just_right), NOW).await);
}

#[tokio::test]
async fn unknown_ids_are_404_or_400_and_write_nothing() {
    let store = seeded().await;
    let me = buyer(MAIN_BUYER);
    let mut elsewhere = ask("发货了吗");
    elsewhere.shop_id = Some(id_of("no-such-shop"));
    let r = buyer_says(&store, &me, &id_of("c-x"), elsewhere, NOW).await;
    assert!(refused(r, "not_found").contains("shop"));
    assert_eq!(snapshot(&store, "c-x").await, (None, vec![]));
    assert!(refused(ConversationId::parse("c#x"), "invalid_input").contains("conversation_id"));
    let nobody = id_of("no-such-conv");
    refused(
        panel(&store, &agent_of(SHOP), &nobody, NOW).await,
        "not_found",
    );
    refused(open_card(&store, &me, &nobody).await, "not_found");
    let name = body(json!({"via": "order_card", "order_id": "6930000000000000001"}));
    refused(
        select_order(&store, &me, &nobody, name, NOW).await,
        "not_found",
    );
    assert_eq!(snapshot(&store, "no-such-conv").await, (None, vec![]));
}

/// A feedback id is parsed before any read: one over DynamoDB's key limit was a 500.
#[tokio::test]
async fn a_malformed_feedback_id_is_400_and_an_unknown_one_404() {
    let store = seeded().await;
    for bad in [
        "a".repeat(1100),
        "x".into(),
        format!("{NOW}-{}", "g".repeat(32)),
    ] {
        let r = screenshot(&store, &store, &platform(), &bad, "0").await;
        assert!(refused(r, "invalid_input").contains("feedback_id"), "{bad}");
    }
    let unknown = format!("{NOW}-{}", "0".repeat(32));
    refused(
        screenshot(&store, &store, &platform(), &unknown, "0").await,
        "not_found",
    );
}

#[tokio::test]
async fn selection_and_panel_inputs_are_checked() {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    let me = buyer(MAIN_BUYER);
    let c1 = id_of("c1");
    let before = snapshot(&store, "c1").await;
    let cases = [
        (json!({"via": "guess"}), "unknown variant `guess`"),
        (
            json!({"via": "pick", "card_id": v["card"]["card_id"]}),
            "order_id: is required",
        ),
        (json!({"via": "confirm"}), "card_id: is required"),
        (
            json!({"via": "order_card", "order_id": "69300abc"}),
            "order_id: must be 6-24 digits",
        ),
        (
            json!({"via": "confirm", "card_id": v["card"]["card_id"], "order_id": "6930000000000000002"}),
            "use via=pick",
        ),
    ];
    for (input, expect) in cases {
        let r = match parse_body(input.clone()) {
            Ok(input) => select_order(&store, &me, &c1, input, NOW).await,
            Err(e) => Err(e),
        };
        let msg = refused(r, "invalid_input");
        assert!(msg.contains(expect), "{input} -> {msg}");
    }
    let stale = body(json!({"via": "confirm", "card_id": "stale-card"}));
    refused(select_order(&store, &me, &c1, stale, NOW).await, "conflict");
    assert_eq!(snapshot(&store, "c1").await, before);

    let staff = agent_of(SHOP);
    for input in [
        json!({"solution_id": "urge_shipment.overdue", "event": "liked", "reply_index": 0}),
        json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": -1}),
        json!({"solution_id": "urge_shipment.overdue", "event": "sent", "action_id": "launch_rocket"}),
        json!({"event": "sent", "reply_index": 0}),
    ] {
        let r = match parse_body(input) {
            Ok(input) => use_solution(&store, &staff, &c1, input, NOW).await,
            Err(e) => Err(e),
        };
        refused(r, "invalid_input");
    }
    assert_eq!(snapshot(&store, "c1").await, before);
}
