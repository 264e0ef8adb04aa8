//! A day of the order system's events: many orders of several shops and buyers going through
//! their steps, with the order system's own repeats (the same fact published again under a new
//! event id, at the same or another instant), for the shuffle / duplicate property tests on both
//! stores (`shared/domain/tests/order_events.rs`, `tests/integration/orders.rs`).

use crate::builders::{order_id, shop_id, user_id, T0};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::{AfterSaleKind, CloseReason, OrderItem};
use assistant_domain::model::order_facts::{
    AfterSaleStep, Closed, Created, Delivered, OrderEvent, OrderFacts, OrderStep, Paid, Shipped,
};
use assistant_domain::model::time::{HOUR, MINUTE};
use std::collections::BTreeMap;

/// The shops the day's orders belong to.
pub const DAY_SHOPS: [&str; 4] = ["day-shop-a", "day-shop-b", "day-shop-c", "day-shop-d"];

/// A small deterministic generator (xorshift64*), so a day is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The events of one day for `orders` orders, in the order the order system published them
/// (seeded by `seed`).
pub fn order_day(orders: usize, seed: u64) -> Vec<OrderEvent> {
    let mut rng = Rng(seed | 1);
    let mut events = Vec::new();
    for n in 0..orders {
        let shop = shop_id(DAY_SHOPS[n % DAY_SHOPS.len()]);
        let buyer = user_id(&format!("day-buyer-{}", rng.below(orders as u64 / 3 + 1)));
        let order = order_id(&format!("69{:017}", seed % 1000 * 1_000_000 + n as u64));
        let mut at = T0 + rng.below(12 * 60) as i64 * MINUTE;
        let mut seq = 0;
        let mut push = |at: i64, step: OrderStep, events: &mut Vec<OrderEvent>| {
            seq += 1;
            events.push(OrderEvent {
                event_id: format!("evt-{order}-{seq}"),
                order_id: order.clone(),
                shop_id: shop.clone(),
                buyer_id: buyer.clone(),
                occurred_at: at,
                step,
            });
        };
        let price = 990 + rng.below(50_000) as i64;
        let quantity = 1 + rng.below(3) as u32;
        push(
            at,
            OrderStep::Created(Created {
                items: vec![OrderItem::new("纯棉四件套 1.8米床", quantity, price)],
                total: Fen(price * i64::from(quantity) - rng.below(500) as i64),
            }),
            &mut events,
        );
        if rng.chance(12) {
            let reason = CloseReason::Cancelled;
            push(
                at + 30 * MINUTE,
                OrderStep::Closed(Closed { reason }),
                &mut events,
            );
            continue;
        }
        if !rng.chance(88) {
            continue;
        }
        at += rng.below(60) as i64 * MINUTE;
        let promised_ship_by = at + (24 + rng.below(48) as i64) * HOUR;
        push(at, OrderStep::Paid(Paid { promised_ship_by }), &mut events);
        if rng.chance(8) {
            // The order system publishes "paid" again: a new event id, the same instant.
            push(at, OrderStep::Paid(Paid { promised_ship_by }), &mut events);
        }
        if !rng.chance(70) {
            continue;
        }
        at += (2 + rng.below(40) as i64) * HOUR;
        let courier = ["中通快递", "顺丰速运", "圆通速递"][rng.below(3) as usize].to_string();
        let shipped = Shipped {
            courier,
            tracking_no: format!("ZT{:013}", rng.below(10_000_000_000_000)),
        };
        push(at, OrderStep::Shipped(shipped.clone()), &mut events);
        if rng.chance(5) {
            // A correction: a new tracking number a minute later.
            let fixed = Shipped {
                tracking_no: format!("SF{:013}", rng.below(10_000_000_000_000)),
                ..shipped
            };
            push(at + MINUTE, OrderStep::Shipped(fixed), &mut events);
        }
        if !rng.chance(65) {
            continue;
        }
        at += (12 + rng.below(60) as i64) * HOUR;
        push(at, OrderStep::Delivered(Delivered {}), &mut events);
        if rng.chance(15) {
            let kind = [
                AfterSaleKind::Refund,
                AfterSaleKind::Return,
                AfterSaleKind::Exchange,
            ][rng.below(3) as usize];
            at += rng.below(48) as i64 * HOUR + MINUTE;
            push(
                at,
                OrderStep::AfterSaleOpened(AfterSaleStep { kind }),
                &mut events,
            );
            if rng.chance(60) {
                at += (1 + rng.below(72) as i64) * HOUR;
                push(
                    at,
                    OrderStep::AfterSaleEnded(AfterSaleStep { kind }),
                    &mut events,
                );
                if kind != AfterSaleKind::Exchange && rng.chance(70) {
                    let reason = CloseReason::Refunded;
                    push(at, OrderStep::Closed(Closed { reason }), &mut events);
                }
            }
        }
    }
    events
}

/// The facts the day's events make, merged in the order given, per order id.
pub fn merged(events: &[OrderEvent]) -> BTreeMap<String, OrderFacts> {
    let mut facts: BTreeMap<String, OrderFacts> = BTreeMap::new();
    for e in events {
        let f = OrderFacts::of_event(e);
        match facts.get_mut(e.order_id.as_str()) {
            Some(stored) => {
                stored.merge(&f).expect("one order, one shop and buyer");
            }
            None => {
                facts.insert(e.order_id.to_string(), f);
            }
        }
    }
    facts
}
