//! Builders: a shop and orders in every node, at one fixed instant [`T0`], for tests on either
//! store.

use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::{
    AfterSale, AfterSaleKind, CloseReason, Order, OrderItem, OrderNode,
};
use assistant_domain::model::time::{Millis, DAY, HOUR};

/// The instant the builders' orders are judged at (2026-11-18 in Beijing).
pub const T0: Millis = 1_795_000_000_000;
pub const SHOP: &str = "shop1";
pub const BUYER: &str = "buyer1";
pub const AGENT: &str = "agent1";

pub fn shop_id(id: &str) -> ShopId {
    ShopId::parse(id).expect("a valid shop id")
}

pub fn user_id(id: &str) -> UserId {
    UserId::parse(id).expect("a valid user id")
}

pub fn order_id(id: &str) -> OrderId {
    OrderId::parse(id).expect("a valid order id")
}

/// A shop with one agent, the robot off and a deposit of 100 yuan.
pub fn shop(id: &str) -> Shop {
    Shop {
        shop_id: shop_id(id),
        name: "小美家纺".into(),
        agents: vec![user_id(AGENT)],
        robot_on: false,
        deposit: Fen(10_000),
    }
}

/// An order of [`BUYER`] in [`SHOP`], with nothing happened yet (unpaid at `T0`).
pub fn order(id: &str) -> Order {
    Order {
        order_id: order_id(id),
        shop_id: shop_id(SHOP),
        buyer_id: user_id(BUYER),
        items: vec![OrderItem {
            name: "纯棉四件套 1.8米床".into(),
            quantity: 1,
            unit_price: Fen(29900),
        }],
        total: Fen(29900),
        created_at: T0 - 3 * DAY,
        paid_at: None,
        promised_ship_by: None,
        shipped_at: None,
        courier: None,
        tracking_no: None,
        delivered_at: None,
        after_sale: None,
        closed_at: None,
        close_reason: None,
    }
}

/// An order in `node` at `T0`, with every fact that node usually has.
pub fn order_in(id: &str, node: OrderNode) -> Order {
    let mut o = order(id);
    let paid = |o: &mut Order| {
        o.paid_at = Some(T0 - 3 * DAY + HOUR);
        o.promised_ship_by = Some(T0 + DAY);
    };
    match node {
        OrderNode::Unpaid => {}
        OrderNode::AwaitingShipment => paid(&mut o),
        OrderNode::Overdue => {
            paid(&mut o);
            o.promised_ship_by = Some(T0 - HOUR);
        }
        OrderNode::Shipped | OrderNode::Delivered | OrderNode::AfterSale => {
            paid(&mut o);
            o.shipped_at = Some(T0 - DAY);
            o.courier = Some("中通快递".into());
            o.tracking_no = Some("ZT7312345678901".into());
            if node != OrderNode::Shipped {
                o.delivered_at = Some(T0 - HOUR);
            }
            if node == OrderNode::AfterSale {
                o.after_sale = Some(AfterSale {
                    kind: AfterSaleKind::Return,
                    opened_at: T0 - HOUR / 2,
                    closed_at: None,
                });
            }
        }
        OrderNode::Closed => {
            o.closed_at = Some(T0 - HOUR);
            o.close_reason = Some(CloseReason::Cancelled);
        }
    }
    o
}

/// The same order for another buyer or shop.
pub fn owned_by(mut order: Order, shop: &str, buyer: &str) -> Order {
    order.shop_id = shop_id(shop);
    order.buyer_id = user_id(buyer);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_is_built_as_asked() {
        for node in OrderNode::ALL {
            assert_eq!(order_in("100000000001", node).node_at(T0), node, "{node:?}");
        }
    }
}
