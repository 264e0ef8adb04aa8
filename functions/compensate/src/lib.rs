//! Overdue-shipment coupon sweep (超时发货赔付), run by the EventBridge schedule: pays every due
//! compensation exactly once (see `assistant_domain::usecases::compensation`). Duplicate deliveries,
//! concurrent sweeps and retries are all safe: every payout is one conditional transaction.

use assistant_domain::model::compensation::{SweepReport, DUE_SHARDS};
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{Announce, CompensationStore, ShopStore};
use assistant_domain::usecases::{sweep, Backoff, SweepError};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;
use std::time::Duration;

/// Exponential backoff with jitter: 20 ms, 40 ms … capped at 2 s.
pub struct TokioBackoff;

impl Backoff for TokioBackoff {
    async fn wait(&self, attempt: u32) {
        let base = 20u64.saturating_mul(1 << attempt.min(7)).min(2000);
        tokio::time::sleep(Duration::from_millis(base / 2 + jitter(base / 2 + 1))).await;
    }
}

fn jitter(bound: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos % bound.max(1)
}

/// Runs one sweep. Each invocation starts at its own shard, so that concurrent or duplicate
/// deliveries work different partitions first.
pub async fn handle<S>(
    store: &S,
    event: &EventBridgeEvent<Value>,
    now: Millis,
) -> Result<SweepReport, SweepError>
where
    S: CompensationStore + ShopStore + Announce,
{
    let first_shard = jitter(DUE_SHARDS as u64) as u32;
    let result = sweep(store, &TokioBackoff, now, first_shard).await;
    match &result {
        Ok(r) => tracing::info!(
            event_id = ?event.id, examined = r.examined, paid = r.paid, already_paid = r.already_paid,
            retries = r.retries, fen_paid = r.fen_paid, "compensation sweep done"
        ),
        Err(SweepError::Incomplete { failed, report: r }) => tracing::error!(
            event_id = ?event.id, failed, examined = r.examined, paid = r.paid,
            already_paid = r.already_paid, retries = r.retries, fen_paid = r.fen_paid,
            "compensation sweep incomplete; the rest stays due"
        ),
        Err(e) => tracing::error!(event_id = ?event.id, error = %e, "compensation sweep failed"),
    }
    result
}
