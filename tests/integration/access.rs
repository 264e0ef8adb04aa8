//! Nobody sees or changes another shop's or another buyer's data: 403 for the wrong role, 404 for
//! what belongs to someone else, and nothing changes.

use crate::support::*;
use assistant_cli::seed::OTHER_SHOP;
use serde_json::json;

/// A conversation of the main buyer with an open card, and its snapshot.
async fn setup() -> (assistant_aws::DynamoStore, serde_json::Value) {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    (store, v["card"].clone())
}

#[tokio::test]
async fn another_buyer_cannot_read_write_or_answer() {
    let (store, card) = setup().await;
    let before = snapshot(&store, "c1").await;
    let thief = buyer("buyer-li");
    assert_error(&call(&store, LIST_MESSAGES, "c1", &thief, None).await, 404);
    assert_error(&call(&store, GET_CARD, "c1", &thief, None).await, 404);
    assert_error(
        &call(
            &store,
            POST_MESSAGE,
            "c1",
            &thief,
            Some(json!({"shop_id": SHOP, "text": "什么时候发货"})),
        )
        .await,
        404,
    );
    assert_error(
        &call(
            &store,
            SELECT,
            "c1",
            &thief,
            Some(json!({"via": "confirm", "card_id": card["card_id"]})),
        )
        .await,
        404,
    );
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn a_buyer_cannot_name_someone_elses_order_or_another_shops() {
    let (store, _) = setup().await;
    let before = snapshot(&store, "c1").await;
    let me = buyer(MAIN_BUYER);
    // buyer-li's order in the same shop
    let r = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "order_card", "order_id": "6930000000000000101"})),
    )
    .await;
    assert!(assert_error(&r, 404).contains("order"));
    // the main buyer's own order, but in another shop
    let r = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "order_card", "order_id": "6930000000000000999"})),
    )
    .await;
    assert_error(&r, 404);
    // an order that is not on the card cannot be "picked"
    let (_, card) = call(&store, GET_CARD, "c1", &me, None).await;
    let r = call(
        &store,
        SELECT,
        "c1",
        &me,
        Some(json!({"via": "pick", "card_id": card["card_id"], "order_id": "6930000000000000101"})),
    )
    .await;
    assert_error(&r, 400);
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn another_shops_agent_sees_nothing_and_changes_nothing() {
    let (store, card) = setup().await;
    call(
        &store,
        SELECT,
        "c1",
        &buyer(MAIN_BUYER),
        Some(json!({"via": "confirm", "card_id": card["card_id"]})),
    )
    .await;
    let before = snapshot(&store, "c1").await;
    let outsider = agent_of(OTHER_SHOP);
    assert_error(&call(&store, PANEL, "c1", &outsider, None).await, 404);
    assert_error(
        &call(&store, LIST_MESSAGES, "c1", &outsider, None).await,
        404,
    );
    assert_error(&call(&store, GET_CARD, "c1", &outsider, None).await, 404);
    assert_error(
        &call(
            &store,
            USE,
            "c1",
            &outsider,
            Some(
                json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0}),
            ),
        )
        .await,
        404,
    );
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn a_buyer_reusing_a_conversation_id_of_another_shop_gets_404() {
    let (store, _) = setup().await;
    let before = snapshot(&store, "c1").await;
    let r = call(
        &store,
        POST_MESSAGE,
        "c1",
        &buyer(MAIN_BUYER),
        Some(json!({"shop_id": OTHER_SHOP, "text": "什么时候发货"})),
    )
    .await;
    assert_error(&r, 404);
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn wrong_roles_are_403_and_change_nothing() {
    let (store, card) = setup().await;
    let before = snapshot(&store, "c1").await;
    let me = buyer(MAIN_BUYER);
    assert_error(&call(&store, PANEL, "c1", &me, None).await, 403);
    assert_error(
        &call(
            &store,
            USE,
            "c1",
            &me,
            Some(
                json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0}),
            ),
        )
        .await,
        403,
    );
    // The platform's operators do not write into shops' conversations.
    let staff = vec![("sub", "ops-wang"), ("role", "platform")];
    assert_error(
        &call(
            &store,
            POST_MESSAGE,
            "c1",
            &staff,
            Some(json!({"shop_id": SHOP, "text": "什么时候发货"})),
        )
        .await,
        403,
    );
    assert_error(
        &call(
            &store,
            SELECT,
            "c1",
            &staff,
            Some(json!({"via": "confirm", "card_id": card["card_id"]})),
        )
        .await,
        403,
    );
    let platform = vec![("sub", "ops-1"), ("role", "platform")];
    assert_error(&call(&store, PANEL, "c1", &platform, None).await, 403);
    assert_error(
        &call(&store, LIST_MESSAGES, "c1", &platform, None).await,
        404,
    );
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn missing_or_broken_claims_are_401() {
    let (store, _) = setup().await;
    let before = snapshot(&store, "c1").await;
    for claims in [
        vec![],
        vec![("role", "buyer")],
        vec![("sub", MAIN_BUYER), ("role", "superuser")],
        vec![("sub", "agent-x"), ("role", "agent")],
        vec![("sub", "a#b"), ("role", "buyer")],
    ] {
        let r = call(
            &store,
            POST_MESSAGE,
            "c1",
            &claims,
            Some(json!({"shop_id": SHOP, "text": "发货了吗"})),
        )
        .await;
        assert_error(&r, 401);
    }
    assert_eq!(snapshot(&store, "c1").await, before);
}
