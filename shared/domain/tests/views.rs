//! Each role's view, table-driven on the in-memory twin: every conversation route and the queue ×
//! every role × (own / another buyer's in the same shop / another shop's), its status, and the
//! shape of what came back. A buyer's answer never carries a verdict, a panel, a solution or
//! action id, an internal note or a staff account, anywhere in it; staff see everything.

use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, ShopId, UserId};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::solution::ActionKind;
use assistant_domain::ports::{OrderStore, ShopStore};
use assistant_domain::usecases::{
    edit_robot, panel, queue, use_solution, view, EditRobot, OpenConversation, PostMessage,
    RateRobot, Rating, SelectOrder, SelectionVia, UseKind, UseSolution,
};
use assistant_domain::Error;
use assistant_testkit::builders::{order_in, owned_by, shop, T0};
use assistant_testkit::views::{assert_staff_messages, leaks};
use assistant_testkit::MemoryStore;
use serde_json::{json, Value};

/// Every staff account of the fixture: none may appear in a buyer's answer.
const STAFF: &[&str] = &["agent1", "agent2", "admin1", "admin2", "ops1"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    OpenConversation,
    PostMessage,
    ListMessages,
    RateRobot,
    Queue,
    GetCard,
    SelectOrder,
    GetPanel,
    UseSolution,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Buyer,
    Agent,
    Admin,
    Platform,
}

/// Whose conversation (or shop, for the queue) the caller reaches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The buyer's own conversation; for staff, one of their shop.
    Own,
    /// Another buyer's conversation in the same shop.
    OtherBuyer,
    /// A conversation of another shop (and another buyer).
    OtherShop,
}

const ROLES: [Role; 4] = [Role::Buyer, Role::Agent, Role::Admin, Role::Platform];
const SCOPES: [Scope; 3] = [Scope::Own, Scope::OtherBuyer, Scope::OtherShop];

/// The matrix: per route, per role (buyer, agent, shop admin, platform), the status for own,
/// another buyer's and another shop's. The README's access matrix is this table.
const MATRIX: &[(Route, [[u16; 3]; 4])] = &[
    (
        // Opening is for buyers only, in any shop; the scope is the shop the chat is in.
        Route::OpenConversation,
        [
            [201, 201, 201],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        Route::PostMessage,
        [
            [201, 404, 404],
            [201, 201, 404],
            [201, 201, 404],
            [403, 403, 403],
        ],
    ),
    (
        Route::ListMessages,
        [
            [200, 404, 404],
            [200, 200, 404],
            [200, 200, 404],
            [404, 404, 404],
        ],
    ),
    (
        Route::RateRobot,
        [
            [200, 404, 404],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        Route::Queue,
        [
            [403, 403, 403],
            [200, 200, 404],
            [200, 200, 404],
            [403, 403, 403],
        ],
    ),
    (
        Route::GetCard,
        [
            [200, 404, 404],
            [200, 200, 404],
            [200, 200, 404],
            [404, 404, 404],
        ],
    ),
    (
        Route::SelectOrder,
        [
            [200, 404, 404],
            [403, 403, 403],
            [403, 403, 403],
            [403, 403, 403],
        ],
    ),
    (
        Route::GetPanel,
        [
            [403, 403, 403],
            [200, 200, 404],
            [200, 200, 404],
            [403, 403, 403],
        ],
    ),
    (
        Route::UseSolution,
        [
            [403, 403, 403],
            [201, 201, 404],
            [201, 201, 404],
            [403, 403, 403],
        ],
    ),
];

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn shop_of(id: &str) -> ShopId {
    ShopId::parse(id).unwrap()
}

fn actor(role: Role) -> Actor {
    match role {
        Role::Buyer => Actor::Buyer(user("buyer1")),
        Role::Agent => Actor::Agent {
            user: user("agent1"),
            shop: shop_of("shop1"),
        },
        Role::Admin => Actor::ShopAdmin {
            user: user("admin1"),
            shop: shop_of("shop1"),
        },
        Role::Platform => Actor::Platform(user("ops1")),
    }
}

/// One conversation of the fixture: its buyer, shop, agent and what was sent in it.
struct Chat {
    id: ConversationId,
    buyer: &'static str,
    shop: &'static str,
    robot_message: String,
    card_id: String,
    /// The buyer's `POST …/messages` answers while it was set up, as the buyer received them.
    asked: Vec<Value>,
}

/// How far each conversation goes: up to the open card, or on to a panel in use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    CardOpen,
    Ready,
}

struct Fixture {
    store: MemoryStore,
    chats: Vec<Chat>,
}

impl Fixture {
    fn chat(&self, scope: Scope) -> &Chat {
        &self.chats[scope as usize]
    }
}

fn ok<T: serde::Serialize>(r: Result<T, Error>) -> Result<Value, Error> {
    r.map(|v| serde_json::to_value(v).unwrap())
}

/// shop1 (agent1, admin1) with buyer1 and buyer2, shop2 (agent2, admin2) with buyer3; each buyer an
/// overdue order and one conversation: a robot answer (开发票), a 催发货 question and its card; at
/// `Ready` the card confirmed, a reply and an internal note sent from the panel, and the agent's
/// own words.
async fn fixture(stage: Stage) -> Fixture {
    let store = MemoryStore::default();
    let mut chats = Vec::new();
    let plan = [
        ("c-own", "buyer1", "shop1", "6930000000000000001"),
        ("c-other-buyer", "buyer2", "shop1", "6930000000000000002"),
        ("c-other-shop", "buyer3", "shop2", "6930000000000000003"),
    ];
    for (shop_name, agent, admin) in [("shop1", "agent1", "admin1"), ("shop2", "agent2", "admin2")]
    {
        let mut s = shop(shop_name);
        s.agents = vec![assistant_domain::model::shop::Agent::new(user(agent), None)];
        store.put_shop(&s).await.unwrap();
        let admin = Actor::ShopAdmin {
            user: user(admin),
            shop: shop_of(shop_name),
        };
        let answers = [(
            "invoice".to_string(),
            "发票可在订单详情页申请～".to_string(),
        )];
        let on = EditRobot {
            expected_version: 0,
            on: true,
            answers: Some(answers.into_iter().collect()),
        };
        edit_robot(&store, &admin, &shop_of(shop_name), on, T0)
            .await
            .unwrap();
    }
    for (conv, buyer, shop_name, order) in plan {
        let o = owned_by(order_in(order, OrderNode::Overdue), shop_name, buyer);
        store.put_order(&o).await.unwrap();
        let id = ConversationId::parse(conv).unwrap();
        let me = Actor::Buyer(user(buyer));
        let say = |text: &str| PostMessage {
            shop_id: Some(shop_of(shop_name)),
            text: text.into(),
        };
        let open = OpenConversation {
            shop_id: shop_of(shop_name),
            text: "怎么开发票".into(),
        };
        let robot = ok(view::open(&store, &me, &id, open, T0).await).unwrap();
        let asked =
            ok(
                view::post_message(&store, &me, &id, say("我买的东西怎么还没发货啊"), T0 + 1000)
                    .await,
            )
            .unwrap();
        let chat = Chat {
            id: id.clone(),
            buyer,
            shop: shop_name,
            robot_message: robot["robot_reply"]["message_id"]
                .as_str()
                .expect("the robot answers 开发票")
                .into(),
            card_id: asked["card"]["card_id"]
                .as_str()
                .expect("a card goes out")
                .into(),
            asked: vec![robot, asked],
        };
        if stage == Stage::Ready {
            let confirm = SelectOrder {
                via: SelectionVia::Confirm,
                card_id: Some(serde_json::from_value(json!(chat.card_id)).unwrap()),
                order_id: None,
            };
            view::order_selection(&store, &me, &id, confirm, T0 + 2000)
                .await
                .unwrap();
            let staff = Actor::Agent {
                user: user(if shop_name == "shop1" {
                    "agent1"
                } else {
                    "agent2"
                }),
                shop: shop_of(shop_name),
            };
            let shown = panel(&store, &staff, &id, T0 + 3000).await.unwrap();
            let solution_id = shown.solution.expect("a solution").solution_id;
            let send = |reply_index, action_id| UseSolution {
                solution_id: solution_id.clone(),
                event: UseKind::Sent,
                reply_index,
                action_id,
                text: None,
            };
            use_solution(&store, &staff, &id, send(Some(0), None), T0 + 4000)
                .await
                .unwrap();
            let note = send(None, Some(ActionKind::ReportShippingDelay));
            use_solution(&store, &staff, &id, note, T0 + 5000)
                .await
                .unwrap();
            let words = PostMessage {
                shop_id: None,
                text: "您好，我来为您处理".into(),
            };
            view::post_message(&store, &staff, &id, words, T0 + 6000)
                .await
                .unwrap();
        }
        chats.push(chat);
    }
    Fixture { store, chats }
}

/// The status a use case's result would be answered with.
fn status(route: Route, r: &Result<Value, Error>) -> u16 {
    match r {
        Ok(_)
            if matches!(
                route,
                Route::OpenConversation | Route::PostMessage | Route::UseSolution
            ) =>
        {
            201
        }
        Ok(_) => 200,
        Err(e) => match e.code() {
            "invalid_input" => 400,
            "forbidden" => 403,
            "not_found" => 404,
            "conflict" => 409,
            other => panic!("{route:?}: unexpected {other}: {e}"),
        },
    }
}

/// The fixture a route is tried on: the card still open for the routes that read or answer it.
fn stage_for(route: Route) -> Stage {
    match route {
        Route::GetCard | Route::SelectOrder => Stage::CardOpen,
        _ => Stage::Ready,
    }
}

async fn call(f: &Fixture, route: Route, who: &Actor, scope: Scope) -> Result<Value, Error> {
    let chat = f.chat(scope);
    let (store, id, now) = (&f.store, &chat.id, T0 + 10_000);
    match route {
        Route::OpenConversation => {
            let input = OpenConversation {
                shop_id: shop_of(chat.shop),
                text: "什么时候能发货".into(),
            };
            ok(view::open(store, who, &ConversationId::mint(), input, now).await)
        }
        Route::PostMessage => {
            let shop_id = matches!(who, Actor::Buyer(_)).then(|| shop_of(chat.shop));
            let text = "什么时候能发货".into();
            ok(view::post_message(store, who, id, PostMessage { shop_id, text }, now).await)
        }
        Route::ListMessages => ok(view::messages(store, who, id).await),
        Route::RateRobot => {
            let input = RateRobot {
                message_id: serde_json::from_value(json!(chat.robot_message)).unwrap(),
                rating: Rating::Bad,
            };
            ok(view::robot_rating(store, who, id, input, now).await)
        }
        Route::Queue => ok(queue(store, who, &shop_of(chat.shop), now).await),
        Route::GetCard => ok(view::open_card(store, who, id).await),
        Route::SelectOrder => {
            let input = SelectOrder {
                via: SelectionVia::Confirm,
                card_id: Some(serde_json::from_value(json!(chat.card_id)).unwrap()),
                order_id: None,
            };
            ok(view::order_selection(store, who, id, input, now).await)
        }
        Route::GetPanel => ok(panel(store, who, id, now).await),
        Route::UseSolution => {
            let input = UseSolution {
                solution_id: "urge_shipment.overdue".into(),
                event: UseKind::Sent,
                reply_index: Some(0),
                action_id: None,
                text: None,
            };
            ok(use_solution(store, who, id, input, now).await)
        }
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort();
    k
}

const BUYER_MESSAGE: &[&str] = &["body", "conversation_id", "message_id", "sender", "sent_at"];
const BUYER_CARD: &[&str] = &[
    "answer",
    "card_id",
    "conversation_id",
    "created_at",
    "guess",
    "others",
    "prompt",
    "sent_by",
];

/// The buyer's shape of each route's answer: exactly these fields, nothing a buyer may not see.
fn buyer_shape(route: Route, body: &Value, chat: &Chat) {
    let found = leaks(body, STAFF);
    assert!(
        found.is_empty(),
        "{route:?} leaks to the buyer: {found:?}\n{body}"
    );
    let message = |m: &Value| {
        assert_eq!(keys(m), BUYER_MESSAGE, "{route:?}: {m}");
        if m["sender"]["role"] == "agent" {
            assert_eq!(keys(&m["sender"]), ["name", "role"]);
            assert_eq!(m["sender"]["name"], "小美家纺客服");
        } else {
            assert_eq!(keys(&m["sender"]), ["role"], "{m}");
        }
    };
    match route {
        Route::OpenConversation => {
            let keys = keys(body);
            assert_eq!(keys, ["card", "conversation_id", "message", "robot_reply"]);
            let id = body["conversation_id"].as_str().unwrap();
            assert!(id.starts_with('c') && id.len() == 33, "minted: {id}");
            assert_ne!(id, chat.id.as_str());
            assert_eq!(body["message"]["conversation_id"], id);
            message(&body["message"]);
        }
        Route::PostMessage => {
            assert_eq!(keys(body), ["card", "message", "robot_reply"]);
            message(&body["message"]);
        }
        Route::ListMessages => {
            assert_eq!(keys(body), ["messages"]);
            let all = body["messages"].as_array().unwrap();
            all.iter().for_each(message);
            let roles: Vec<&str> = all
                .iter()
                .filter_map(|m| m["sender"]["role"].as_str())
                .collect();
            for role in ["buyer", "robot", "agent"] {
                assert!(
                    roles.contains(&role),
                    "the buyer sees {role}'s messages: {roles:?}"
                );
            }
            let cards: Vec<&Value> = all
                .iter()
                .filter(|m| m["body"]["type"] == "prediction_card")
                .collect();
            assert_eq!(cards.len(), 1);
            assert_eq!(keys(&cards[0]["body"]["card"]), BUYER_CARD);
            assert_eq!(cards[0]["body"]["card"]["sent_by"], "小美家纺客服");
        }
        Route::RateRobot => {
            assert_eq!(keys(body), ["handed_off", "message"]);
            assert_eq!(body["handed_off"], true);
            message(&body["message"]);
        }
        Route::GetCard => {
            assert_eq!(keys(body), BUYER_CARD);
            assert_eq!(body["card_id"], chat.card_id.as_str());
            assert_eq!(body["sent_by"], "小美家纺客服");
        }
        Route::SelectOrder => {
            assert_eq!(keys(body), ["message", "order"]);
            message(&body["message"]);
        }
        Route::Queue | Route::GetPanel | Route::UseSolution => {
            panic!("{route:?} answered a buyer: {body}")
        }
    }
}

/// Staff see everything they saw before: verdicts, internal notes, accounts, solution ids.
fn staff_shape(route: Route, body: &Value, chat: &Chat) {
    match route {
        Route::PostMessage => {
            assert_eq!(keys(body), ["message"]);
            assert_eq!(body["message"]["sender"]["role"], "agent");
            assert!(body["message"]["sender"]["id"].is_string());
        }
        Route::ListMessages => {
            assert_staff_messages(body);
            let all = body["messages"].as_array().unwrap();
            assert!(all.iter().any(|m| m["sender"]["id"] == chat.buyer));
        }
        Route::Queue => {
            let items = body["items"].as_array().unwrap();
            assert!(items.iter().all(|i| i["buyer_id"].is_string()));
        }
        Route::GetCard => {
            assert_eq!(body["card_id"], chat.card_id.as_str());
            assert!(body["sent_as"].is_string() && body["reason"].is_string());
        }
        Route::GetPanel => {
            assert_eq!(body["state"], "ready");
            assert!(body["intent"]["evidence"].is_array());
            assert_eq!(body["solution"]["solution_id"], "urge_shipment.overdue");
        }
        Route::UseSolution => assert_eq!(body["message"]["solution_id"], "urge_shipment.overdue"),
        Route::OpenConversation | Route::RateRobot | Route::SelectOrder => {
            panic!("{route:?} answered staff: {body}")
        }
    }
}

#[tokio::test]
async fn every_route_role_and_scope_has_its_status_and_its_shape() {
    let mut cells = 0;
    for (route, expected) in MATRIX {
        for (r, role) in ROLES.iter().enumerate() {
            for (s, scope) in SCOPES.iter().enumerate() {
                // A fresh fixture per cell: one cell's writes never decide another's answer.
                let f = fixture(stage_for(*route)).await;
                let got = call(&f, *route, &actor(*role), *scope).await;
                let code = status(*route, &got);
                assert_eq!(
                    code, expected[r][s],
                    "{route:?} as {role:?} on {scope:?}: {got:?}"
                );
                if let Ok(body) = &got {
                    match role {
                        Role::Buyer => buyer_shape(*route, body, f.chat(*scope)),
                        _ => staff_shape(*route, body, f.chat(*scope)),
                    }
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, MATRIX.len() * 12);
}

#[tokio::test]
async fn a_buyers_question_answer_has_the_card_by_the_shops_name_and_no_verdict() {
    let f = fixture(Stage::CardOpen).await;
    for chat in &f.chats {
        let staff = ["agent1", "agent2"];
        let (robot, asked) = (&chat.asked[0], &chat.asked[1]);
        assert!(leaks(robot, &staff).is_empty(), "{robot}");
        assert!(leaks(asked, &staff).is_empty(), "{asked}");
        assert_eq!(robot["robot_reply"]["sender"], json!({"role": "robot"}));
        assert_eq!(asked["message"]["sender"], json!({"role": "buyer"}));
        assert_eq!(keys(&asked["card"]), BUYER_CARD);
        assert_eq!(asked["card"]["sent_by"], "小美家纺客服");
        assert!(asked["robot_reply"].is_null());
        // What the buyer's answer left out is still there for the agents.
        let agent = Actor::Agent {
            user: user("agent1"),
            shop: shop_of(chat.shop),
        };
        let seen = panel(&f.store, &agent, &chat.id, T0 + 2000).await.unwrap();
        let verdict = seen.intent.expect("the agents see the verdict");
        assert_eq!(verdict.intent.as_str(), "urge_shipment");
        assert!(!verdict.evidence.is_empty());
    }
}

#[tokio::test]
async fn staff_see_the_agent_by_account_and_the_buyer_by_the_shops_name() {
    let f = fixture(Stage::Ready).await;
    let chat = f.chat(Scope::Own);
    let staff = ok(view::messages(&f.store, &actor(Role::Agent), &chat.id).await).unwrap();
    let buyer = ok(view::messages(&f.store, &actor(Role::Buyer), &chat.id).await).unwrap();
    let agent_lines = |v: &Value| -> Vec<Value> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sender"]["role"] == "agent")
            .map(|m| m["sender"].clone())
            .collect()
    };
    let (staff_side, buyer_side) = (agent_lines(&staff), agent_lines(&buyer));
    assert!(staff_side.iter().all(|s| s["id"] == "agent1"));
    assert!(buyer_side
        .iter()
        .all(|s| *s == json!({"role": "agent", "name": "小美家纺客服"})));
    // The internal note is the one agent message the buyer does not get.
    assert_eq!(staff_side.len(), buyer_side.len() + 1);
    let shop = f.store.shop(&shop_of("shop1")).await.unwrap().unwrap();
    assert_eq!(shop.agent_name(Some(&user("agent1"))), "小美家纺客服");
}
