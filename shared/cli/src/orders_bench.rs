//! `assistant bench orders`: the order system's events through the `orders` handler against
//! DynamoDB Local: events per second with many in flight, and the DynamoDB requests and capacity
//! units per event kind (target: one conditional write per event, at most 2 units, and past
//! "created" one keys-only query for the order's conversations, 0.5 units), for a first delivery
//! and for a redelivery.

use assistant_aws::DynamoStore;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::order::{AfterSale, AfterSaleKind, CloseReason, Order, OrderItem};
use assistant_domain::model::order_facts::{events_of, OrderEvent, OrderEventKind};
use assistant_domain::model::time::{Millis, HOUR, MINUTE};
use assistant_domain::ports::ShopStore;
use assistant_domain::usecases::KnownShops;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

const SHOPS: usize = 20;

fn shop_id(n: usize) -> ShopId {
    ShopId::parse(format!("bench-shop-{n:02}")).expect("a valid shop id")
}

/// Order `n`: created, paid, shipped, delivered, an after-sale case opened and ended, refunded:
/// one event of every kind.
fn order(n: usize, now: Millis) -> Order {
    let mut o = Order::placed(
        OrderId::parse(format!("68{n:017}")).expect("a valid order id"),
        shop_id(n % SHOPS),
        UserId::parse(format!("bench-buyer-{}", n % 5000)).expect("a valid user id"),
        vec![OrderItem::new("纯棉四件套 1.8米床", 1, 29900)],
        now - 100 * HOUR,
    );
    o.paid_at = Some(now - 99 * HOUR);
    o.promised_ship_by = Some(now - 51 * HOUR);
    o.shipped_at = Some(now - 60 * HOUR);
    o.courier = Some("中通快递".into());
    o.tracking_no = Some(format!("ZT{n:013}"));
    o.delivered_at = Some(now - 30 * HOUR);
    o.after_sale = Some(AfterSale {
        kind: AfterSaleKind::Refund,
        opened_at: now - 20 * HOUR,
        closed_at: Some(now - 10 * HOUR),
    });
    o.closed_at = Some(now - 10 * HOUR + MINUTE);
    o.close_reason = Some(CloseReason::Refunded);
    o
}

/// Requests and units one event of a kind cost, averaged.
#[derive(Default)]
struct Cost {
    events: u64,
    requests: u64,
    units: f64,
}

async fn metered(
    store: &DynamoStore,
    known: &KnownShops,
    events: &[OrderEvent],
    now: Millis,
) -> Result<BTreeMap<OrderEventKind, Cost>, Box<dyn std::error::Error>> {
    let mut costs: BTreeMap<OrderEventKind, Cost> = BTreeMap::new();
    for e in events {
        let (r, u) = (store.requests(), store.capacity_units());
        orders::handle(store, known, orders::envelope(e), now).await?;
        let c = costs.entry(e.kind()).or_default();
        c.events += 1;
        c.requests += store.requests() - r;
        c.units += store.capacity_units() - u;
    }
    Ok(costs)
}

fn print_costs(title: &str, costs: &BTreeMap<OrderEventKind, Cost>) {
    println!("{title}");
    println!(
        "  {:<26} {:>7} {:>13} {:>14}",
        "kind", "events", "requests/evt", "units/evt"
    );
    for (kind, c) in costs {
        println!(
            "  {:<26} {:>7} {:>13.2} {:>14.2}",
            kind.detail_type(),
            c.events,
            c.requests as f64 / c.events as f64,
            c.units / c.events as f64
        );
    }
}

/// Runs the bench on `store` (fresh tables): `orders` orders of 7 events each, `concurrency`
/// handler calls in flight. Returns whether every first delivery was one write of at most 2
/// units (and past "created" one query of 0.5 more).
pub async fn run(
    store: &DynamoStore,
    orders: usize,
    concurrency: usize,
    now: Millis,
) -> Result<bool, Box<dyn std::error::Error>> {
    for n in 0..SHOPS {
        store
            .put_shop(&Shop {
                shop_id: shop_id(n),
                name: format!("压测店铺{n}"),
                agents: vec![],
                serving_rule: Default::default(),
                robot_on: false,
            })
            .await?;
    }
    let known = Arc::new(KnownShops::default());
    // Every shop known first, so the per-kind figures are the events' own cost.
    let sample: Vec<OrderEvent> = (0..SHOPS.max(100))
        .flat_map(|n| events_of(&order(n, now), "bench"))
        .collect();
    for n in 0..SHOPS {
        known.remember(&shop_id(n));
    }
    let first = metered(store, &known, &sample, now).await?;
    let again = metered(store, &known, &sample, now).await?;
    print_costs("first delivery (each fact new):", &first);
    print_costs(
        "redelivery (each fact already stored: the failed condition, then one consistent read):",
        &again,
    );
    // Past "created", a changed order's conversations are looked up (one keys-only OrderIndex
    // query, 0.5 units when it finds none: `show_moved_panels`).
    let met = first.iter().all(|(kind, c)| {
        let (requests, units) = match kind {
            OrderEventKind::Created => (1, 2.0),
            _ => (2, 2.5),
        };
        c.requests == requests * c.events && c.units <= units * c.events as f64 + 1e-9
    });

    // Throughput: every event of `orders` further orders, `concurrency` in flight.
    let events: Vec<serde_json::Value> = (SHOPS.max(100)..SHOPS.max(100) + orders)
        .flat_map(|n| events_of(&order(n, now), "bench"))
        .map(|e| orders::envelope(&e))
        .collect();
    let total = events.len();
    let queue = Arc::new(std::sync::Mutex::new(events));
    let (requests, units) = (store.requests(), store.capacity_units());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (store, known, queue) = (store.clone(), known.clone(), queue.clone());
        tasks.spawn(async move {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some(event) = next else { break };
                if let Err(e) = orders::handle(&store, &known, event, now).await {
                    return Err(e.to_string());
                }
            }
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "throughput: {total} events ({orders} orders x 7 kinds) in {secs:.2} s with {concurrency} in flight: {:.0} events/s; {:.2} requests and {:.2} units per event",
        total as f64 / secs,
        (store.requests() - requests) as f64 / total as f64,
        (store.capacity_units() - units) / total as f64,
    );
    println!(
        "target (one conditional write per event, at most 2 units; past \"created\" one OrderIndex query, at most 0.5 more): {}",
        if met { "met" } else { "MISSED" }
    );
    Ok(met)
}
