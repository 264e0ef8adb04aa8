//! Shared helpers for the integration tests.

use assistant_aws::routes::Route;
use assistant_aws::DynamoStore;
pub use assistant_cli::demo::{invoke, Function};
use assistant_cli::seed;
use assistant_domain::model::conversation::{Conversation, Message};
use assistant_domain::model::ids::ConversationId;
use assistant_domain::model::time::{Millis, HOUR};
use assistant_domain::ports::ConversationStore;
pub use integration_tests::{event_file, event_file_in, fresh_store, local_event};
use serde_json::Value;
use std::collections::HashMap;

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

pub const OPEN: &str = "POST /conversations";
pub const POST_MESSAGE: &str = "POST /conversations/{conversation_id}/messages";
pub const LIST_MESSAGES: &str = "GET /conversations/{conversation_id}/messages";
pub const GET_CARD: &str = "GET /conversations/{conversation_id}/prediction-card";
pub const SELECT: &str = "POST /conversations/{conversation_id}/order-selection";
pub const PANEL: &str = "GET /conversations/{conversation_id}/panel";
pub const USE: &str = "POST /conversations/{conversation_id}/panel/events";

/// The conversations the tests opened, by the name a test gave them, per store (its table): the
/// server mints every id (`POST /conversations`), so a test's "c1" is a name, not an id.
static OPENED: std::sync::LazyLock<std::sync::Mutex<HashMap<(String, String), String>>> =
    std::sync::LazyLock::new(Default::default);

fn opened_key(store: &DynamoStore, name: &str) -> (String, String) {
    (store.tables().conversations.clone(), name.to_string())
}

/// The id the server minted for the conversation a test named `name`; a name the test never
/// opened is passed on as it is (an id nobody opened).
pub fn conversation_id(store: &DynamoStore, name: &str) -> String {
    let opened = OPENED.lock().unwrap();
    opened
        .get(&opened_key(store, name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

/// The buyer of `claims` opens a conversation in the demo shop with `text` at `now`
/// (`POST /conversations`); a test names it `name`. The status and the answer.
pub async fn open_at(
    store: &DynamoStore,
    name: &str,
    claims: &[(&str, &str)],
    text: &str,
    now: Millis,
) -> (i64, Value) {
    let body = serde_json::json!({"shop_id": SHOP, "text": text});
    open_with(store, name, claims, body, now).await
}

/// `POST /conversations` with `body` (`shop_id`, `text`); a test names the conversation `name`.
async fn open_with(
    store: &DynamoStore,
    name: &str,
    claims: &[(&str, &str)],
    body: Value,
    now: Millis,
) -> (i64, Value) {
    let event = local_event(OPEN, &[], claims, Some(&body));
    let (status, v) = invoke(store, Function::Intake, event, now).await;
    if let Some(id) = v["conversation_id"].as_str() {
        let mut opened = OPENED.lock().unwrap();
        opened.insert(opened_key(store, name), id.to_string());
    }
    (status, v)
}

/// A buyer's message as the tests write it into the conversation named `name` at `now`: its
/// first message (a buyer naming the shop, in a conversation not opened yet) opens it with
/// `POST /conversations`; every other goes to `POST …/messages`, which never creates one.
pub async fn buyer_writes(
    store: &DynamoStore,
    name: &str,
    claims: &[(&str, &str)],
    body: Value,
    now: Millis,
) -> (i64, Value) {
    let first = !OPENED
        .lock()
        .unwrap()
        .contains_key(&opened_key(store, name));
    if first && body["shop_id"].is_string() {
        return open_with(store, name, claims, body, now).await;
    }
    let id = conversation_id(store, name);
    let event = local_event(
        POST_MESSAGE,
        &[("conversation_id", &id)],
        claims,
        Some(&body),
    );
    invoke(store, Function::Intake, event, now).await
}

/// Calls the function that serves `route`, in the conversation the test named `conversation`
/// (a buyer's first message there opens it: [`buyer_writes`]).
pub async fn call(
    store: &DynamoStore,
    route: &str,
    conversation: &str,
    claims: &[(&str, &str)],
    body: Option<Value>,
) -> (i64, Value) {
    let is_buyer = claims.contains(&("role", "buyer"));
    if let (POST_MESSAGE, true, Some(body)) = (route, is_buyer, &body) {
        return buyer_writes(store, conversation, claims, body.clone(), NOW).await;
    }
    let function = Route::from_key(route)
        .unwrap_or_else(|| panic!("{route} is in the route registry"))
        .function();
    let id = conversation_id(store, conversation);
    let event = local_event(route, &[("conversation_id", &id)], claims, body.as_ref());
    invoke(store, function, event, NOW).await
}

/// Everything stored for a conversation: to prove a refused request changed nothing.
pub async fn snapshot(store: &DynamoStore, name: &str) -> (Option<Conversation>, Vec<Message>) {
    let id = ConversationId::parse(conversation_id(store, name)).unwrap();
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
