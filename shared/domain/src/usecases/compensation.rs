//! The overdue-coupon sweep (超时发货赔付): pays every due compensation exactly once, whatever the
//! number of sweeps running. The rule and the payout's types are in [`crate::model::compensation`].

use crate::model::compensation::{
    payout_notice, DueCompensation, PayOutcome, SweepReport, DUE_SHARDS,
};
use crate::model::time::Millis;
use crate::ports::{Announce, CompensationStore, News, ShopStore};

/// How a sweep waits before retrying after a retryable fault (throttling, a transaction conflict).
pub trait Backoff: Send + Sync {
    fn wait(&self, attempt: u32) -> impl std::future::Future<Output = ()> + Send;
}

/// Due compensations read per query.
pub const SWEEP_PAGE: usize = 100;
/// Attempts per payout before it is left due for the next sweep.
pub const PAY_ATTEMPTS: u32 = 12;

/// Why a sweep did not finish its work. The runtime reports it; the schedule runs the sweep again,
/// and whatever is still due is paid then (exactly once: every payout is conditional).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{failed} due compensation(s) could not be paid in this sweep; they stay due")]
    Incomplete { failed: u64, report: SweepReport },
    #[error("reading due compensations failed")]
    Store(#[source] crate::Error),
}

/// Pays every due compensation, shard by shard, starting at `first_shard` so that concurrent
/// sweeps spread over different partitions. Safe to run any number of times, concurrently.
///
/// The first page of every shard is read concurrently: most sweeps find little or nothing due,
/// and then a sweep costs one round trip instead of 16 in a row. Payouts stay one at a time, so a
/// sweep never races itself for a shop's deposit.
pub async fn sweep<S, B>(
    store: &S,
    backoff: &B,
    now: Millis,
    first_shard: u32,
) -> Result<SweepReport, SweepError>
where
    S: CompensationStore + ShopStore + Announce,
    B: Backoff,
{
    let shards: Vec<u32> = (0..DUE_SHARDS)
        .map(|k| (first_shard + k) % DUE_SHARDS)
        .collect();
    let first_pages = futures_util::future::join_all(shards.iter().map(|&shard| async move {
        let mut retries = SweepReport::default();
        let page = with_retries(backoff, &mut retries, || store.due(shard, SWEEP_PAGE, None)).await;
        (page, retries)
    }))
    .await;
    let mut report = SweepReport::default();
    let mut failed = 0;
    for (shard, (page, retries)) in shards.into_iter().zip(first_pages) {
        report.add(&retries);
        let mut page = page.map_err(SweepError::Store)?;
        loop {
            for due in &page.items {
                report.examined += 1;
                if !pay_one(store, backoff, due, now, &mut report).await {
                    failed += 1;
                }
            }
            let Some(after) = page.next else { break };
            page = with_retries(backoff, &mut report, || {
                store.due(shard, SWEEP_PAGE, Some(after.clone()))
            })
            .await
            .map_err(SweepError::Store)?;
        }
    }
    if failed > 0 {
        return Err(SweepError::Incomplete { failed, report });
    }
    Ok(report)
}

async fn with_retries<T, F, Fut>(
    backoff: &impl Backoff,
    report: &mut SweepReport,
    mut op: F,
) -> crate::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::Result<T>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(crate::Error::Unavailable(_)) if attempt + 1 < PAY_ATTEMPTS => {
                attempt += 1;
                report.retries += 1;
                backoff.wait(attempt).await;
            }
            other => return other,
        }
    }
}

/// One payout, retried through moved deposits and retryable faults. False if it stays due.
async fn pay_one<S, B>(
    store: &S,
    backoff: &B,
    due: &DueCompensation,
    now: Millis,
    report: &mut SweepReport,
) -> bool
where
    S: CompensationStore + ShopStore + Announce,
    B: Backoff,
{
    // Worded once: a retried attempt stores the same message (a failed one stored nothing).
    let notice = payout_notice(due, now);
    for attempt in 1..=PAY_ATTEMPTS {
        let deposit = match store.deposit(&due.shop_id).await {
            Ok(Some(deposit)) => deposit,
            Ok(None) => return false,
            Err(_) => {
                report.retries += 1;
                backoff.wait(attempt).await;
                continue;
            }
        };
        match store.pay(due, deposit, &notice, now).await {
            Ok(PayOutcome::Paid { .. }) => {
                // The buyer's coupon notice, to whoever follows the conversation.
                // (Boxed: the fan-out's future never sits in the sweep's.)
                Box::pin(store.announce(News::message(&due.shop_id, &due.buyer_id, &notice, now)))
                    .await;
                report.paid += 1;
                report.fen_paid += due.amount.0;
                return true;
            }
            Ok(PayOutcome::AlreadyPaid) => {
                report.already_paid += 1;
                return true;
            }
            Ok(PayOutcome::DepositMoved) => {
                // Another payout of the same shop won the race: read the new balance, go again.
                report.retries += 1;
                if attempt > 3 {
                    backoff.wait(attempt - 3).await;
                }
            }
            Err(crate::Error::Unavailable(_)) => {
                report.retries += 1;
                backoff.wait(attempt).await;
            }
            Err(_) => return false,
        }
    }
    false
}
