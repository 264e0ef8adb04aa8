//! A demo shop with agents, buyers and orders in every node, relative to `now`. The shops are
//! onboarded through the shops handler (`PUT /shops/{id}` and a deposit top-up), as the
//! platform onboards a real one.

use assistant_aws::http::local_event;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::order::{
    AfterSale, AfterSaleKind, CloseReason, Order, OrderItem, OrderNode,
};
use assistant_domain::model::time::{Millis, DAY, HOUR};
use assistant_domain::ports::{OrderStore, PlatformStore, ShopStore};
use assistant_domain::{Error, Result};
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;

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

/// The demo shops as the platform onboards them: (shop, name, agents with display names, the
/// serving rule, the deposit topped up in fen).
pub fn demo_shops() -> Vec<(&'static str, serde_json::Value, i64)> {
    vec![
        (
            SHOP,
            serde_json::json!({
                "name": "小鹿家居旗舰店",
                "agents": [
                    {"agent_id": AGENTS[0], "display_name": "小鹿家居-小美"},
                    {"agent_id": AGENTS[1], "display_name": "小鹿家居-阿豪"}
                ],
                "serving_rule": {"serving": "by_buyer"}
            }),
            200_000,
        ),
        (
            OTHER_SHOP,
            serde_json::json!({
                "name": "大鹏数码专营店",
                "agents": [{"agent_id": OTHER_SHOP_AGENT}],
                "serving_rule": {"serving": "fixed", "agent_id": OTHER_SHOP_AGENT}
            }),
            100_000,
        ),
    ]
}

/// Onboards the demo shops through the shops handler, as the platform would: `PUT /shops/{id}`,
/// then a deposit top-up whose `Idempotency-Key` is the shop's, so seeding twice tops up once.
pub async fn onboard_shops<S: PlatformStore + ShopStore>(store: &S, now: Millis) -> Result<()> {
    let platform = [("sub", PLATFORM_OPERATOR), ("role", "platform")];
    for (shop, profile, fen) in demo_shops() {
        let params = [("shop_id", shop)];
        let put = local_event("PUT /shops/{shop_id}", &params, &platform, Some(&profile));
        expect_ok("PUT /shops", shops::handle(store, put, now).await)?;
        let body = serde_json::json!({ "amount": fen });
        let mut top_up = local_event(
            "POST /shops/{shop_id}/deposit",
            &params,
            &platform,
            Some(&body),
        );
        let key = format!("seed-{shop}-deposit");
        top_up.headers.insert(
            "idempotency-key",
            key.parse()
                .map_err(|_| Error::Internal("a header value".into()))?,
        );
        expect_ok(
            "POST /shops/deposit",
            shops::handle(store, top_up, now).await,
        )?;
    }
    Ok(())
}

/// A seeding call's answer: fine when 2xx, else the handler's own error text.
fn expect_ok(what: &str, resp: ApiGatewayV2httpResponse) -> Result<()> {
    if (200..300).contains(&resp.status_code) {
        return Ok(());
    }
    let body = match resp.body {
        Some(Body::Text(text)) => text,
        _ => String::new(),
    };
    Err(Error::Internal(
        format!("{what} answered {}: {body}", resp.status_code).into(),
    ))
}

/// Writes the demo shops (onboarded through the shops handler) and orders.
pub async fn seed<S: OrderStore + ShopStore + PlatformStore>(store: &S, now: Millis) -> Result<()> {
    onboard_shops(store, now).await?;
    for order in main_buyer_orders(now)
        .into_iter()
        .chain(node_buyers(now).into_iter().map(|(_, o)| o))
    {
        store.put_order(&order).await?;
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
