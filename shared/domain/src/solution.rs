//! Solutions (智能助手方案): for an (intent, order node), the replies (推荐话术) and actions
//! (推荐操作) the agent's panel offers. They are data: official wording with `{variables}` filled
//! from the order. When a fact a reply needs is missing, its fallback sentence is used instead, so a
//! raw `{placeholder}` never reaches a buyer.

use crate::intent::IntentId;
use crate::money::Fen;
use crate::order::{CloseReason, Order, OrderNode};
use crate::time::{beijing_text, ceil_hour, deadline_text, Millis, DAY};
use serde::{Deserialize, Serialize};

/// Variables a reply may use. Anything else in braces is a defect the tests catch.
pub const VARIABLES: &[&str] = &[
    "order_id",
    "item_name",
    "promised_ship_time",
    "new_ship_time",
    "coupon_amount",
    "courier",
    "tracking_no",
    "delivered_time",
    "close_reason",
];

/// A reply as written in the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTemplate {
    pub text: &'static str,
    /// Used when any variable of `text` has no value for this order. It may use only `order_id`
    /// and `item_name`, which every order has.
    pub fallback: &'static str,
}

/// What an action does when the agent sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// 发送订单卡片
    SendOrderCard,
    /// 提醒仓库发货 (to the shop's warehouse; the buyer does not see it)
    RemindWarehouse,
    /// 加急提醒仓库发货
    RemindWarehouseUrgent,
    /// 发送发货时效卡片
    SendPromisedDateCard,
    /// 报备发货延迟 (to the platform; the buyer does not see it)
    ReportShippingDelay,
    /// 发送物流卡片
    SendLogisticsCard,
    /// 发送物流卡片(含签收凭证)
    SendLogisticsCardWithProof,
    /// 发送售后入口
    SendAfterSaleEntry,
}

impl ActionKind {
    pub fn id(self) -> &'static str {
        match self {
            ActionKind::SendOrderCard => "send_order_card",
            ActionKind::RemindWarehouse => "remind_warehouse",
            ActionKind::RemindWarehouseUrgent => "remind_warehouse_urgent",
            ActionKind::SendPromisedDateCard => "send_promised_date_card",
            ActionKind::ReportShippingDelay => "report_shipping_delay",
            ActionKind::SendLogisticsCard => "send_logistics_card",
            ActionKind::SendLogisticsCardWithProof => "send_logistics_card_with_proof",
            ActionKind::SendAfterSaleEntry => "send_after_sale_entry",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionKind::SendOrderCard => "发送订单卡片",
            ActionKind::RemindWarehouse => "提醒仓库发货",
            ActionKind::RemindWarehouseUrgent => "加急提醒仓库发货",
            ActionKind::SendPromisedDateCard => "发送发货时效卡片",
            ActionKind::ReportShippingDelay => "报备发货延迟",
            ActionKind::SendLogisticsCard => "发送物流卡片",
            ActionKind::SendLogisticsCardWithProof => "发送物流卡片（含签收凭证）",
            ActionKind::SendAfterSaleEntry => "发送售后入口",
        }
    }

    /// Whether the buyer sees what this action sends.
    pub fn reaches_buyer(self) -> bool {
        !matches!(
            self,
            ActionKind::RemindWarehouse
                | ActionKind::RemindWarehouseUrgent
                | ActionKind::ReportShippingDelay
        )
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct SolutionTemplate {
    pub intent: IntentId,
    pub node: OrderNode,
    pub replies: &'static [ReplyTemplate],
    pub actions: &'static [ActionKind],
}

impl SolutionTemplate {
    /// Stable id: "urge_shipment.overdue".
    pub fn id(&self) -> String {
        format!("{}.{}", self.intent.as_str(), self.node.as_str())
    }
}

use ActionKind::*;
use OrderNode::*;

const fn reply(text: &'static str, fallback: &'static str) -> ReplyTemplate {
    ReplyTemplate { text, fallback }
}

/// The platform's official solutions for 催发货, one per order node.
pub const CATALOGUE: &[SolutionTemplate] = &[
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Unpaid,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）还没有付款哦～付款成功后我们会尽快为您安排发货，点开订单卡片就能直接付款。",
            "亲，您这笔订单（{order_id}）还没有付款哦～付款成功后我们会尽快为您安排发货。",
        )],
        actions: &[SendOrderCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，您的订单已付款成功，我们会在{promised_ship_time}为您发货，请您耐心等待。发货后可以在订单详情里查看物流哦～",
            "亲，您的订单已付款成功，我们会在承诺的发货时间内尽快为您发货，请您耐心等待。发货后可以在订单详情里查看物流哦～",
        )],
        actions: &[RemindWarehouse, SendPromisedDateCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Overdue,
        replies: &[reply(
            "非常抱歉，您的订单没能在承诺的{promised_ship_time}发出，给您添麻烦了！我们已经加急处理，预计{new_ship_time}发出。平台已先行向您发放{coupon_amount}优惠券作为补偿，可以在“我的-优惠券”里查看。",
            "非常抱歉，您的订单（{order_id}）没能按时发出，给您添麻烦了！我们已经加急处理，会尽快为您发出，发出后第一时间通知您。",
        )],
        actions: &[RemindWarehouseUrgent, ReportShippingDelay],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Shipped,
        replies: &[reply(
            "亲，您的订单已经发货啦！快递公司：{courier}，运单号：{tracking_no}。点开下方的物流卡片就能查看实时物流～",
            "亲，您的订单已经发货啦！物流信息可以在订单详情里查看～",
        )],
        actions: &[SendLogisticsCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Delivered,
        replies: &[reply(
            "亲，物流显示您的订单已于{delivered_time}签收（{courier}，运单号：{tracking_no}）。如果还没拿到，麻烦看看门口、快递柜或驿站，找不到的话随时告诉我们，马上帮您核实～",
            "亲，物流显示您的订单已经签收了。如果还没拿到，麻烦看看门口、快递柜或驿站，找不到的话随时告诉我们，马上帮您核实～",
        )],
        actions: &[SendLogisticsCardWithProof],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: AfterSale,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）正在售后处理中，可以在“订单详情-售后进度”里查看最新进展，点开售后入口也能直接查看。有任何问题随时联系我们～",
            "亲，您这笔订单（{order_id}）正在售后处理中，可以在“订单详情-售后进度”里查看最新进展～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Closed,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）{close_reason}，所以不会再发货了。如果还需要的话，可以重新下单，我们会尽快为您安排发货～",
            "亲，您这笔订单（{order_id}）已经关闭，所以不会再发货了。如果还需要的话，可以重新下单，我们会尽快为您安排发货～",
        )],
        actions: &[SendOrderCard],
    },
];

/// The reply the panel shows when the buyer has no order in this shop yet.
pub const NO_ORDER_REPLY: &str =
    "亲，没有查到您在本店的订单呢，麻烦发一下订单号或者订单卡片，我马上帮您查询～";

/// The catalogue entry for an intent and node, if the assistant covers it.
pub fn lookup(intent: IntentId, node: OrderNode) -> Option<&'static SolutionTemplate> {
    CATALOGUE
        .iter()
        .find(|s| s.intent == intent && s.node == node)
}

/// Whether the assistant has solutions for this intent at all (otherwise the robot may answer).
pub fn covers(intent: IntentId) -> bool {
    CATALOGUE.iter().any(|s| s.intent == intent)
}

/// A variable's value for this order at `now`, or None when the fact is missing.
pub fn variable(name: &str, order: &Order, now: Millis) -> Option<String> {
    let nonempty = |s: &Option<String>| s.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    match name {
        "order_id" => Some(order.order_id.to_string()),
        "item_name" => Some(order.title()),
        "promised_ship_time" => order.promised_ship_by.map(deadline_text),
        // A concrete new date: within a day from now, on the hour.
        "new_ship_time" => Some(deadline_text(ceil_hour(now + DAY))),
        "coupon_amount" => Some(Fen::OVERDUE_COUPON.yuan_text()),
        "courier" => nonempty(&order.courier),
        "tracking_no" => nonempty(&order.tracking_no),
        "delivered_time" => order.delivered_at.map(beijing_text),
        "close_reason" => order.close_reason.map(|r| {
            match r {
                CloseReason::Cancelled => "已经取消",
                CloseReason::Refunded => "已经退款关闭",
            }
            .to_string()
        }),
        _ => None,
    }
}

/// The names inside `{...}` in a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Fills every placeholder, or None if any has no value (or is not a known variable).
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = template.to_string();
    for name in placeholders(template) {
        let v = value(name)?;
        out = out.replacen(&format!("{{{name}}}"), &v, 1);
    }
    Some(out)
}

/// A reply ready for the agent: the filled text, or the filled fallback.
pub fn render_reply(reply: &ReplyTemplate, order: &Order, now: Millis) -> String {
    let value = |name: &str| variable(name, order, now);
    fill(reply.text, value)
        .or_else(|| fill(reply.fallback, value))
        // Only a broken catalogue gets here; the tests keep it from shipping. Never leak braces.
        .unwrap_or_else(|| reply.fallback.replace(['{', '}'], ""))
}

/// A solution rendered for one order: what the panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub solution_id: String,
    pub intent: IntentId,
    pub node: OrderNode,
    pub replies: Vec<RenderedReply>,
    pub actions: Vec<RenderedAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedReply {
    pub index: usize,
    pub text: String,
    /// "official" for the platform's reply.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedAction {
    pub action_id: ActionKind,
    pub label: String,
    pub reaches_buyer: bool,
}

pub fn render(template: &SolutionTemplate, order: &Order, now: Millis) -> Solution {
    Solution {
        solution_id: template.id(),
        intent: template.intent,
        node: template.node,
        replies: template
            .replies
            .iter()
            .enumerate()
            .map(|(index, r)| RenderedReply {
                index,
                text: render_reply(r, order, now),
                source: "official".into(),
            })
            .collect(),
        actions: template
            .actions
            .iter()
            .map(|a| RenderedAction {
                action_id: *a,
                label: a.label().to_string(),
                reaches_buyer: a.reaches_buyer(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::fixtures::*;

    #[test]
    fn urge_shipment_covers_all_seven_nodes() {
        for node in OrderNode::ALL {
            let s = lookup(IntentId::UrgeShipment, node).expect("a solution per node");
            assert!(!s.replies.is_empty() && !s.actions.is_empty(), "{node:?}");
        }
        assert!(covers(IntentId::UrgeShipment));
        assert!(!covers(IntentId::Invoice));
    }

    #[test]
    fn catalogue_uses_only_known_variables_and_safe_fallbacks() {
        for s in CATALOGUE {
            for r in s.replies {
                for p in placeholders(r.text) {
                    assert!(VARIABLES.contains(&p), "{}: unknown {{{p}}}", s.id());
                }
                for p in placeholders(r.fallback) {
                    assert!(
                        p == "order_id" || p == "item_name",
                        "{}: fallback may not need {{{p}}}",
                        s.id()
                    );
                }
            }
        }
    }

    #[test]
    fn replies_are_filled_with_the_orders_facts() {
        let o = order_in("100000000001", OrderNode::Shipped);
        let s = render(
            lookup(IntentId::UrgeShipment, OrderNode::Shipped).unwrap(),
            &o,
            T0,
        );
        assert!(s.replies[0].text.contains("中通快递"));
        assert!(s.replies[0].text.contains("ZT7312345678901"));
        assert_eq!(s.solution_id, "urge_shipment.shipped");
        assert_eq!(s.actions[0].action_id, ActionKind::SendLogisticsCard);
    }

    #[test]
    fn overdue_reply_names_the_promise_a_new_date_and_the_coupon() {
        let o = order_in("100000000001", OrderNode::Overdue);
        let s = render(
            lookup(IntentId::UrgeShipment, OrderNode::Overdue).unwrap(),
            &o,
            T0,
        );
        let text = &s.replies[0].text;
        assert!(
            text.contains(&deadline_text(o.promised_ship_by.unwrap())),
            "{text}"
        );
        assert!(text.contains(&deadline_text(ceil_hour(T0 + DAY))), "{text}");
        assert!(text.contains("3元优惠券"), "{text}");
    }

    #[test]
    fn missing_facts_use_the_fallback_and_never_leak_braces() {
        for node in OrderNode::ALL {
            let mut bare = order_in("100000000001", node);
            bare.courier = None;
            bare.tracking_no = Some("  ".into());
            bare.promised_ship_by = None;
            bare.close_reason = None;
            let s = render(lookup(IntentId::UrgeShipment, node).unwrap(), &bare, T0);
            for r in &s.replies {
                assert!(
                    !r.text.contains('{') && !r.text.contains('}'),
                    "{node:?}: {}",
                    r.text
                );
            }
        }
        let mut shipped = order_in("100000000001", OrderNode::Shipped);
        shipped.tracking_no = None;
        let s = render(
            lookup(IntentId::UrgeShipment, OrderNode::Shipped).unwrap(),
            &shipped,
            T0,
        );
        assert_eq!(s.replies[0].text, CATALOGUE[3].replies[0].fallback);
    }

    #[test]
    fn fill_refuses_unknown_variables() {
        assert_eq!(fill("a {x} b", |_| None), None);
        assert_eq!(
            fill("a {x} b", |_| Some("1".into())).as_deref(),
            Some("a 1 b")
        );
        assert_eq!(placeholders("{a}{b} {c"), vec!["a", "b"]);
    }
}
