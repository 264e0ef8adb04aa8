//! Shared helpers for the integration tests.

use assistant_aws::routes::Route;
use assistant_aws::DynamoStore;
pub use assistant_cli::demo::{invoke, Function};
use assistant_cli::seed;
use assistant_domain::model::conversation::{Conversation, Message};
use assistant_domain::model::ids::ConversationId;
use assistant_domain::model::time::HOUR;
use assistant_domain::ports::ConversationStore;
pub use integration_tests::{event_file, fresh_store, local_event};
use serde_json::Value;

/// The fixed "now" of every test, on either store.
pub use assistant_testkit::fixtures::NOW;

pub const SHOP: &str = seed::SHOP;
pub const MAIN_BUYER: &str = seed::MAIN_BUYER;

pub fn buyer(id: &str) -> Vec<(&str, &str)> {
    vec![("sub", id), ("role", "buyer")]
}

pub fn agent_of(shop: &str) -> Vec<(&str, &str)> {
    vec![
        ("sub", "agent-xiaomei"),
        ("role", "agent"),
        ("shop_id", shop),
    ]
}

/// A fresh store with the demo shop seeded at NOW - 1h.
pub async fn seeded() -> DynamoStore {
    let store = fresh_store().await;
    seed::seed(&store, NOW - HOUR).await.expect("seed");
    store
}

pub const POST_MESSAGE: &str = "POST /conversations/{conversation_id}/messages";
pub const LIST_MESSAGES: &str = "GET /conversations/{conversation_id}/messages";
pub const GET_CARD: &str = "GET /conversations/{conversation_id}/prediction-card";
pub const SELECT: &str = "POST /conversations/{conversation_id}/order-selection";
pub const PANEL: &str = "GET /conversations/{conversation_id}/panel";
pub const USE: &str = "POST /conversations/{conversation_id}/panel/events";

/// Calls the function that serves `route`.
pub async fn call(
    store: &DynamoStore,
    route: &str,
    conversation: &str,
    claims: &[(&str, &str)],
    body: Option<Value>,
) -> (i64, Value) {
    let function = Route::from_key(route)
        .unwrap_or_else(|| panic!("{route} is in the route registry"))
        .function();
    let event = local_event(
        route,
        &[("conversation_id", conversation)],
        claims,
        body.as_ref(),
    );
    invoke(store, function, event, NOW).await
}

/// Everything stored for a conversation: to prove a refused request changed nothing.
pub async fn snapshot(store: &DynamoStore, id: &str) -> (Option<Conversation>, Vec<Message>) {
    let id = ConversationId::parse(id).unwrap();
    (
        store.conversation(&id).await.unwrap(),
        store.messages(&id, 1000).await.unwrap(),
    )
}

/// The main buyer asks about shipping in a new conversation; returns the card's id.
pub async fn urge(store: &DynamoStore, conversation: &str, text: &str) -> Value {
    let (status, v) = call(
        store,
        POST_MESSAGE,
        conversation,
        &buyer(MAIN_BUYER),
        Some(serde_json::json!({"shop_id": SHOP, "text": text})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    v
}

/// Asserts a 4xx JSON error with the given status and returns its message.
pub fn assert_error(result: &(i64, Value), status: i64) -> String {
    assert_eq!(result.0, status, "{}", result.1);
    let msg = result.1["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!msg.is_empty(), "an error message: {}", result.1);
    assert!(
        result.1["error"]["code"].is_string(),
        "an error code: {}",
        result.1
    );
    msg
}

/// Every staff account of the demo data: none may appear in a buyer's answer.
pub const STAFF: &[&str] = &[
    "agent-xiaomei",
    "agent-ahao",
    "admin-lin",
    "agent-dapeng",
    "platform-ops",
];

/// What buyers see the demo shop's agents as (the display names the seed onboards them with).
pub const DEMO_AGENT_NAMES: [&str; 2] = ["小鹿家居-小美", "小鹿家居-阿豪"];
