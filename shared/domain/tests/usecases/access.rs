//! Nobody sees or changes another shop's or another buyer's data, on the in-memory twin: 403
//! (`forbidden`) for the wrong role, 404 (`not_found`) for what belongs to someone else, and
//! nothing changes. The one policy is `assistant_domain::access`.

use assistant_domain::model::identity::Actor;
use assistant_domain::usecases::{list_messages, open_card, panel, select_order, use_solution};
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::{json, Value};

/// A conversation of the main buyer with an open card.
async fn setup() -> (MemoryStore, Value) {
    let store = seeded().await;
    let v = urge(&store, "c1", "什么时候发货").await;
    (store, v["card"].clone())
}

fn confirm(card: &Value) -> Value {
    json!({"via": "confirm", "card_id": card["card_id"]})
}

fn send_reply() -> Value {
    json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0})
}

#[tokio::test]
async fn another_buyer_cannot_read_write_or_answer() {
    let (store, card) = setup().await;
    let before = snapshot(&store, "c1").await;
    let thief = buyer("buyer-li");
    let c1 = id_of("c1");
    refused(list_messages(&store, &thief, &c1).await, "not_found");
    refused(open_card(&store, &thief, &c1).await, "not_found");
    refused(
        buyer_says(&store, &thief, &c1, ask("什么时候发货"), NOW).await,
        "not_found",
    );
    refused(
        select_order(&store, &thief, &c1, body(confirm(&card)), NOW).await,
        "not_found",
    );
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn a_buyer_cannot_name_someone_elses_order_or_another_shops() {
    let (store, _) = setup().await;
    let before = snapshot(&store, "c1").await;
    let me = buyer(MAIN_BUYER);
    let c1 = id_of("c1");
    let name = |order: &str| body(json!({"via": "order_card", "order_id": order}));
    // buyer-li's order in the same shop
    let r = select_order(&store, &me, &c1, name("6930000000000000101"), NOW).await;
    assert!(refused(r, "not_found").contains("order"));
    // the main buyer's own order, but in another shop
    let r = select_order(&store, &me, &c1, name("6930000000000000999"), NOW).await;
    refused(r, "not_found");
    // an order that is not on the card cannot be "picked"
    let card = ok(open_card(&store, &me, &c1).await);
    let pick =
        json!({"via": "pick", "card_id": card["card_id"], "order_id": "6930000000000000101"});
    let r = select_order(&store, &me, &c1, body(pick), NOW).await;
    refused(r, "invalid_input");
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn another_shops_agent_sees_nothing_and_changes_nothing() {
    let (store, card) = setup().await;
    let c1 = id_of("c1");
    ok(select_order(&store, &buyer(MAIN_BUYER), &c1, body(confirm(&card)), NOW).await);
    let before = snapshot(&store, "c1").await;
    let outsider = agent_of(OTHER_SHOP);
    refused(panel(&store, &outsider, &c1, NOW).await, "not_found");
    refused(list_messages(&store, &outsider, &c1).await, "not_found");
    refused(open_card(&store, &outsider, &c1).await, "not_found");
    refused(
        use_solution(&store, &outsider, &c1, body(send_reply()), NOW).await,
        "not_found",
    );
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn a_buyer_reusing_a_conversation_id_of_another_shop_gets_404() {
    let (store, _) = setup().await;
    let before = snapshot(&store, "c1").await;
    let mut elsewhere = ask("什么时候发货");
    elsewhere.shop_id = Some(id_of(OTHER_SHOP));
    let r = buyer_says(&store, &buyer(MAIN_BUYER), &id_of("c1"), elsewhere, NOW).await;
    refused(r, "not_found");
    assert_eq!(snapshot(&store, "c1").await, before);
}

#[tokio::test]
async fn wrong_roles_are_403_and_change_nothing() {
    let (store, card) = setup().await;
    let before = snapshot(&store, "c1").await;
    let me = buyer(MAIN_BUYER);
    let c1 = id_of("c1");
    refused(panel(&store, &me, &c1, NOW).await, "forbidden");
    refused(
        use_solution(&store, &me, &c1, body(send_reply()), NOW).await,
        "forbidden",
    );
    // The platform's operators do not write into shops' conversations.
    let staff = platform();
    refused(
        buyer_says(&store, &staff, &c1, ask("什么时候发货"), NOW).await,
        "forbidden",
    );
    refused(
        select_order(&store, &staff, &c1, body(confirm(&card)), NOW).await,
        "forbidden",
    );
    refused(panel(&store, &staff, &c1, NOW).await, "forbidden");
    refused(list_messages(&store, &staff, &c1).await, "not_found");
    assert_eq!(snapshot(&store, "c1").await, before);
}

/// Claims the handlers read into an [`Actor`]: any one missing or broken is a 401
/// (`unauthenticated`) before anything is read or written.
#[test]
fn missing_or_broken_claims_are_401() {
    for (sub, role, shop) in [
        (None, None, None),
        (None, Some("buyer"), None),
        (Some(MAIN_BUYER), Some("superuser"), None),
        (Some("agent-x"), Some("agent"), None),
        (Some("a#b"), Some("buyer"), None),
    ] {
        refused(Actor::from_claims(sub, role, shop), "unauthenticated");
    }
}
