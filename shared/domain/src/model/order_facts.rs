//! An order as the order system tells it: a set of facts (created, paid, shipped, delivered,
//! after-sale opened / ended, closed), each with its own time, merged monotonically.
//!
//! The order system delivers its events at least once and in any order. So the stored order is not
//! a state machine stepped by each event but a set of facts, one slot per kind, where a slot keeps
//! the fact with the greatest [`Stamp`] (its time, then its event id). Merging is per slot `max`:
//! commutative, associative and idempotent, so any order and number of deliveries of the same
//! events give the same facts. A late "paid" never undoes "shipped": both are kept, and the node
//! is judged from them at the moment asked ([`Order::node_at`]), so the compensation rule stays
//! exact when "shipped" arrives late.

use crate::error::{Error, Result};
use crate::model::ids::{OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::order::{AfterSale, AfterSaleKind, CloseReason, Order, OrderItem};
use crate::model::time::Millis;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The latest instant an event may carry: 13 digits of milliseconds (year 2286).
const MAX_MILLIS: Millis = 9_999_999_999_999;
const MAX_ITEMS: usize = 50;
const MAX_ITEM_NAME: usize = 100;
const MAX_QUANTITY: u32 = 9_999;
const MAX_COURIER: usize = 30;
const MAX_TRACKING_NO: usize = 40;
const MAX_EVENT_ID: usize = 128;

/// What orders one fact of a kind against another: its time, then the event's id (so two
/// different events at the same millisecond still have one winner, whatever arrives first).
/// Written `{at:013}#{event_id}`, which sorts as the pair does, so a store can compare it as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Stamp(String);

impl Stamp {
    pub fn new(at: Millis, event_id: &str) -> Stamp {
        Stamp(format!("{:013}#{event_id}", at.clamp(0, MAX_MILLIS)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One fact: when it happened, the stamp that orders it, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact<T> {
    pub stamp: Stamp,
    pub at: Millis,
    pub data: T,
}

/// 订单创建: what was bought and the total to pay (after discounts, so not always the items' sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub items: Vec<OrderItem>,
    pub total: Fen,
}

/// 已付款, with the promised latest ship time (预期发货时效).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    pub promised_ship_by: Millis,
}

/// 已发货: handed to a courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipped {
    pub courier: String,
    pub tracking_no: String,
}

/// 已签收.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {}

/// An after-sales case (售后) opened or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterSaleStep {
    pub kind: AfterSaleKind,
}

/// 已关闭: cancelled or refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub reason: CloseReason,
}

/// What one event says happened to the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    Created(Created),
    Paid(Paid),
    Shipped(Shipped),
    Delivered(Delivered),
    AfterSaleOpened(AfterSaleStep),
    AfterSaleEnded(AfterSaleStep),
    Closed(Closed),
}

/// The kinds of order event, as the order system names them (the EventBridge `detail-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderEventKind {
    Created,
    Paid,
    Shipped,
    Delivered,
    AfterSaleOpened,
    AfterSaleEnded,
    Closed,
}

impl OrderEventKind {
    pub const ALL: [OrderEventKind; 7] = [
        OrderEventKind::Created,
        OrderEventKind::Paid,
        OrderEventKind::Shipped,
        OrderEventKind::Delivered,
        OrderEventKind::AfterSaleOpened,
        OrderEventKind::AfterSaleEnded,
        OrderEventKind::Closed,
    ];

    /// The event's `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            OrderEventKind::Created => "order.created",
            OrderEventKind::Paid => "order.paid",
            OrderEventKind::Shipped => "order.shipped",
            OrderEventKind::Delivered => "order.delivered",
            OrderEventKind::AfterSaleOpened => "order.after_sale_opened",
            OrderEventKind::AfterSaleEnded => "order.after_sale_ended",
            OrderEventKind::Closed => "order.closed",
        }
    }

    /// The fact slot this kind fills (also its attribute in a store).
    pub fn slot(self) -> &'static str {
        match self {
            OrderEventKind::Created => "created",
            OrderEventKind::Paid => "paid",
            OrderEventKind::Shipped => "shipped",
            OrderEventKind::Delivered => "delivered",
            OrderEventKind::AfterSaleOpened => "after_sale_opened",
            OrderEventKind::AfterSaleEnded => "after_sale_ended",
            OrderEventKind::Closed => "closed",
        }
    }

    pub fn from_detail_type(detail_type: &str) -> Option<OrderEventKind> {
        OrderEventKind::ALL
            .into_iter()
            .find(|k| k.detail_type() == detail_type)
    }
}

impl OrderStep {
    pub fn kind(&self) -> OrderEventKind {
        match self {
            OrderStep::Created(_) => OrderEventKind::Created,
            OrderStep::Paid(_) => OrderEventKind::Paid,
            OrderStep::Shipped(_) => OrderEventKind::Shipped,
            OrderStep::Delivered(_) => OrderEventKind::Delivered,
            OrderStep::AfterSaleOpened(_) => OrderEventKind::AfterSaleOpened,
            OrderStep::AfterSaleEnded(_) => OrderEventKind::AfterSaleEnded,
            OrderStep::Closed(_) => OrderEventKind::Closed,
        }
    }
}

/// One event of the order system, parsed: which order, whose, when, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    /// The envelope's id: a redelivery carries the same one.
    pub event_id: String,
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    /// When it happened in the order system (not when it was delivered).
    pub occurred_at: Millis,
    pub step: OrderStep,
}

// ---- the wire form of `detail` (events/schema/order-event.json says the same) ----------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireItem {
    name: String,
    quantity: u32,
    unit_price: i64,
}

#[derive(Deserialize)]
struct WireCreated {
    #[serde(flatten)]
    head: WireHead,
    items: Vec<WireItem>,
    total: i64,
}

#[derive(Deserialize)]
struct WireHead {
    order_id: String,
    shop_id: String,
    buyer_id: String,
    occurred_at: Millis,
}

#[derive(Deserialize)]
struct WirePaid {
    #[serde(flatten)]
    head: WireHead,
    promised_ship_by: Millis,
}

#[derive(Deserialize)]
struct WireShipped {
    #[serde(flatten)]
    head: WireHead,
    courier: String,
    tracking_no: String,
}

#[derive(Deserialize)]
struct WireBare {
    #[serde(flatten)]
    head: WireHead,
}

#[derive(Deserialize)]
struct WireAfterSale {
    #[serde(flatten)]
    head: WireHead,
    kind: AfterSaleKind,
}

#[derive(Deserialize)]
struct WireClosed {
    #[serde(flatten)]
    head: WireHead,
    reason: CloseReason,
}

/// The fields every kind's `detail` has.
const HEAD: [&str; 4] = ["order_id", "shop_id", "buyer_id", "occurred_at"];

/// `detail` as `T`, refusing a field neither [`HEAD`] nor `own` names (serde cannot deny
/// unknown fields through `flatten`).
fn wire<T: DeserializeOwned>(detail: &serde_json::Value, own: &[&str]) -> Result<T> {
    let Some(fields) = detail.as_object() else {
        return Err(Error::invalid("detail", "must be an object"));
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| !HEAD.contains(&k.as_str()) && !own.contains(&k.as_str()))
    {
        return Err(Error::invalid("detail", format!("unknown field `{extra}`")));
    }
    T::deserialize(detail).map_err(|e| Error::invalid("detail", e.to_string()))
}

fn instant(field: &str, at: Millis) -> Result<Millis> {
    if (0..=MAX_MILLIS).contains(&at) {
        Ok(at)
    } else {
        Err(Error::invalid(
            field,
            "must be epoch milliseconds between 0 and 9999999999999",
        ))
    }
}

fn text(field: &str, value: String, max: usize) -> Result<String> {
    let value = value.trim().to_string();
    let chars = value.chars().count();
    if chars == 0 || chars > max || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(value)
}

fn items(raw: Vec<WireItem>) -> Result<Vec<OrderItem>> {
    if raw.is_empty() || raw.len() > MAX_ITEMS {
        return Err(Error::invalid(
            "detail.items",
            format!("must list 1 to {MAX_ITEMS} items"),
        ));
    }
    raw.into_iter()
        .map(|i| {
            let name = text("detail.items.name", i.name, MAX_ITEM_NAME)?;
            if !(1..=MAX_QUANTITY).contains(&i.quantity) {
                return Err(Error::invalid(
                    "detail.items.quantity",
                    format!("must be 1 to {MAX_QUANTITY}"),
                ));
            }
            if i.unit_price < 0 {
                return Err(Error::invalid(
                    "detail.items.unit_price",
                    "must be fen, 0 or more",
                ));
            }
            Ok(OrderItem::new(&name, i.quantity, i.unit_price))
        })
        .collect()
}

impl OrderEvent {
    /// An event from its envelope's `id` and `detail-type` and its `detail`. Anything the
    /// schema would refuse is `Error::Invalid` naming the field: an unknown kind, a missing or
    /// extra field, a bad id, an instant out of range, an empty item list.
    pub fn parse(event_id: &str, detail_type: &str, detail: &serde_json::Value) -> Result<Self> {
        let event_id = event_id.trim();
        if event_id.is_empty() || event_id.len() > MAX_EVENT_ID {
            return Err(Error::invalid(
                "id",
                format!("must be 1 to {MAX_EVENT_ID} bytes"),
            ));
        }
        let kind = OrderEventKind::from_detail_type(detail_type).ok_or_else(|| {
            Error::invalid(
                "detail-type",
                format!("unknown order event kind {detail_type:?}"),
            )
        })?;
        let (head, step) = match kind {
            OrderEventKind::Created => {
                let w: WireCreated = wire(detail, &["items", "total"])?;
                if w.total < 0 {
                    return Err(Error::invalid("detail.total", "must be fen, 0 or more"));
                }
                let created = Created {
                    items: items(w.items)?,
                    total: Fen(w.total),
                };
                (w.head, OrderStep::Created(created))
            }
            OrderEventKind::Paid => {
                let w: WirePaid = wire(detail, &["promised_ship_by"])?;
                let promised_ship_by = instant("detail.promised_ship_by", w.promised_ship_by)?;
                (w.head, OrderStep::Paid(Paid { promised_ship_by }))
            }
            OrderEventKind::Shipped => {
                let w: WireShipped = wire(detail, &["courier", "tracking_no"])?;
                let shipped = Shipped {
                    courier: text("detail.courier", w.courier, MAX_COURIER)?,
                    tracking_no: tracking_no(w.tracking_no)?,
                };
                (w.head, OrderStep::Shipped(shipped))
            }
            OrderEventKind::Delivered => {
                let w: WireBare = wire(detail, &[])?;
                (w.head, OrderStep::Delivered(Delivered {}))
            }
            OrderEventKind::AfterSaleOpened | OrderEventKind::AfterSaleEnded => {
                let w: WireAfterSale = wire(detail, &["kind"])?;
                let step = AfterSaleStep { kind: w.kind };
                let step = if kind == OrderEventKind::AfterSaleOpened {
                    OrderStep::AfterSaleOpened(step)
                } else {
                    OrderStep::AfterSaleEnded(step)
                };
                (w.head, step)
            }
            OrderEventKind::Closed => {
                let w: WireClosed = wire(detail, &["reason"])?;
                (w.head, OrderStep::Closed(Closed { reason: w.reason }))
            }
        };
        Ok(OrderEvent {
            event_id: event_id.to_string(),
            order_id: OrderId::parse(head.order_id).map_err(|e| detail_field(e, "order_id"))?,
            shop_id: ShopId::parse(head.shop_id).map_err(|e| detail_field(e, "shop_id"))?,
            buyer_id: UserId::parse(head.buyer_id).map_err(|e| detail_field(e, "buyer_id"))?,
            occurred_at: instant("detail.occurred_at", head.occurred_at)?,
            step,
        })
    }

    pub fn kind(&self) -> OrderEventKind {
        self.step.kind()
    }

    pub fn stamp(&self) -> Stamp {
        Stamp::new(self.occurred_at, &self.event_id)
    }

    /// The `detail` the order system publishes for this event (what [`OrderEvent::parse`] reads).
    pub fn detail(&self) -> serde_json::Value {
        let mut d = serde_json::json!({
            "order_id": self.order_id,
            "shop_id": self.shop_id,
            "buyer_id": self.buyer_id,
            "occurred_at": self.occurred_at,
        });
        let extra = match &self.step {
            OrderStep::Created(c) => serde_json::json!({
                "items": c.items.iter().map(|i| serde_json::json!({
                    "name": i.name, "quantity": i.quantity, "unit_price": i.unit_price.0,
                })).collect::<Vec<_>>(),
                "total": c.total.0,
            }),
            OrderStep::Paid(p) => serde_json::json!({ "promised_ship_by": p.promised_ship_by }),
            OrderStep::Shipped(s) => {
                serde_json::json!({ "courier": s.courier, "tracking_no": s.tracking_no })
            }
            OrderStep::Delivered(_) => serde_json::json!({}),
            OrderStep::AfterSaleOpened(a) | OrderStep::AfterSaleEnded(a) => {
                serde_json::json!({ "kind": a.kind })
            }
            OrderStep::Closed(c) => serde_json::json!({ "reason": c.reason }),
        };
        if let (Some(d), serde_json::Value::Object(extra)) = (d.as_object_mut(), extra) {
            d.extend(extra);
        }
        d
    }
}

fn detail_field(e: Error, field: &str) -> Error {
    match e {
        Error::Invalid { message, .. } => Error::invalid(format!("detail.{field}"), message),
        other => other,
    }
}

fn tracking_no(raw: String) -> Result<String> {
    let t = raw.trim();
    if t.is_empty()
        || t.len() > MAX_TRACKING_NO
        || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::invalid(
            "detail.tracking_no",
            format!("must be 1 to {MAX_TRACKING_NO} letters, digits or '-'"),
        ));
    }
    Ok(t.to_string())
}

/// Everything known of one order: the order's identity (fixed by the first event that names
/// it) and one slot per fact kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFacts {
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Fact<Created>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<Fact<Paid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped: Option<Fact<Shipped>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<Fact<Delivered>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sale_opened: Option<Fact<AfterSaleStep>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sale_ended: Option<Fact<AfterSaleStep>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Fact<Closed>>,
}

/// The slot keeps the fact with the greater stamp. Returns whether it changed.
fn keep_latest<T: Clone>(slot: &mut Option<Fact<T>>, fact: &Option<Fact<T>>) -> bool {
    match (slot.as_ref(), fact) {
        (_, None) => false,
        (Some(old), Some(new)) if old.stamp >= new.stamp => false,
        (_, Some(new)) => {
            *slot = Some(new.clone());
            true
        }
    }
}

fn fact<T>(e: &OrderEvent, data: T) -> Option<Fact<T>> {
    Some(Fact {
        stamp: e.stamp(),
        at: e.occurred_at,
        data,
    })
}

impl OrderFacts {
    /// No facts yet of this order.
    pub fn new(order_id: OrderId, shop_id: ShopId, buyer_id: UserId) -> OrderFacts {
        OrderFacts {
            order_id,
            shop_id,
            buyer_id,
            created: None,
            paid: None,
            shipped: None,
            delivered: None,
            after_sale_opened: None,
            after_sale_ended: None,
            closed: None,
        }
    }

    /// The one fact an event tells, as facts of its order.
    pub fn of_event(e: &OrderEvent) -> OrderFacts {
        let mut f = OrderFacts::new(e.order_id.clone(), e.shop_id.clone(), e.buyer_id.clone());
        match &e.step {
            OrderStep::Created(d) => f.created = fact(e, d.clone()),
            OrderStep::Paid(d) => f.paid = fact(e, d.clone()),
            OrderStep::Shipped(d) => f.shipped = fact(e, d.clone()),
            OrderStep::Delivered(d) => f.delivered = fact(e, d.clone()),
            OrderStep::AfterSaleOpened(d) => f.after_sale_opened = fact(e, d.clone()),
            OrderStep::AfterSaleEnded(d) => f.after_sale_ended = fact(e, d.clone()),
            OrderStep::Closed(d) => f.closed = fact(e, d.clone()),
        }
        f
    }

    /// Whether `other` is about the same order of the same shop and buyer.
    pub fn same_order(&self, other: &OrderFacts) -> bool {
        self.order_id == other.order_id
            && self.shop_id == other.shop_id
            && self.buyer_id == other.buyer_id
    }

    /// `Error::Conflict` unless `other` is about the same order of the same shop and buyer.
    pub fn check_same_order(&self, other: &OrderFacts) -> Result<()> {
        if self.same_order(other) {
            Ok(())
        } else {
            Err(mismatch(self, other))
        }
    }

    /// Merges `other` in: each slot keeps the later fact. Commutative, associative, idempotent.
    /// Facts of another order, or of the same order id under another shop or buyer, are refused
    /// whole (`Error::Conflict`) and nothing changes. Returns whether anything changed.
    pub fn merge(&mut self, other: &OrderFacts) -> Result<bool> {
        self.check_same_order(other)?;
        let changed = [
            keep_latest(&mut self.created, &other.created),
            keep_latest(&mut self.paid, &other.paid),
            keep_latest(&mut self.shipped, &other.shipped),
            keep_latest(&mut self.delivered, &other.delivered),
            keep_latest(&mut self.after_sale_opened, &other.after_sale_opened),
            keep_latest(&mut self.after_sale_ended, &other.after_sale_ended),
            keep_latest(&mut self.closed, &other.closed),
        ];
        Ok(changed.contains(&true))
    }

    /// Applies one event (see [`OrderFacts::merge`]).
    pub fn apply(&mut self, e: &OrderEvent) -> Result<bool> {
        self.merge(&OrderFacts::of_event(e))
    }

    /// The order these facts make, once it is known to exist (its "created" fact has arrived);
    /// until then there is no order to show, only facts waiting for it.
    pub fn order(&self) -> Option<Order> {
        let created = self.created.as_ref()?;
        let after_sale = self.after_sale_opened.as_ref().map(|opened| AfterSale {
            kind: opened.data.kind,
            opened_at: opened.at,
            // An end older than the latest opening belongs to an earlier case.
            closed_at: self
                .after_sale_ended
                .as_ref()
                .filter(|ended| ended.at >= opened.at)
                .map(|ended| ended.at),
        });
        Some(Order {
            order_id: self.order_id.clone(),
            shop_id: self.shop_id.clone(),
            buyer_id: self.buyer_id.clone(),
            items: created.data.items.clone(),
            total: created.data.total,
            created_at: created.at,
            paid_at: self.paid.as_ref().map(|f| f.at),
            promised_ship_by: self.paid.as_ref().map(|f| f.data.promised_ship_by),
            shipped_at: self.shipped.as_ref().map(|f| f.at),
            courier: self.shipped.as_ref().map(|f| f.data.courier.clone()),
            tracking_no: self.shipped.as_ref().map(|f| f.data.tracking_no.clone()),
            delivered_at: self.delivered.as_ref().map(|f| f.at),
            after_sale,
            closed_at: self.closed.as_ref().map(|f| f.at),
            close_reason: self.closed.as_ref().map(|f| f.data.reason),
        })
    }
}

fn mismatch(stored: &OrderFacts, other: &OrderFacts) -> Error {
    Error::Conflict(format!(
        "order {} belongs to shop {} and buyer {}, not to shop {} and buyer {}",
        stored.order_id, stored.shop_id, stored.buyer_id, other.shop_id, other.buyer_id
    ))
}

/// The events the order system would have published for an order as it stands: one per step it
/// went through, each at that step's time (the demo seed publishes its orders this way).
/// `id_prefix` makes the event ids (`{id_prefix}-{order_id}-{kind}`). A paid order without a
/// promise, or a courier without a ship time, has no event for that half.
pub fn events_of(order: &Order, id_prefix: &str) -> Vec<OrderEvent> {
    let event = |kind: OrderEventKind, at: Millis, step: OrderStep| OrderEvent {
        event_id: format!("{id_prefix}-{}-{}", order.order_id, kind.slot()),
        order_id: order.order_id.clone(),
        shop_id: order.shop_id.clone(),
        buyer_id: order.buyer_id.clone(),
        occurred_at: at,
        step,
    };
    let mut events = vec![event(
        OrderEventKind::Created,
        order.created_at,
        OrderStep::Created(Created {
            items: order.items.clone(),
            total: order.total,
        }),
    )];
    if let (Some(at), Some(promised_ship_by)) = (order.paid_at, order.promised_ship_by) {
        events.push(event(
            OrderEventKind::Paid,
            at,
            OrderStep::Paid(Paid { promised_ship_by }),
        ));
    }
    if let (Some(at), Some(courier), Some(tracking_no)) = (
        order.shipped_at,
        order.courier.clone(),
        order.tracking_no.clone(),
    ) {
        events.push(event(
            OrderEventKind::Shipped,
            at,
            OrderStep::Shipped(Shipped {
                courier,
                tracking_no,
            }),
        ));
    }
    if let Some(at) = order.delivered_at {
        events.push(event(
            OrderEventKind::Delivered,
            at,
            OrderStep::Delivered(Delivered {}),
        ));
    }
    if let Some(case) = &order.after_sale {
        let step = AfterSaleStep { kind: case.kind };
        events.push(event(
            OrderEventKind::AfterSaleOpened,
            case.opened_at,
            OrderStep::AfterSaleOpened(step.clone()),
        ));
        if let Some(at) = case.closed_at {
            events.push(event(
                OrderEventKind::AfterSaleEnded,
                at,
                OrderStep::AfterSaleEnded(step),
            ));
        }
    }
    if let (Some(at), Some(reason)) = (order.closed_at, order.close_reason) {
        events.push(event(
            OrderEventKind::Closed,
            at,
            OrderStep::Closed(Closed { reason }),
        ));
    }
    events
}

/// The facts of an order as it stands (what [`events_of`] would publish, merged): what a store
/// keeps when an order is put whole (seeding tests).
pub fn facts_of(order: &Order) -> OrderFacts {
    let mut facts = OrderFacts::new(
        order.order_id.clone(),
        order.shop_id.clone(),
        order.buyer_id.clone(),
    );
    for e in events_of(order, "put") {
        // Same order by construction: cannot fail.
        let _ = facts.apply(&e);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::fixtures::{order_in, T0};
    use crate::model::order::OrderNode;
    use crate::model::time::{DAY, HOUR};
    use serde_json::json;

    fn head() -> serde_json::Value {
        json!({"order_id": "6912345678901234567", "shop_id": "shop1", "buyer_id": "buyer1", "occurred_at": T0})
    }

    fn with(extra: serde_json::Value) -> serde_json::Value {
        let mut d = head();
        d.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        d
    }

    fn shipped(id: &str, at: Millis) -> OrderEvent {
        let d = json!({"order_id": "6912345678901234567", "shop_id": "shop1", "buyer_id": "buyer1", "occurred_at": at, "courier": "中通快递", "tracking_no": "ZT1"});
        OrderEvent::parse(id, "order.shipped", &d).unwrap()
    }

    #[test]
    fn every_kind_parses_and_prints_back_the_same_detail() {
        let details = [
            (
                "order.created",
                with(
                    json!({"items": [{"name": "纯棉四件套", "quantity": 2, "unit_price": 14950}], "total": 29900}),
                ),
            ),
            (
                "order.paid",
                with(json!({"promised_ship_by": T0 + 2 * DAY})),
            ),
            (
                "order.shipped",
                with(json!({"courier": "中通快递", "tracking_no": "ZT7312345678901"})),
            ),
            ("order.delivered", head()),
            ("order.after_sale_opened", with(json!({"kind": "return"}))),
            ("order.after_sale_ended", with(json!({"kind": "return"}))),
            ("order.closed", with(json!({"reason": "refunded"}))),
        ];
        for (kind, detail) in details {
            let e = OrderEvent::parse("e1", kind, &detail).unwrap();
            assert_eq!(e.kind().detail_type(), kind);
            assert_eq!(e.detail(), detail, "{kind}");
        }
    }

    #[test]
    fn bad_events_name_what_is_wrong() {
        let cases = [
            ("order.exploded", head(), "detail-type"),
            ("order.paid", head(), "detail"),
            (
                "order.paid",
                with(json!({"promised_ship_by": -1})),
                "detail.promised_ship_by",
            ),
            ("order.delivered", with(json!({"extra": 1})), "detail"),
            ("order.delivered", json!([1]), "detail"),
            (
                "order.created",
                with(json!({"items": [], "total": 0})),
                "detail.items",
            ),
            (
                "order.created",
                with(json!({"items": [{"name": "a", "quantity": 0, "unit_price": 1}], "total": 0})),
                "detail.items.quantity",
            ),
            (
                "order.created",
                with(
                    json!({"items": [{"name": "a", "quantity": 1, "unit_price": 1}], "total": -1}),
                ),
                "detail.total",
            ),
            (
                "order.shipped",
                with(json!({"courier": " ", "tracking_no": "1"})),
                "detail.courier",
            ),
            (
                "order.shipped",
                with(json!({"courier": "顺丰", "tracking_no": "a#b"})),
                "detail.tracking_no",
            ),
            ("order.closed", with(json!({"reason": "lost"})), "detail"),
        ];
        for (kind, detail, field) in cases {
            match OrderEvent::parse("e1", kind, &detail) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{kind} {detail}"),
                other => panic!("{kind} {detail}: {other:?}"),
            }
        }
        let mut bad_id = head();
        bad_id["order_id"] = json!("12#3");
        match OrderEvent::parse("e1", "order.delivered", &bad_id) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "detail.order_id"),
            other => panic!("{other:?}"),
        }
        assert!(OrderEvent::parse("", "order.delivered", &head()).is_err());
    }

    #[test]
    fn a_late_fact_never_undoes_a_later_one_and_a_duplicate_changes_nothing() {
        let order = order_in("6912345678901234567", OrderNode::AwaitingShipment);
        let mut facts = facts_of(&order);
        let ship = shipped("s1", T0 - HOUR);
        assert!(facts.apply(&ship).unwrap());
        assert!(!facts.apply(&ship).unwrap(), "a duplicate changes nothing");
        // a late copy of the paid event
        let again = facts_of(&order);
        assert!(!facts.merge(&again).unwrap());
        assert_eq!(facts.order().unwrap().node_at(T0), OrderNode::Shipped);
        // an older shipping fact loses to the newer one
        assert!(!facts.apply(&shipped("s0", T0 - 2 * HOUR)).unwrap());
        assert_eq!(facts.shipped.as_ref().unwrap().at, T0 - HOUR);
        // same instant: the greater event id wins, whatever came first
        let mut other = facts.clone();
        facts.apply(&shipped("s2", T0 - HOUR)).unwrap();
        other.apply(&shipped("s2", T0 - HOUR)).unwrap();
        assert_eq!(facts, other);
        assert_eq!(
            facts.shipped.as_ref().unwrap().stamp.as_str(),
            &format!("{:013}#s2", T0 - HOUR)
        );
    }

    #[test]
    fn facts_of_another_shop_are_refused_whole() {
        let order = order_in("6912345678901234567", OrderNode::AwaitingShipment);
        let mut facts = facts_of(&order);
        let before = facts.clone();
        let mut d = head();
        d["shop_id"] = json!("other-shop");
        let e = OrderEvent::parse("x", "order.delivered", &d).unwrap();
        let mut d2 = facts_of(&order);
        d2.shop_id = e.shop_id.clone();
        assert_eq!(facts.apply(&e).unwrap_err().code(), "conflict");
        assert_eq!(facts.merge(&d2).unwrap_err().code(), "conflict");
        assert_eq!(facts, before);
    }

    #[test]
    fn no_order_until_it_is_created() {
        let e = shipped("s1", T0);
        let facts = OrderFacts::of_event(&e);
        assert_eq!(facts.order(), None);
    }

    #[test]
    fn an_order_in_every_node_survives_its_events() {
        for node in OrderNode::ALL {
            let order = order_in("6912345678901234567", node);
            assert_eq!(facts_of(&order).order().unwrap(), order, "{node:?}");
        }
    }

    #[test]
    fn an_after_sale_end_older_than_its_opening_belongs_to_an_earlier_case() {
        let order = order_in("6912345678901234567", OrderNode::AfterSale);
        let mut facts = facts_of(&order);
        let opened = facts.after_sale_opened.clone().unwrap();
        facts.after_sale_ended = Some(Fact {
            stamp: Stamp::new(opened.at - 1, "old"),
            at: opened.at - 1,
            data: opened.data.clone(),
        });
        assert_eq!(facts.order().unwrap().node_at(T0), OrderNode::AfterSale);
        facts.after_sale_ended = Some(Fact {
            stamp: Stamp::new(T0, "end"),
            at: T0,
            data: opened.data,
        });
        assert_eq!(facts.order().unwrap().node_at(T0), OrderNode::Delivered);
    }
}
