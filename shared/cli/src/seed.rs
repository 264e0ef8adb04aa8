//! A demo shop with agents, buyers and orders in every node, relative to `now`.

use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::{
    AfterSale, AfterSaleKind, CloseReason, Order, OrderItem, OrderNode,
};
use assistant_domain::model::order_facts::events_of;
use assistant_domain::model::time::{Millis, DAY, HOUR};
use assistant_domain::ports::{OrderStore, ShopStore};
use assistant_domain::usecases::KnownShops;
use assistant_domain::{Error, Result};

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

/// Who may sign in to the local stack: the JWT claims of every seeded person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub sub: String,
    pub role: &'static str,
    pub shop_id: Option<&'static str>,
}

/// Every seeded identity: the buyers (the main one first), the demo shop's agents and admin, the
/// other shop's agent and a platform operator.
pub fn identities() -> Vec<Identity> {
    let person = |sub: &str, role, shop_id| Identity {
        sub: sub.to_string(),
        role,
        shop_id,
    };
    let mut out = vec![person(MAIN_BUYER, "buyer", None)];
    for (_, order) in node_buyers(0) {
        out.push(person(order.buyer_id.as_str(), "buyer", None));
    }
    for agent in AGENTS {
        out.push(person(agent, "agent", Some(SHOP)));
    }
    out.push(person(ADMIN, "shop_admin", Some(SHOP)));
    out.push(person(OTHER_SHOP_AGENT, "agent", Some(OTHER_SHOP)));
    out.push(person(PLATFORM_OPERATOR, "platform", None));
    out
}

fn id<T>(parse: fn(String) -> Result<T>, raw: &str) -> T {
    parse(raw.to_string()).expect("seed ids are valid")
}

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
    let mut o = Order::placed(
        id(OrderId::parse, order_id),
        id(ShopId::parse, shop),
        id(UserId::parse, buyer),
        items,
        created,
    );
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

/// Writes the demo shops and publishes the demo orders as order events through the `orders`
/// handler.
pub async fn seed<S: OrderStore + ShopStore>(store: &S, now: Millis) -> Result<()> {
    seed_shops(store).await?;
    publish_orders(store, now).await
}

/// Writes the demo shops.
pub async fn seed_shops<S: ShopStore>(store: &S) -> Result<()> {
    store
        .put_shop(&Shop {
            shop_id: id(ShopId::parse, SHOP),
            name: "小鹿家居旗舰店".into(),
            agents: AGENTS.iter().map(|a| id(UserId::parse, a)).collect(),
            robot_on: false,
            deposit: Fen(200_000),
        })
        .await?;
    store
        .put_shop(&Shop {
            shop_id: id(ShopId::parse, OTHER_SHOP),
            name: "大鹏数码专营店".into(),
            agents: vec![id(UserId::parse, OTHER_SHOP_AGENT)],
            robot_on: true,
            deposit: Fen(100_000),
        })
        .await?;
    Ok(())
}

/// Every demo order (the main buyer's and one buyer per node).
pub fn demo_orders(now: Millis) -> Vec<Order> {
    main_buyer_orders(now)
        .into_iter()
        .chain(node_buyers(now).into_iter().map(|(_, o)| o))
        .collect()
}

/// The demo orders as the order system publishes them: one EventBridge event per step of every
/// order (`events/schema/order-event.json`), in the order the steps happened.
pub fn demo_order_events(now: Millis) -> Vec<serde_json::Value> {
    let mut events: Vec<_> = demo_orders(now)
        .iter()
        .flat_map(|o| events_of(o, "demo"))
        .collect();
    events.sort_by_key(|e| e.occurred_at);
    events.iter().map(orders::envelope).collect()
}

/// Publishes the demo orders as order events through the `orders` handler, as EventBridge
/// delivers them: no order is written any other way.
pub async fn publish_orders<S: OrderStore + ShopStore>(store: &S, now: Millis) -> Result<()> {
    let known = KnownShops::default();
    for event in demo_order_events(now) {
        orders::handle(store, &known, event)
            .await
            .map_err(|e| Error::Internal(Box::new(e)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_the_seeded_people_once_each() {
        let ids = identities();
        let mut subs: Vec<&str> = ids.iter().map(|i| i.sub.as_str()).collect();
        subs.sort_unstable();
        subs.dedup();
        assert_eq!(subs.len(), ids.len(), "no identity twice");
        assert_eq!(ids[0].sub, MAIN_BUYER);
        assert!(ids
            .iter()
            .all(|i| (i.role == "buyer" || i.role == "platform") == i.shop_id.is_none()));
        assert!(ids
            .iter()
            .any(|i| i.sub == ADMIN && i.role == "shop_admin" && i.shop_id == Some(SHOP)));
        assert_eq!(ids.iter().filter(|i| i.role == "buyer").count(), 8);
    }
}
