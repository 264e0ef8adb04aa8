//! Each role's view through the real handlers on DynamoDB Local: the conversation routes and the
//! queue × every role × (own / another buyer's in the shop / another shop's), the status, and
//! what a buyer's answer may carry (nothing of a verdict, a panel, a solution or action id, an
//! internal note or a staff account, anywhere in it). The same table as
//! `shared/domain/tests/views.rs`, which checks each cell on the in-memory store.

use crate::support::*;
use assistant_aws::routes::Route;
use assistant_aws::DynamoStore;
use assistant_cli::seed::{ADMIN, OTHER_SHOP, PLATFORM_OPERATOR};
use assistant_testkit::views::{assert_staff_messages, leaks};
use serde_json::{json, Value};

const RATE: &str = "POST /conversations/{conversation_id}/robot-rating";
const QUEUE: &str = "GET /shops/{shop_id}/queue";

/// (route, per role: buyer, agent, shop admin, platform; per scope: own, another buyer's,
/// another shop's). The README's matrix.
const MATRIX: &[(&str, [[i64; 3]; 4])] = &[
    (
        // A buyer opens a conversation in any shop (the scope is the chat's shop); staff never.
        OPEN,
        [
            [201, 201, 201],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        POST_MESSAGE,
        [
            [201, 404, 404],
            [201, 201, 404],
            [201, 201, 404],
            [403, 403, 403],
        ],
    ),
    (
        LIST_MESSAGES,
        [
            [200, 404, 404],
            [200, 200, 404],
            [200, 200, 404],
            [404, 404, 404],
        ],
    ),
    (
        RATE,
        [
            [200, 404, 404],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        QUEUE,
        [
            [403, 403, 403],
            [200, 200, 404],
            [200, 200, 404],
            [403, 403, 403],
        ],
    ),
    (
        GET_CARD,
        [
            [200, 404, 404],
            [200, 200, 404],
            [200, 200, 404],
            [404, 404, 404],
        ],
    ),
    (
        SELECT,
        [
            [200, 404, 404],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        PANEL,
        [
            [403, 403, 403],
            [200, 200, 404],
            [200, 200, 404],
            [403, 403, 403],
        ],
    ),
    (
        USE,
        [
            [403, 403, 403],
            [201, 201, 404],
            [201, 201, 404],
            [403, 403, 403],
        ],
    ),
];

/// One conversation: (id, buyer, shop).
const CHATS: [(&str, &str, &str); 3] = [
    ("v-own", MAIN_BUYER, SHOP),
    ("v-other-buyer", "buyer-zhao", SHOP),
    ("v-other-shop", "buyer-zhou", OTHER_SHOP),
];

fn roles() -> [Vec<(&'static str, &'static str)>; 4] {
    [
        vec![("sub", MAIN_BUYER), ("role", "buyer")],
        vec![
            ("sub", "agent-xiaomei"),
            ("role", "agent"),
            ("shop_id", SHOP),
        ],
        vec![("sub", ADMIN), ("role", "shop_admin"), ("shop_id", SHOP)],
        vec![("sub", PLATFORM_OPERATOR), ("role", "platform")],
    ]
}

/// What the cells call with: the own conversation's robot answer and card.
struct Sent {
    robot_message: Value,
    card_id: Value,
}

async fn on_route(
    store: &DynamoStore,
    route: &str,
    params: &[(&str, &str)],
    claims: &[(&str, &str)],
    body: Option<Value>,
) -> (i64, Value) {
    let function = Route::from_key(route).expect("a registry route").function();
    invoke(
        store,
        function,
        local_event(route, params, claims, body.as_ref()),
        NOW,
    )
    .await
}

/// The demo data, the shop's robot on for 开发票, and in each conversation a robot answer and a
/// 催发货 card; unless `card_open`, the card confirmed, a reply and an internal note sent from the
/// panel, and the agent's own words.
async fn fixture(card_open: bool) -> (DynamoStore, Sent) {
    let store = seeded().await;
    let admin = vec![("sub", ADMIN), ("role", "shop_admin"), ("shop_id", SHOP)];
    let on = json!({"expected_version": 0, "on": true, "answers": {"invoice": "发票可在订单详情页申请～"}});
    let (status, v) = on_route(
        &store,
        "PUT /shops/{shop_id}/robot",
        &[("shop_id", SHOP)],
        &admin,
        Some(on),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let mut sent = None;
    for (conv, who, shop) in CHATS {
        let me = buyer(who);
        let say = |text: &str| Some(json!({"shop_id": shop, "text": text}));
        let (status, robot) = call(&store, POST_MESSAGE, conv, &me, say("怎么开发票")).await;
        assert_eq!(status, 201, "{robot}");
        let (status, asked) = call(
            &store,
            POST_MESSAGE,
            conv,
            &me,
            say("我买的东西怎么还没发货啊"),
        )
        .await;
        assert_eq!(status, 201, "{asked}");
        if conv != "v-own" {
            continue;
        }
        sent = Some(Sent {
            robot_message: robot["robot_reply"]["message_id"].clone(),
            card_id: asked["card"]["card_id"].clone(),
        });
    }
    let sent = sent.expect("the own conversation");
    assert!(sent.robot_message.is_string() && sent.card_id.is_string());
    if !card_open {
        for (conv, who, shop) in CHATS.into_iter().filter(|c| c.2 == SHOP) {
            let (_, card) = call(&store, GET_CARD, conv, &buyer(who), None).await;
            let confirm = json!({"via": "confirm", "card_id": card["card_id"]});
            let (status, v) = call(&store, SELECT, conv, &buyer(who), Some(confirm)).await;
            assert_eq!(status, 200, "{v}");
            let staff = agent_of(shop);
            let (_, panel) = call(&store, PANEL, conv, &staff, None).await;
            let sid = panel["solution"]["solution_id"].clone();
            for body in [
                json!({"solution_id": sid, "event": "sent", "reply_index": 0}),
                json!({"solution_id": sid, "event": "sent", "action_id": "report_shipping_delay"}),
            ] {
                let (status, v) = call(&store, USE, conv, &staff, Some(body)).await;
                assert_eq!(status, 201, "{v}");
            }
            let words = Some(json!({"text": "您好，我来为您处理"}));
            assert_eq!(call(&store, POST_MESSAGE, conv, &staff, words).await.0, 201);
        }
    }
    (store, sent)
}

async fn cell(
    store: &DynamoStore,
    route: &str,
    claims: &[(&str, &str)],
    chat: (&str, &str, &str),
    sent: &Sent,
) -> (i64, Value) {
    let (conv, _, shop) = chat;
    let is_buyer = claims.contains(&("role", "buyer"));
    let body = match route {
        OPEN => Some(json!({"shop_id": shop, "text": "在吗"})),
        POST_MESSAGE if is_buyer => Some(json!({"shop_id": shop, "text": "什么时候能发货"})),
        POST_MESSAGE => Some(json!({"text": "您好，马上为您处理"})),
        RATE => Some(json!({"message_id": sent.robot_message, "rating": "bad"})),
        SELECT => Some(json!({"via": "confirm", "card_id": sent.card_id})),
        USE => {
            Some(json!({"solution_id": "urge_shipment.overdue", "event": "sent", "reply_index": 0}))
        }
        _ => None,
    };
    if route == QUEUE {
        return on_route(store, route, &[("shop_id", shop)], claims, None).await;
    }
    if route == OPEN {
        return on_route(store, route, &[], claims, body).await;
    }
    call(store, route, conv, claims, body).await
}

/// A buyer's success: nothing they may not see, agents by the shop's name.
fn buyer_shape(route: &str, body: &Value) {
    let found = leaks(body, STAFF);
    assert!(
        found.is_empty(),
        "{route} leaks to the buyer: {found:?}\n{body}"
    );
    let text = body.to_string();
    if text.contains("\"agent\"") {
        assert!(
            DEMO_AGENT_NAMES.iter().any(|n| text.contains(n)),
            "{route}: {body}"
        );
    }
    match route {
        LIST_MESSAGES => {
            let all = body["messages"].as_array().unwrap();
            assert!(all.iter().any(|m| m["sender"]["role"] == "agent"
                && DEMO_AGENT_NAMES.contains(&m["sender"]["name"].as_str().unwrap_or_default())));
            assert!(all.iter().any(|m| m["sender"] == json!({"role": "robot"})));
        }
        GET_CARD => assert!(
            DEMO_AGENT_NAMES.contains(&body["sent_by"].as_str().unwrap_or_default()),
            "{body}"
        ),
        SELECT => assert!(body["message"].is_object() && body["order"].is_object()),
        RATE => assert_eq!(body["handed_off"], true),
        POST_MESSAGE => assert!(body["message"].is_object()),
        OPEN => {
            let id = body["conversation_id"].as_str().unwrap_or_default();
            assert!(id.starts_with('c') && id.len() == 33, "minted: {body}");
            assert_eq!(body["message"]["conversation_id"], id);
        }
        other => panic!("{other} answered a buyer: {body}"),
    }
}

/// A staff success: everything they saw before.
fn staff_shape(route: &str, body: &Value) {
    match route {
        LIST_MESSAGES => {
            assert_staff_messages(body);
        }
        GET_CARD => assert!(
            body["sent_as"].is_string() && body["reason"].is_string(),
            "{body}"
        ),
        PANEL => assert!(body["intent"]["evidence"].is_array(), "{body}"),
        POST_MESSAGE => assert!(body["message"]["sender"]["id"].is_string(), "{body}"),
        USE => assert_eq!(body["message"]["solution_id"], "urge_shipment.overdue"),
        QUEUE => assert!(body["items"].is_array()),
        other => panic!("{other} answered staff: {body}"),
    }
}

#[tokio::test]
async fn every_route_role_and_scope_through_the_handlers() {
    let mut cells = 0;
    for (route, expected) in MATRIX {
        // One store per route; within it, a cell that writes (a message, a rating, an answer)
        // leaves every later cell's status as it was.
        let (store, sent) = fixture(matches!(*route, GET_CARD | SELECT)).await;
        for (r, claims) in roles().iter().enumerate() {
            for (s, chat) in CHATS.into_iter().enumerate() {
                let (status, body) = cell(&store, route, claims, chat, &sent).await;
                assert_eq!(
                    status, expected[r][s],
                    "{route} as {claims:?} on {}: {body}",
                    chat.0
                );
                if status < 300 {
                    if r == 0 {
                        buyer_shape(route, &body);
                    } else {
                        staff_shape(route, &body);
                    }
                } else {
                    assert!(body["error"]["code"].is_string(), "{body}");
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, MATRIX.len() * 12);
}

#[tokio::test]
async fn what_each_view_costs_in_requests() {
    let (store, _) = fixture(true).await;
    let me = buyer(MAIN_BUYER);
    let staff = agent_of(SHOP);
    let mut cost = Vec::new();
    for (what, route, claims) in [
        ("buyer messages", LIST_MESSAGES, &me),
        ("staff messages", LIST_MESSAGES, &staff),
        ("buyer card", GET_CARD, &me),
        ("staff card", GET_CARD, &staff),
    ] {
        let before = store.requests();
        let (status, v) = call(&store, route, "v-own", claims, None).await;
        assert_eq!(status, 200, "{v}");
        cost.push((what, store.requests() - before));
    }
    // The buyer's view names agents by the shop: one GetItem of its profile more (beside the
    // messages' Query, after the conversation's GetItem that says which shop).
    assert_eq!(
        cost,
        [
            ("buyer messages", 3),
            ("staff messages", 2),
            ("buyer card", 2),
            ("staff card", 1)
        ]
    );
}
