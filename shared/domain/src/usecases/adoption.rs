//! Adoption figures (采纳数据): how agents used each solution, and the ratios per shown.

use crate::access;
use crate::error::Result;
use crate::intent::IntentId;
use crate::model::identity::Actor;
use crate::model::ids::ShopId;
use crate::model::usage::{SolutionStats, StatRow};
use crate::ports::Store;
use serde::Serialize;

/// One row of adoption figures: how agents used a solution in a shop, and the ratios per shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdoptionRow {
    pub shop_id: ShopId,
    pub intent: Option<IntentId>,
    pub solution_id: String,
    pub shown: u64,
    pub copied: u64,
    pub sent: u64,
    pub edited_sent: u64,
    pub feedback: u64,
    pub copy_rate: f64,
    pub send_rate: f64,
    pub edited_rate: f64,
    pub feedback_rate: f64,
}

impl AdoptionRow {
    pub fn of(row: StatRow) -> Self {
        let st = row.stats;
        let rate = |n: u64| {
            if st.shown == 0 {
                0.0
            } else {
                // Three decimals: figures for people, not for further arithmetic.
                ((n as f64 / st.shown as f64) * 1000.0).round() / 1000.0
            }
        };
        let intent = IntentId::parse(row.solution_id.split('.').next().unwrap_or(""));
        AdoptionRow {
            shop_id: row.shop,
            intent,
            copy_rate: rate(st.copied),
            send_rate: rate(st.sent),
            edited_rate: rate(st.edited_sent),
            feedback_rate: rate(st.feedback),
            solution_id: row.solution_id,
            shown: st.shown,
            copied: st.copied,
            sent: st.sent,
            edited_sent: st.edited_sent,
            feedback: st.feedback,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adoption {
    pub rows: Vec<AdoptionRow>,
}

/// Adoption figures: a shop admin for their own shop; the platform for one shop or all.
pub async fn adoption<S: Store>(
    store: &S,
    actor: &Actor,
    shop: Option<&ShopId>,
) -> Result<Adoption> {
    let scope = access::adoption_scope(actor, shop)?;
    let mut rows: Vec<AdoptionRow> = store
        .stat_rows(scope)
        .await?
        .into_iter()
        .map(AdoptionRow::of)
        .collect();
    rows.sort_by(|a, b| {
        (a.shop_id.as_str(), a.solution_id.as_str())
            .cmp(&(b.shop_id.as_str(), b.solution_id.as_str()))
    });
    Ok(Adoption { rows })
}

/// Usage counts of one solution in the caller's shop.
pub async fn solution_stats<S: Store>(
    store: &S,
    actor: &Actor,
    solution_id: &str,
) -> Result<SolutionStats> {
    let (_, shop) = access::staff(actor)?;
    store.stats(shop, solution_id).await
}
