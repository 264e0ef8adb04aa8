//! Push (issue 17, item 1) through the push function on DynamoDB Local: the events/ fixtures in
//! order (a ticket over the HTTP API, then `$connect`, `subscribe`, `$default`, `$disconnect` over
//! the WebSocket API), single use under concurrency, and what each identity may follow.

use crate::support::*;
use assistant_aws::http::response_json;
use assistant_aws::websocket::{local_socket_event, socket_json};
use assistant_aws::DynamoStore;
use assistant_domain::model::ids::{ConversationId, ShopId};
use assistant_domain::model::push::{ConnectionId, Topic};
use assistant_domain::ports::PushStore;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use integration_tests::workspace_root;
use serde_json::{json, Value};

/// The connection of the WebSocket fixtures.
pub const FIXTURE_CONNECTION: &str = "L0SM9cOFvHcCIhw=";

/// A WebSocket fixture from events/ (in the conversation `conv`, for one that names one).
pub fn socket_file(name: &str, conv: &str) -> ApiGatewayWebsocketProxyRequest {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = assistant_cli::coldstart::in_conversation(&text, conv);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Sends a WebSocket event to the push function; its status and body.
pub async fn socket(store: &DynamoStore, event: ApiGatewayWebsocketProxyRequest) -> (i64, Value) {
    let resp = push::handle_socket(&store.acting_as("push"), event, NOW).await;
    (resp.status_code, socket_json(&resp))
}

/// A ticket for `claims`, minted through the HTTP route.
pub async fn ticket(store: &DynamoStore, claims: &[(&str, &str)]) -> String {
    let event = local_event("POST /push/tickets", &[], claims, None);
    let resp = push::handle_http(&store.acting_as("push"), event, NOW).await;
    let body = response_json(&resp);
    assert_eq!(resp.status_code, 201, "{body}");
    body["ticket"].as_str().unwrap().to_string()
}

/// `$connect` of `connection` with `ticket`.
pub fn connect_event(connection: &str, ticket: &str) -> ApiGatewayWebsocketProxyRequest {
    local_socket_event("$connect", connection, &[("ticket", ticket)], None)
}

pub fn subscribe_event(connection: &str, body: Value) -> ApiGatewayWebsocketProxyRequest {
    local_socket_event("subscribe", connection, &[], Some(&body))
}

/// The fixtures in order, as the agent's console would send them: the ticket (events/
/// push-ticket.json, agent-xiaomei), `$connect` with it, both subscribes, an unknown action,
/// `$disconnect`. `conv` is the conversation intake-open-conversation.json opened.
pub async fn play_push_fixtures(store: &DynamoStore, conv: &str) {
    let resp = push::handle_http(
        &store.acting_as("push"),
        event_file("push-ticket.json"),
        NOW,
    )
    .await;
    let body = response_json(&resp);
    assert_eq!(resp.status_code, 201, "{body}");
    assert_eq!(body["expires_in"], 60);
    let value = body["ticket"].as_str().unwrap().to_string();

    let mut connect = socket_file("push-connect.json", conv);
    connect
        .query_string_parameters
        .clone_from(&connect_event(FIXTURE_CONNECTION, &value).query_string_parameters);
    let got = socket(store, connect.clone()).await;
    assert_eq!(got.0, 200, "{}", got.1);
    // The same ticket again, even on another connection: refused.
    connect.request_context.connection_id = Some("Other2x=".into());
    let again = socket(store, connect).await;
    assert_error(&again, 401);

    let got = socket(store, socket_file("push-subscribe.json", conv)).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(got.1["subscribed"], json!({"queue": SHOP}));
    let got = socket(store, socket_file("push-subscribe-conversation.json", conv)).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(got.1["subscribed"], json!({"conversation": conv}));
    let got = socket(store, socket_file("push-default.json", conv)).await;
    assert_eq!(
        assert_error(&got, 400),
        "action: must be \"subscribe\" (with conversation_id or queue)"
    );

    let id = ConnectionId::parse(FIXTURE_CONNECTION).unwrap();
    let queue = Topic::Queue(ShopId::parse(SHOP).unwrap());
    assert_eq!(
        ids(store.subscribers(&queue, NOW).await.unwrap()),
        vec![id.clone()]
    );
    let got = socket(store, socket_file("push-disconnect.json", conv)).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert!(ids(store.subscribers(&queue, NOW).await.unwrap()).is_empty());
    assert!(store.connection(&id).await.unwrap().is_none());
    // Gone: a subscribe on it is a 401, and disconnecting again is no error.
    assert_error(
        &socket(store, socket_file("push-subscribe.json", conv)).await,
        401,
    );
    assert_eq!(
        socket(store, socket_file("push-disconnect.json", conv))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn the_push_fixtures_connect_subscribe_and_disconnect() {
    let store = seeded().await;
    let (status, v) = invoke(
        &store,
        Function::Intake,
        event_file("intake-open-conversation.json"),
        NOW,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    play_push_fixtures(&store, v["conversation_id"].as_str().unwrap()).await;
}

#[tokio::test]
async fn one_ticket_opens_one_connection_however_many_present_it_at_once() {
    let store = seeded().await;
    let value = ticket(&store, &agent_of(SHOP)).await;
    let tries = (0..8).map(|i| {
        let store = &store;
        let value = value.clone();
        async move { socket(store, connect_event(&format!("Race{i}="), &value)).await }
    });
    let answers = futures_util::future::join_all(tries).await;
    let opened: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(opened.len(), 1, "{answers:?}");
    for refused in answers.iter().filter(|(s, _)| *s != 200) {
        assert_error(refused, 401);
    }
}

#[tokio::test]
async fn a_connection_follows_only_what_its_identity_may_read() {
    let store = seeded().await;
    urge(&store, "conv-push-zhang", "我的订单怎么还没发货").await;
    let zhangs = conversation_id(&store, "conv-push-zhang");
    let value = ticket(&store, &buyer(MAIN_BUYER)).await;
    assert_eq!(
        socket(&store, connect_event("Zhang1=", &value)).await.0,
        200
    );
    let own = json!({"action": "subscribe", "conversation_id": zhangs});
    let got = socket(&store, subscribe_event("Zhang1=", own.clone())).await;
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(got.1["new"], true);
    let got = socket(&store, subscribe_event("Zhang1=", own.clone())).await;
    assert_eq!(got.1["new"], false, "{}", got.1);
    // A buyer and a queue: 403; a conversation that is not theirs: 404.
    let queue = json!({"action": "subscribe", "queue": SHOP});
    assert_error(
        &socket(&store, subscribe_event("Zhang1=", queue.clone())).await,
        403,
    );
    let value = ticket(&store, &buyer("buyer-li")).await;
    assert_eq!(socket(&store, connect_event("Li1=", &value)).await.0, 200);
    assert_error(
        &socket(&store, subscribe_event("Li1=", own.clone())).await,
        404,
    );

    // Another shop's agent: 404 for this shop's queue and conversation.
    let outsider = [
        ("sub", "agent-dapeng"),
        ("role", "agent"),
        ("shop_id", "dapeng-digital"),
    ];
    let value = ticket(&store, &outsider).await;
    assert_eq!(
        socket(&store, connect_event("Dapeng1=", &value)).await.0,
        200
    );
    assert_error(
        &socket(&store, subscribe_event("Dapeng1=", queue.clone())).await,
        404,
    );
    assert_error(
        &socket(&store, subscribe_event("Dapeng1=", own.clone())).await,
        404,
    );
    // The shop's own agent: both.
    let value = ticket(&store, &agent_of(SHOP)).await;
    assert_eq!(
        socket(&store, connect_event("Xiaomei1=", &value)).await.0,
        200
    );
    for body in [queue, own] {
        let got = socket(&store, subscribe_event("Xiaomei1=", body)).await;
        assert_eq!(got.0, 200, "{}", got.1);
    }
    let topic = Topic::Conversation(ConversationId::parse(&zhangs).unwrap());
    let mut followers = ids(store.subscribers(&topic, NOW).await.unwrap());
    followers.sort();
    let expected: Vec<_> = ["Xiaomei1=", "Zhang1="]
        .into_iter()
        .map(|c| ConnectionId::parse(c).unwrap())
        .collect();
    assert_eq!(followers, expected);
}

#[tokio::test]
async fn bad_input_and_missing_tickets_are_clear_4xx() {
    let store = seeded().await;
    // No ticket, a malformed one, one never minted: the handshake is refused with a 401.
    for query in [
        vec![],
        vec![("ticket", "abc")],
        vec![("ticket", &*"0".repeat(64))],
    ] {
        let event = local_socket_event("$connect", "Anon1=", &query, None);
        let got = socket(&store, event).await;
        assert!(assert_error(&got, 401).contains("ticket"), "{}", got.1);
    }
    // The platform gets no ticket; a body on the ticket route must be empty.
    let platform = [("sub", "platform-ops"), ("role", "platform")];
    let event = local_event("POST /push/tickets", &[], &platform, None);
    let resp = push::handle_http(&store.acting_as("push"), event, NOW).await;
    assert_eq!(resp.status_code, 403);
    let event = local_event(
        "POST /push/tickets",
        &[],
        &agent_of(SHOP),
        Some(&json!({"ttl": 3600})),
    );
    let resp = push::handle_http(&store.acting_as("push"), event, NOW).await;
    assert_eq!(resp.status_code, 400, "{}", response_json(&resp));
    let event = local_event("POST /push/tickets", &[], &agent_of(SHOP), Some(&json!({})));
    let resp = push::handle_http(&store.acting_as("push"), event, NOW).await;
    assert_eq!(resp.status_code, 201, "{}", response_json(&resp));

    let value = ticket(&store, &agent_of(SHOP)).await;
    assert_eq!(socket(&store, connect_event("Bad1=", &value)).await.0, 200);
    for (body, field) in [
        (Some("not json"), "body"),
        (Some("[1]"), "body"),
        (Some(r#"{"action": "subscribe"}"#), "body"),
        (Some(r#"{"action": "subscribe", "queue": 7}"#), "body"),
        (Some(r#"{"action": "subscribe", "queue": "a#b"}"#), "queue"),
        (None, "body"),
    ] {
        let mut event = local_socket_event("subscribe", "Bad1=", &[], None);
        event.body = body.map(str::to_string);
        let got = socket(&store, event).await;
        let message = assert_error(&got, 400);
        assert!(message.starts_with(field), "{body:?}: {message}");
        assert_eq!(got.1["error"]["code"], "invalid_input");
    }
}

#[tokio::test]
async fn the_function_tells_the_two_apis_events_apart() {
    let store = seeded().await;
    let store = store.acting_as("push");
    let text = std::fs::read_to_string(workspace_root().join("events/push-ticket.json")).unwrap();
    let http: Value = serde_json::from_str(&text).unwrap();
    let answer = push::handle(&store, http, NOW).await;
    assert_eq!(answer["statusCode"], 201, "{answer}");
    let text = std::fs::read_to_string(workspace_root().join("events/push-connect.json")).unwrap();
    let ws: Value = serde_json::from_str(&text).unwrap();
    let answer = push::handle(&store, ws, NOW).await;
    // The fixture's ticket was never minted.
    assert_eq!(answer["statusCode"], 401, "{answer}");
    let answer = push::handle(&store, json!({"nothing": "here"}), NOW).await;
    assert_eq!(answer["statusCode"], 500, "{answer}");
}

/// The connection ids of some subscribers, sorted.
fn ids(subscribers: Vec<assistant_domain::model::push::Subscriber>) -> Vec<ConnectionId> {
    let mut ids: Vec<ConnectionId> = subscribers.into_iter().map(|s| s.connection_id).collect();
    ids.sort();
    ids
}

/// The `@connections` client for a stand-in endpoint at `url`, with the local test credentials.
pub fn local_connections(url: &str) -> assistant_aws::connections::ConnectionsApi {
    let get = |k: &str| match k {
        "AWS_REGION" => Some("us-east-1".to_string()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("local".to_string()),
        _ => None,
    };
    let env = assistant_aws::LambdaEnv::read(&get).unwrap();
    assistant_aws::connections::ConnectionsApi::new(&env, url)
}

/// Connects `connection` as `claims` (with a ticket of theirs) and subscribes it to `conv`
/// (catching up from `after` when given).
pub async fn connect_and_follow(
    store: &DynamoStore,
    connection: &str,
    claims: &[(&str, &str)],
    conv: &str,
    after: Option<&str>,
) {
    let value = ticket(store, claims).await;
    assert_eq!(
        socket(store, connect_event(connection, &value)).await.0,
        200
    );
    let mut follow = json!({"action": "subscribe", "conversation_id": conv});
    if let Some(after) = after {
        follow["after"] = json!(after);
    }
    let got = socket(store, subscribe_event(connection, follow)).await;
    assert_eq!(got.0, 200, "{}", got.1);
}

/// A stand-in for API Gateway's `@connections` endpoint: records every request (method, path,
/// body) and answers 410 for a connection whose id starts with "Gone", 200 otherwise.
pub async fn fake_connections() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    held_connections(None).await
}

/// [`fake_connections`] whose every answer waits for a permit of `gate` (when given): a request
/// is recorded when it arrives, answered once released.
pub async fn held_connections(
    gate: Option<std::sync::Arc<tokio::sync::Semaphore>>,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/live", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() < length {
                        continue;
                    }
                    let line = head.lines().next().unwrap_or_default().to_string();
                    let body: Value = serde_json::from_str(&body[..length]).unwrap_or(Value::Null);
                    let gone = line.contains("/@connections/Gone");
                    record.lock().unwrap().push((line, body));
                    if let Some(gate) = &gate {
                        gate.acquire().await.expect("the gate stays open").forget();
                    }
                    let answer = if gone {
                        "HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException\r\ncontent-type: application/json\r\ncontent-length: 18\r\n\r\n{\"message\":\"Gone\"}"
                    } else {
                        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                    buf.clear();
                }
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_committed_message_is_posted_to_the_stages_connections_and_a_gone_one_removed() {
    let (url, seen) = fake_connections().await;
    let store = seeded()
        .await
        .with_connections(Some(local_connections(&url)));
    urge(&store, "push-fan", "你好").await;
    let conv = conversation_id(&store, "push-fan");
    connect_and_follow(&store, "Xiaomei1", &agent_of(SHOP), &conv, None).await;
    connect_and_follow(&store, "GoneZhang1", &buyer(MAIN_BUYER), &conv, None).await;

    let asked = urge(&store, "push-fan", "我的订单怎么还没发货").await;
    let posts = seen.lock().unwrap().clone();
    let to = |who: &str| {
        posts
            .iter()
            .filter(|(line, _)| line.starts_with(&format!("POST /live/@connections/{who} ")))
            .map(|(_, body)| body.clone())
            .collect::<Vec<_>>()
    };
    let agent = to("Xiaomei1");
    assert_eq!(agent.len(), 1, "{posts:?}");
    assert_eq!(agent[0]["type"], "conversation");
    assert_eq!(
        agent[0]["messages"][0]["message_id"],
        asked["message"]["message_id"]
    );
    assert_eq!(
        agent[0]["messages"][0]["classification"]["intent"],
        "urge_shipment"
    );
    // The buyer's connection answered 410: posted once, in the buyer's view, then removed.
    let buyer_posts = to("GoneZhang1");
    assert_eq!(buyer_posts.len(), 1, "{posts:?}");
    assert!(!buyer_posts[0].to_string().contains("classification"));
    let gone = ConnectionId::parse("GoneZhang1").unwrap();
    assert!(store.connection(&gone).await.unwrap().is_none());
    let topic = Topic::Conversation(ConversationId::parse(&conv).unwrap());
    assert_eq!(
        ids(store.subscribers(&topic, NOW).await.unwrap()),
        vec![ConnectionId::parse("Xiaomei1").unwrap()]
    );

    // The endpoint down: the write still stands and answers as ever.
    let down = seeded()
        .await
        .with_connections(Some(local_connections("http://127.0.0.1:9/live")));
    urge(&down, "push-fan-down", "你好").await;
    let conv = conversation_id(&down, "push-fan-down");
    connect_and_follow(&down, "Xiaomei2", &agent_of(SHOP), &conv, None).await;
    let started = std::time::Instant::now();
    urge(&down, "push-fan-down", "什么时候发货").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(down
        .connection(&ConnectionId::parse("Xiaomei2").unwrap())
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn the_answer_does_not_wait_for_its_push() {
    use assistant_aws::after_response::{AfterResponse, Settled};
    use std::time::Duration;
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let (url, seen) = held_connections(Some(gate.clone())).await;
    let after = AfterResponse::default();
    let store = seeded()
        .await
        .with_connections(Some(local_connections(&url)))
        .with_after_response(after.clone());
    urge(&store, "push-after", "你好").await;
    let conv = conversation_id(&store, "push-after");
    connect_and_follow(&store, "Xiaomei3", &agent_of(SHOP), &conv, None).await;

    // The endpoint holds its answer: the buyer's write answers all the same, its push still out.
    let handling = after.handling("request-1");
    let asked = urge(&store, "push-after", "我的订单怎么还没发货").await;
    drop(handling);
    assert!(asked["message"]["message_id"].is_string(), "{asked}");
    let to_agent = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(line, _)| line.starts_with("POST /live/@connections/Xiaomei3 "))
            .map(|(_, body)| body.clone())
            .collect::<Vec<_>>()
    };
    for _ in 0..500 {
        if !to_agent().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(to_agent().len(), 1, "the post went out after the answer");
    assert!(
        after.settle("request-1", Duration::from_millis(100)).await != Settled::Done,
        "the invocation is not settled while its post is held"
    );
    // Released, the post is answered and the invocation settles: the environment may freeze.
    gate.add_permits(16);
    assert_eq!(
        after.settle("request-1", Duration::from_secs(5)).await,
        Settled::Done
    );
    assert_eq!(
        to_agent()[0]["messages"][0]["message_id"],
        asked["message"]["message_id"]
    );
}
