//! Fixtures for tests on either store and for the demo: the demo shop (two shops, agents, an
//! admin, a main buyer with orders in several nodes and one buyer per node, relative to `now`),
//! and the helpers the use-case tests in `shared/domain/tests/usecases/` share: the callers, a seeded
//! [`MemoryStore`], a request body read as the handlers read it, a result as the JSON a handler
//! would answer, and a refusal by its error code. The `assistant` command seeds the same shop
//! (`assistant_cli::seed` re-exports it), so the tests and the demo speak of the same orders.

use crate::MemoryStore;
use assistant_domain::model::compensation::{DueCompensation, DUE_SHARDS};
use assistant_domain::model::conversation::{Conversation, Message, Shop};
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::ConversationId;
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::{
    AfterSale, AfterSaleKind, CloseReason, Order, OrderItem, OrderNode,
};
use assistant_domain::model::shop::{Agent, ServingRule};
use assistant_domain::model::time::{Millis, DAY, HOUR};
use assistant_domain::ports::{CompensationStore, ConversationStore, OrderStore, ShopStore, Store};
use assistant_domain::usecases::{
    list_messages, open_conversation, post_buyer_message, select_order, Backoff, IntakeOutcome,
    OpenConversation, PostMessage,
};
use assistant_domain::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

// ---- the demo shop ---------------------------------------------------------------------------

pub const SHOP: &str = "xiaolu-home";
pub const OTHER_SHOP: &str = "dapeng-digital";
pub const AGENTS: [&str; 2] = ["agent-xiaomei", "agent-ahao"];
pub const ADMIN: &str = "admin-lin";
/// The buyer of the scripted conversation: several orders in several nodes.
pub const MAIN_BUYER: &str = "buyer-zhang";
/// The other shop's one agent: sees nothing of the demo shop.
pub const OTHER_SHOP_AGENT: &str = "agent-dapeng";
/// A platform operator (平台运营).
pub const PLATFORM_OPERATOR: &str = "platform-ops";

/// An order of `buyer` in `shop` placed `age` ago, in `node` at `now`, with that node's facts.
pub fn order_in(
    shop: &str,
    buyer: &str,
    order_id: &str,
    items: Vec<OrderItem>,
    node: OrderNode,
    age: Millis,
    now: Millis,
) -> Order {
    let created = now - age;
    let mut o = Order::placed(id_of(order_id), id_of(shop), id_of(buyer), items, created);
    if node == OrderNode::Unpaid {
        return o;
    }
    let paid = created + 5 * 60_000;
    o.paid_at = Some(paid);
    // 48-hour promise (48小时发货), unless the node needs it already past.
    o.promised_ship_by = Some(paid + 48 * HOUR);
    match node {
        OrderNode::Unpaid => {}
        OrderNode::AwaitingShipment => {
            o.promised_ship_by = Some((paid + 48 * HOUR).max(now + 18 * HOUR));
        }
        OrderNode::Overdue => {
            o.promised_ship_by = Some((now - 6 * HOUR).min(paid + 48 * HOUR));
        }
        OrderNode::Shipped | OrderNode::Delivered | OrderNode::AfterSale => {
            o.shipped_at = Some(paid + 20 * HOUR);
            o.courier = Some("中通快递".into());
            o.tracking_no = Some(format!("ZT78{}", &order_id[order_id.len() - 9..]));
            if node != OrderNode::Shipped {
                o.delivered_at = Some(paid + 60 * HOUR);
            }
            if node == OrderNode::AfterSale {
                o.after_sale = Some(AfterSale {
                    kind: AfterSaleKind::Return,
                    opened_at: paid + 70 * HOUR,
                    closed_at: None,
                });
            }
        }
        OrderNode::Closed => {
            o.closed_at = Some(paid + HOUR);
            o.close_reason = Some(CloseReason::Cancelled);
        }
    }
    o
}

/// The buyer used for each node's short demo conversation, and their one order.
pub fn node_buyers(now: Millis) -> Vec<(OrderNode, Order)> {
    // (node, buyer, item): the orders are numbered 6930000000000000101, …102 and on.
    let products = [
        (OrderNode::Unpaid, "buyer-li", ("原木收纳凳", 1, 8900)),
        (
            OrderNode::AwaitingShipment,
            "buyer-wang",
            ("亚麻桌布 140×180cm", 1, 5900),
        ),
        (OrderNode::Overdue, "buyer-zhao", ("记忆棉枕头", 2, 6900)),
        (OrderNode::Shipped, "buyer-chen", ("香薰蜡烛礼盒", 1, 12800)),
        (OrderNode::Delivered, "buyer-liu", ("珊瑚绒毯子", 1, 9900)),
        (
            OrderNode::AfterSale,
            "buyer-yang",
            ("陶瓷餐具套装", 1, 25900),
        ),
        (OrderNode::Closed, "buyer-huang", ("落地灯", 1, 19900)),
    ];
    products
        .into_iter()
        .zip(101..)
        .map(|((node, buyer, (name, quantity, fen)), n)| {
            let order_id = format!("6930000000000000{n}");
            let items = vec![OrderItem::new(name, quantity, fen)];
            (
                node,
                order_in(SHOP, buyer, &order_id, items, node, 3 * DAY, now),
            )
        })
        .collect()
}

/// The main buyer's orders: several nodes at once, so the card has something to choose from.
pub fn main_buyer_orders(now: Millis) -> Vec<Order> {
    vec![
        order_in(
            SHOP,
            MAIN_BUYER,
            "6930000000000000001",
            vec![OrderItem::new("纯棉四件套 1.8m床", 1, 29900)],
            OrderNode::Overdue,
            3 * DAY,
            now,
        ),
        order_in(
            SHOP,
            MAIN_BUYER,
            "6930000000000000002",
            vec![
                OrderItem::new("北欧陶瓷马克杯 350ml", 2, 3900),
                OrderItem::new("实木杯垫", 2, 900),
            ],
            OrderNode::AwaitingShipment,
            DAY,
            now,
        ),
        order_in(
            SHOP,
            MAIN_BUYER,
            "6930000000000000003",
            vec![OrderItem::new("棉麻抱枕套", 2, 3500)],
            OrderNode::Delivered,
            9 * DAY,
            now,
        ),
        order_in(
            SHOP,
            MAIN_BUYER,
            "6930000000000000004",
            vec![OrderItem::new("加厚浴巾", 1, 4900)],
            OrderNode::Closed,
            2 * HOUR,
            now,
        ),
        // The same buyer in another shop: never on this shop's card.
        order_in(
            OTHER_SHOP,
            MAIN_BUYER,
            "6930000000000000999",
            vec![OrderItem::new("蓝牙耳机", 1, 19900)],
            OrderNode::Overdue,
            2 * DAY,
            now,
        ),
    ]
}

/// Writes the demo shops and orders.
pub async fn seed<S: OrderStore + ShopStore>(store: &S, now: Millis) -> Result<()> {
    store
        .put_shop(&Shop {
            shop_id: id_of(SHOP),
            name: "小鹿家居旗舰店".into(),
            agents: vec![
                Agent::new(id_of(AGENTS[0]), Some("小鹿家居-小美")),
                Agent::new(id_of(AGENTS[1]), Some("小鹿家居-阿豪")),
            ],
            serving_rule: ServingRule::ByBuyer,
            robot_on: false,
        })
        .await?;
    store.put_deposit(&id_of(SHOP), Fen(200_000)).await?;
    store
        .put_shop(&Shop {
            shop_id: id_of(OTHER_SHOP),
            name: "大鹏数码专营店".into(),
            agents: vec![Agent::new(id_of(OTHER_SHOP_AGENT), None)],
            serving_rule: ServingRule::Fixed {
                agent_id: id_of(OTHER_SHOP_AGENT),
            },
            robot_on: true,
        })
        .await?;
    store.put_deposit(&id_of(OTHER_SHOP), Fen(100_000)).await?;
    for order in main_buyer_orders(now)
        .into_iter()
        .chain(node_buyers(now).into_iter().map(|(_, o)| o))
    {
        store.put_order(&order).await?;
    }
    Ok(())
}

// ---- the use-case tests' helpers -------------------------------------------------------------

/// A fixed "now" for the tests: 2026-11-23T10:00:00Z.
pub const NOW: Millis = 1_795_428_000_000;

/// A `MemoryStore` with the demo shop seeded at `NOW - 1h`.
pub async fn seeded() -> MemoryStore {
    let store = MemoryStore::default();
    seed(&store, NOW - HOUR).await.expect("seed");
    store
}

/// The one order of `node`'s buyer (see [`node_buyers`]), as [`seeded`] stores it.
pub fn node_order(node: OrderNode) -> Order {
    node_buyers(NOW - HOUR)
        .into_iter()
        .find(|(n, _)| *n == node)
        .map(|(_, order)| order)
        .expect("a buyer for every node")
}

/// The entry for `solution_id` in a JSON list of solutions or adoption rows.
pub fn solution_in(list: &Value, solution_id: &str) -> Value {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|s| s["solution_id"] == solution_id)
        .unwrap_or_else(|| panic!("{solution_id} in {list}"))
        .clone()
}

/// A buyer, by user id.
pub fn buyer(id: &str) -> Actor {
    Actor::Buyer(id_of(id))
}

/// The demo shop's first agent, signed in for `shop`.
pub fn agent_of(shop: &str) -> Actor {
    Actor::Agent {
        user: id_of(AGENTS[0]),
        shop: id_of(shop),
    }
}

/// The demo shop's admin, signed in for `shop`.
pub fn admin_of(shop: &str) -> Actor {
    Actor::ShopAdmin {
        user: id_of(ADMIN),
        shop: id_of(shop),
    }
}

/// A platform operator (平台运营).
pub fn platform() -> Actor {
    Actor::Platform(id_of("ops-wang"))
}

/// A typed id (`ConversationId`, `ShopId`, `OrderId`, `UserId`) from a valid literal.
pub fn id_of<T: DeserializeOwned>(raw: &str) -> T {
    serde_json::from_value(Value::String(raw.into()))
        .unwrap_or_else(|e| panic!("{raw} is a valid id: {e}"))
}

/// A request body, read as the handlers read it (`assistant_aws::http::Request::json`): serde
/// names the field and what is wrong.
pub fn parse_body<T: DeserializeOwned>(body: Value) -> Result<T> {
    serde_json::from_value(body).map_err(|e| Error::invalid("body", e.to_string()))
}

/// A request body that must be well formed.
pub fn body<T: DeserializeOwned>(body: Value) -> T {
    parse_body(body).unwrap_or_else(|e| panic!("a well-formed body: {e}"))
}

/// What a handler would answer for a use case that succeeded: the result as JSON.
pub fn ok<T: Serialize>(result: Result<T>) -> Value {
    match result {
        Ok(value) => serde_json::to_value(value).expect("results serialize"),
        Err(e) => panic!("expected success, got {}: {e}", e.code()),
    }
}

/// Asserts a refusal with error `code` (`not_found`, `forbidden`, `invalid_input`, `conflict`,
/// `robot_off`…) and a message for a person; returns the message.
pub fn refused<T: std::fmt::Debug>(result: Result<T>, code: &str) -> String {
    match result {
        Ok(value) => panic!("expected {code}, got {value:?}"),
        Err(e) => {
            assert_eq!(e.code(), code, "{e}");
            let message = e.public_message();
            assert!(!message.is_empty(), "a message for {code}");
            message
        }
    }
}

/// A buyer's message to the demo shop.
pub fn ask(text: &str) -> PostMessage {
    PostMessage {
        shop_id: Some(id_of(SHOP)),
        text: text.into(),
    }
}

/// A buyer's message as the use-case tests write it: into conversation `id`, which is opened
/// under that id first (`open_conversation`, as `POST /conversations` does under a minted one)
/// when the buyer names a shop and no conversation has that id yet. Otherwise it is exactly
/// `post_buyer_message`, which never creates one.
pub async fn buyer_says<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<IntakeOutcome> {
    if let (Actor::Buyer(_), Some(shop_id)) = (actor, &input.shop_id) {
        if store.conversation(id).await?.is_none() {
            let open = OpenConversation {
                shop_id: shop_id.clone(),
                text: input.text,
            };
            return open_conversation(store, actor, id, open, now).await;
        }
    }
    post_buyer_message(store, actor, id, input, now).await
}

/// The main buyer writes `text` in `conversation` at `NOW`; the outcome as JSON.
pub async fn urge(store: &MemoryStore, conversation: &str, text: &str) -> Value {
    ok(buyer_says(
        store,
        &buyer(MAIN_BUYER),
        &id_of(conversation),
        ask(text),
        NOW,
    )
    .await)
}

/// The main buyer asks `text` in `conversation` and confirms the card's guess, at `NOW`; the
/// answer's outcome (`message`, `order`, `panel`) as JSON.
pub async fn confirmed(store: &MemoryStore, conversation: &str, text: &str) -> Value {
    let asked = urge(store, conversation, text).await;
    let confirm = body(serde_json::json!({"via": "confirm", "card_id": asked["card"]["card_id"]}));
    let id = id_of(conversation);
    ok(select_order(store, &buyer(MAIN_BUYER), &id, confirm, NOW).await)
}

/// Everything stored for a conversation: to prove a refused request changed nothing.
pub async fn snapshot(store: &MemoryStore, id: &str) -> (Option<Conversation>, Vec<Message>) {
    let id: ConversationId = id_of(id);
    (
        store.conversation(&id).await.unwrap(),
        store.messages(&id, 1000).await.unwrap(),
    )
}

/// Every due compensation, over all shards, on either store.
pub async fn all_due(store: &impl CompensationStore) -> Vec<DueCompensation> {
    let mut out = Vec::new();
    for shard in 0..DUE_SHARDS {
        let mut after = None;
        loop {
            let page = store.due(shard, 100, after).await.unwrap();
            out.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    out
}

/// A retry backoff that does not wait.
pub struct NoWait;

impl Backoff for NoWait {
    async fn wait(&self, _attempt: u32) {}
}

/// A conversation's messages as `actor` sees them, oldest first, as the handler's `messages`.
pub async fn messages_seen(store: &MemoryStore, conversation: &str, actor: &Actor) -> Vec<Value> {
    let messages = ok(list_messages(store, actor, &id_of(conversation)).await);
    serde_json::from_value(messages).expect("a list of messages")
}
