//! Usage counters: one item per shop and solution, counted up in place; `StatsIndex` (keys only,
//! 16 shards) finds every shop's.

use super::codec::{number, string, Item};
use super::keys::{
    shop_of_pk, shop_pk, solution_of_stat_sk, stat_shard, stat_shard_key, stat_sk, PK, SK,
    STATS_INDEX, STAT_PREFIX, STAT_SHARD, STAT_SHARDS,
};
use super::{codec::key, codec::n, codec::s, DynamoStore};
use assistant_domain::error::Result;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::usage::{SolutionEvent, SolutionStats, StatEvent, StatRow};
use assistant_domain::ports::StatsStore;
use aws_sdk_dynamodb::types::Update;

/// A stat item's counters.
fn stats_of(item: &Item) -> SolutionStats {
    let n = |e: SolutionEvent| number(item, e.as_str());
    SolutionStats {
        shown: n(SolutionEvent::Shown),
        copied: n(SolutionEvent::Copied),
        sent: n(SolutionEvent::Sent),
        edited_sent: n(SolutionEvent::EditedSent),
        feedback: n(SolutionEvent::Feedback),
    }
}

/// A stat item as a row: the shop and solution come from its keys.
fn stat_row(item: &Item) -> Option<StatRow> {
    Some(StatRow {
        shop: ShopId::parse(shop_of_pk(string(item, PK)?)?).ok()?,
        solution_id: solution_of_stat_sk(string(item, SK)?)?.to_string(),
        stats: stats_of(item),
    })
}

impl DynamoStore {
    /// One event counted: the solution's counter goes up by one (a transaction item too).
    pub(crate) fn stat_update(&self, event: &StatEvent) -> Update {
        Update::builder()
            .table_name(&self.tables.shops)
            .set_key(Some(key(shop_pk(&event.shop), stat_sk(&event.solution_id))))
            .update_expression(format!("ADD #e :one SET {STAT_SHARD} = :shard"))
            .expression_attribute_names("#e", event.event.as_str())
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":shard", s(stat_shard_key(&event.shop)))
            .build()
            .expect("table, key and expression are set")
    }
}

impl StatsStore for DynamoStore {
    async fn record(&self, event: &StatEvent) -> Result<()> {
        let u = self.stat_update(event);
        let request = self
            .client
            .update_item()
            .table_name(u.table_name())
            .set_key(Some(u.key().clone()))
            .update_expression(u.update_expression())
            .set_expression_attribute_names(u.expression_attribute_names().cloned())
            .set_expression_attribute_values(u.expression_attribute_values().cloned());
        self.send(request).await?;
        Ok(())
    }

    async fn stats(&self, shop: &ShopId, solution_id: &str) -> Result<SolutionStats> {
        let request = self
            .client
            .get_item()
            .table_name(&self.tables.shops)
            .set_key(Some(key(shop_pk(shop), stat_sk(solution_id))));
        let out = self.send(request).await?;
        Ok(stats_of(&out.item.unwrap_or_default()))
    }

    async fn stat_rows(&self, shop: Option<&ShopId>) -> Result<Vec<StatRow>> {
        let items = match shop {
            Some(shop) => {
                self.query_prefix(&self.tables.shops, shop_pk(shop), STAT_PREFIX, false, None)
                    .await?
            }
            None => {
                // The index holds keys only (a counter going up does not rewrite it): the rows
                // are then read by key.
                let partitions = (0..STAT_SHARDS).map(stat_shard);
                let mut keys = self
                    .query_index_partitions(&self.tables.shops, STATS_INDEX, STAT_SHARD, partitions)
                    .await?;
                for entry in &mut keys {
                    entry.retain(|name, _| name == PK || name == SK);
                }
                self.batch_get(&self.tables.shops, keys).await?
            }
        };
        let mut rows: Vec<StatRow> = items.iter().filter_map(stat_row).collect();
        rows.sort_by(|a, b| (&a.shop, &a.solution_id).cmp(&(&b.shop, &b.solution_id)));
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_item_reads_as_its_row() {
        let shop = ShopId::parse("xiaolu-home").unwrap();
        let mut item = key(shop_pk(&shop), stat_sk("urge_shipment.overdue"));
        item.insert("shown".into(), n(4));
        item.insert("copied".into(), n(2));
        let row = stat_row(&item).unwrap();
        assert_eq!(row.shop, shop);
        assert_eq!(row.solution_id, "urge_shipment.overdue");
        assert_eq!(
            (row.stats.shown, row.stats.copied, row.stats.sent),
            (4, 2, 0)
        );
        assert!(stat_row(&key("CONV#c", "META")).is_none());
    }
}
