//! Orders and their nodes (订单节点). An order keeps the instant of every step, so its node can be
//! judged at any moment, not only now (the compensation rule judges at the message's time).

use crate::model::ids::{OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    /// The product's title as the buyer saw it (商品名称).
    pub name: String,
    pub quantity: u32,
    pub unit_price: Fen,
}

impl OrderItem {
    /// `quantity` of `name` at `unit_fen` each.
    pub fn new(name: &str, quantity: u32, unit_fen: i64) -> OrderItem {
        OrderItem {
            name: name.into(),
            quantity,
            unit_price: Fen(unit_fen),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleKind {
    /// 仅退款
    Refund,
    /// 退货退款
    Return,
    /// 换货
    Exchange,
}

/// An after-sales case (售后) on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterSale {
    pub kind: AfterSaleKind,
    pub opened_at: Millis,
    /// When the case ended (finished or withdrawn); open until then.
    pub closed_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// 已取消
    Cancelled,
    /// 已退款
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    pub items: Vec<OrderItem>,
    pub total: Fen,
    pub created_at: Millis,
    pub paid_at: Option<Millis>,
    /// 预期发货时效: the promised latest ship time. "Past" it means strictly after.
    pub promised_ship_by: Option<Millis>,
    pub shipped_at: Option<Millis>,
    pub courier: Option<String>,
    pub tracking_no: Option<String>,
    pub delivered_at: Option<Millis>,
    pub after_sale: Option<AfterSale>,
    pub closed_at: Option<Millis>,
    pub close_reason: Option<CloseReason>,
}

/// 订单节点 for the urge-shipment scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderNode {
    /// 待付款
    Unpaid,
    /// 待发货 (before the promised ship time)
    AwaitingShipment,
    /// 超时未发货 (paid, not shipped, past the promised ship time)
    Overdue,
    /// 已发货
    Shipped,
    /// 已签收
    Delivered,
    /// 售后中
    AfterSale,
    /// 已关闭
    Closed,
}

impl OrderNode {
    pub const ALL: [OrderNode; 7] = [
        OrderNode::Unpaid,
        OrderNode::AwaitingShipment,
        OrderNode::Overdue,
        OrderNode::Shipped,
        OrderNode::Delivered,
        OrderNode::AfterSale,
        OrderNode::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderNode::Unpaid => "unpaid",
            OrderNode::AwaitingShipment => "awaiting_shipment",
            OrderNode::Overdue => "overdue",
            OrderNode::Shipped => "shipped",
            OrderNode::Delivered => "delivered",
            OrderNode::AfterSale => "after_sale",
            OrderNode::Closed => "closed",
        }
    }

    /// The status word a buyer or agent reads on a card.
    pub fn label(self) -> &'static str {
        match self {
            OrderNode::Unpaid => "待付款",
            OrderNode::AwaitingShipment => "待发货",
            OrderNode::Overdue => "超时未发货",
            OrderNode::Shipped => "已发货",
            OrderNode::Delivered => "已签收",
            OrderNode::AfterSale => "售后中",
            OrderNode::Closed => "已关闭",
        }
    }
}

fn by(at: Option<Millis>, now: Millis) -> bool {
    at.is_some_and(|t| t <= now)
}

impl Order {
    /// An order of `buyer_id` in `shop_id` for `items`, placed at `created_at` and nothing
    /// happened since (待付款): its total is the items' price.
    pub fn placed(
        order_id: OrderId,
        shop_id: ShopId,
        buyer_id: UserId,
        items: Vec<OrderItem>,
        created_at: Millis,
    ) -> Order {
        let total = Fen(items
            .iter()
            .map(|i| i.unit_price.0 * i64::from(i.quantity))
            .sum());
        Order {
            order_id,
            shop_id,
            buyer_id,
            items,
            total,
            created_at,
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

    /// The node this order is in at `now`. Later steps win over earlier ones.
    pub fn node_at(&self, now: Millis) -> OrderNode {
        if by(self.closed_at, now) {
            return OrderNode::Closed;
        }
        if let Some(case) = &self.after_sale {
            if case.opened_at <= now && !by(case.closed_at, now) {
                return OrderNode::AfterSale;
            }
        }
        if by(self.delivered_at, now) {
            return OrderNode::Delivered;
        }
        if by(self.shipped_at, now) {
            return OrderNode::Shipped;
        }
        if !by(self.paid_at, now) {
            return OrderNode::Unpaid;
        }
        match self.promised_ship_by {
            Some(deadline) if now > deadline => OrderNode::Overdue,
            _ => OrderNode::AwaitingShipment,
        }
    }

    /// Paid and not yet shipped at `now` (待发货 or 超时未发货).
    pub fn is_unshipped_paid_at(&self, now: Millis) -> bool {
        matches!(
            self.node_at(now),
            OrderNode::AwaitingShipment | OrderNode::Overdue
        )
    }

    /// "纯棉四件套 等3件": the first item's name and how many items in all.
    pub fn title(&self) -> String {
        let first = self
            .items
            .first()
            .map(|i| i.name.as_str())
            .unwrap_or("商品");
        let count: u32 = self.items.iter().map(|i| i.quantity).sum();
        if self.items.len() > 1 || count > 1 {
            format!("{first} 等{count}件")
        } else {
            first.to_string()
        }
    }
}

/// Orders for tests at one fixed instant [`fixtures::T0`]: this crate's unit tests use them, and
/// the testkit's builders hand them on (feature `fixtures`, never in a function binary).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    use super::*;
    use crate::model::time::{DAY, HOUR};

    /// The instant the orders are judged at (2026-11-18 in Beijing).
    pub const T0: Millis = 1_795_000_000_000;
    pub const SHOP: &str = "shop1";
    pub const BUYER: &str = "buyer1";

    /// An order of [`BUYER`] in [`SHOP`], with nothing happened yet (unpaid at `T0`).
    pub fn order(id: &str) -> Order {
        Order::placed(
            OrderId::parse(id).expect("a valid order id"),
            ShopId::parse(SHOP).expect("a valid shop id"),
            UserId::parse(BUYER).expect("a valid user id"),
            vec![OrderItem::new("纯棉四件套 1.8米床", 1, 29900)],
            T0 - 3 * DAY,
        )
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
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use crate::model::time::{DAY, HOUR};

    #[test]
    fn every_node_is_reachable() {
        for node in OrderNode::ALL {
            assert_eq!(order_in("100000000001", node).node_at(T0), node, "{node:?}");
        }
    }

    #[test]
    fn overdue_means_strictly_after_the_promise() {
        let mut o = order_in("100000000001", OrderNode::AwaitingShipment);
        o.promised_ship_by = Some(T0);
        assert_eq!(o.node_at(T0), OrderNode::AwaitingShipment);
        assert_eq!(o.node_at(T0 + 1), OrderNode::Overdue);
    }

    #[test]
    fn node_is_judged_at_the_given_moment() {
        let mut o = order_in("100000000001", OrderNode::Overdue);
        o.shipped_at = Some(T0 + HOUR);
        assert_eq!(o.node_at(T0), OrderNode::Overdue);
        assert_eq!(o.node_at(T0 + HOUR), OrderNode::Shipped);
        // before payment it was unpaid
        assert_eq!(o.node_at(T0 - 3 * DAY), OrderNode::Unpaid);
    }

    #[test]
    fn a_closed_after_sale_case_falls_back_to_the_delivery_node() {
        let mut o = order_in("100000000001", OrderNode::AfterSale);
        o.after_sale.as_mut().unwrap().closed_at = Some(T0);
        assert_eq!(o.node_at(T0), OrderNode::Delivered);
    }

    #[test]
    fn paid_without_promise_is_awaiting_not_overdue() {
        let mut o = order_in("100000000001", OrderNode::AwaitingShipment);
        o.promised_ship_by = None;
        assert_eq!(o.node_at(T0 + 100 * DAY), OrderNode::AwaitingShipment);
    }

    #[test]
    fn title_counts_items() {
        let mut o = order("100000000001");
        assert_eq!(o.title(), "纯棉四件套 1.8米床");
        o.items[0].quantity = 2;
        assert_eq!(o.title(), "纯棉四件套 1.8米床 等2件");
    }
}
