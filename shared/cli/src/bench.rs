//! The sweep's scaling figure: the same number of due compensations among few or very many
//! orders. The sweep reads only the sparse, sharded due index, so its time should not grow with the
//! number of orders.

use crate::drill::{drill_orders, QuickBackoff};
use assistant_aws::DynamoStore;
use assistant_domain::model::compensation::DueCompensation;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{ConversationId, MessageId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::shop::{Agent, ServingRule};
use assistant_domain::model::time::{Millis, MINUTE};
use assistant_domain::ports::ShopStore;
use assistant_domain::usecases::sweep;
use std::time::Instant;

pub struct SweepFigure {
    pub total_orders: usize,
    pub due: usize,
    pub load_secs: f64,
    pub sweep_secs: f64,
    pub paid: u64,
}

impl SweepFigure {
    pub fn payouts_per_sec(&self) -> f64 {
        self.paid as f64 / self.sweep_secs.max(1e-9)
    }
}

/// Loads `total` orders of which `due` have a due compensation, then times one sweep.
pub async fn sweep_figure(
    store: &DynamoStore,
    total: usize,
    due: usize,
    now: Millis,
) -> Result<SweepFigure, Box<dyn std::error::Error>> {
    let shops = 20;
    for s in 0..shops {
        let shop_id = ShopId::parse(format!("drill-shop-{s}"))?;
        store
            .put_shop(&Shop {
                shop_id: shop_id.clone(),
                name: format!("压测店铺{s}"),
                agents: vec![Agent::new(UserId::parse("bench-agent")?, None)],
                serving_rule: ServingRule::ByBuyer,
                robot_on: false,
            })
            .await?;
        store.put_deposit(&shop_id, Fen(100_000_000)).await?;
    }
    let started = Instant::now();
    // drill_orders(n) makes n eligible orders and n ineligible ones.
    let orders = drill_orders(total.div_ceil(2), shops, now);
    let orders: Vec<_> = orders.into_iter().take(total).map(|d| d.order).collect();
    let conv = ConversationId::parse("bench")?;
    let message = MessageId::parse("bench-question")?;
    let dues: Vec<DueCompensation> = orders
        .iter()
        .take(due)
        .map(|o| DueCompensation::new(o, &conv, &message, now - MINUTE))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in orders.chunks(2500) {
        let store = store.clone();
        let chunk = chunk.to_vec();
        tasks.spawn(async move { store.put_orders(&chunk).await });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    store.put_due(&dues).await?;
    let load_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let report = sweep(store, &QuickBackoff, now, 0).await?;
    Ok(SweepFigure {
        total_orders: orders.len(),
        due: dues.len(),
        load_secs,
        sweep_secs: started.elapsed().as_secs_f64(),
        paid: report.paid,
    })
}
