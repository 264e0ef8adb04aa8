//! The platform's payout report for one Beijing day: the payouts, their total, per shop, and every
//! shop in arrears.

use crate::access;
use crate::error::{Error, Result};
use crate::model::compensation::PayoutReport;
use crate::model::identity::Actor;
use crate::ports::ReportStore;

/// The platform's payout report for one Beijing day (platform role only).
pub async fn payout_report<S: ReportStore>(
    store: &S,
    actor: &Actor,
    day: &str,
) -> Result<PayoutReport> {
    access::payout_report(actor)?;
    let valid = day.len() == 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok();
    if !valid {
        return Err(Error::invalid("day", "must be a date written YYYY-MM-DD"));
    }
    let paid = store.paid_on(day).await?;
    let arrears = store.shops_in_arrears().await?;
    Ok(PayoutReport::build(day, &paid, arrears))
}
