//! The platform's reports: the day's payouts (`PaidIndex`, by Beijing day and shard) and the
//! shops in arrears (`ArrearsIndex`, in [`super::funds`]).

use super::codec::from_item;
use super::keys::{paid_day_key, PAID_DAY, PAID_INDEX};
use super::DynamoStore;
use assistant_domain::error::Result;
use assistant_domain::model::compensation::{PaidCompensation, ShopInArrears, DUE_SHARDS};
use assistant_domain::ports::ReportStore;

impl ReportStore for DynamoStore {
    async fn paid_on(&self, day: &str) -> Result<Vec<PaidCompensation>> {
        let partitions = (0..DUE_SHARDS).map(|shard| paid_day_key(day, shard));
        let mut out = self
            .query_index_partitions(&self.tables.orders, PAID_INDEX, PAID_DAY, partitions)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<PaidCompensation>>>()?;
        out.sort_by_key(|p: &PaidCompensation| p.paid_at);
        Ok(out)
    }

    async fn shops_in_arrears(&self) -> Result<Vec<ShopInArrears>> {
        self.arrears().await
    }
}
