//! The Shops table beyond payouts: profile, the shop's replies and robot (one Query reads them
//! all), reply history, usage counters and feedback records.
//!
//! | sk | item |
//! | --- | --- |
//! | `PROFILE` | the shop (agents, robot switch, deposit) |
//! | `REPLIES#{intent}` | the shop's replies for an intent, versioned |
//! | `ROBOT` | the robot's answers, versioned |
//! | `HISTORY#REPLIES#{intent}#{version:010}` | one change to the replies (who, when, before/after) |
//! | `STAT#{solution_id}` | usage counters; `StatsIndex` by `stat_shard` for all shops |
//! | `FEEDBACK#{feedback_id}` | a feedback record; `FeedbackIndex` (`feedback_all`, `feedback_id`) for all shops |
//!
//! `PROFILE` < `REPLIES#…` < `ROBOT` in sort order, and nothing else sorts between them, so
//! `sk BETWEEN PROFILE AND ROBOT` is exactly the shop's setup.

use crate::dynamo::{
    feedback_sk, from_item, replies_sk, reply_history_sk, s, sdk_error, shop_pk, stat_sk, to_item,
    DynamoStore, Item, SortKeys, FEEDBACK_ALL, FEEDBACK_INDEX, PROFILE, ROBOT, STATS_INDEX,
    STAT_SHARDS,
};
use assistant_domain::error::{Error, Result};
use assistant_domain::intent::IntentId;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::feedback::Feedback;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use assistant_domain::model::usage::{SolutionEvent, SolutionStats, StatEvent, StatRow};
use assistant_domain::ports::{FeedbackStore, Page, ShopStore, StatsStore};
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnConsumedCapacity, TransactWriteItem, Update,
};

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A versioned put: the item must not exist yet (version 1) or still hold the previous version.
fn versioned_put(table: &str, item: Item, version: u64) -> Put {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = if version <= 1 {
        put.condition_expression("attribute_not_exists(pk)")
    } else {
        put.condition_expression("version = :previous")
            .expression_attribute_values(":previous", n(version - 1))
    };
    put.build().expect("table and item are set")
}

impl ShopStore for DynamoStore {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        self.get(&self.tables().shops, shop_pk(shop), PROFILE).await
    }

    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        let item = to_item(shop, shop_pk(&shop.shop_id), PROFILE.into())?;
        self.put(&self.tables().shops, item).await
    }

    async fn shop_setup(&self, shop: &ShopId) -> Result<Option<ShopSetup>> {
        let keys = SortKeys::Between(PROFILE, ROBOT);
        let items = self
            .query_sort_keys(&self.tables().shops, shop_pk(shop), keys, false, None)
            .await?;
        let mut profile = None;
        let mut robot = None;
        let mut replies = std::collections::BTreeMap::new();
        for item in items {
            let sk = item.get("sk").and_then(|v| v.as_s().ok()).cloned();
            match sk.as_deref() {
                Some(PROFILE) => profile = Some(from_item::<Shop>(item)?),
                Some(ROBOT) => robot = Some(from_item::<RobotSettings>(item)?),
                Some(sk) if sk.starts_with("REPLIES#") => {
                    let r: IntentReplies = from_item(item)?;
                    replies.insert(r.intent, r);
                }
                _ => {}
            }
        }
        Ok(profile.map(|shop| {
            let robot = robot.unwrap_or_else(|| RobotSettings::empty(&shop.shop_id));
            ShopSetup {
                shop,
                replies,
                robot,
            }
        }))
    }

    async fn reply_history(
        &self,
        shop: &ShopId,
        intent: IntentId,
        limit: usize,
    ) -> Result<Vec<ReplyChange>> {
        let prefix = format!("HISTORY#REPLIES#{}#", intent.as_str());
        self.query_prefix(
            &self.tables().shops,
            shop_pk(shop),
            &prefix,
            true,
            Some(limit),
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    async fn save_replies(&self, replies: &IntentReplies, change: &ReplyChange) -> Result<()> {
        let table = &self.tables().shops;
        let pk = shop_pk(&replies.shop_id);
        let item = to_item(replies, pk.clone(), replies_sk(replies.intent.as_str()))?;
        let log = Put::builder()
            .table_name(table)
            .set_item(Some(to_item(
                change,
                pk,
                reply_history_sk(change.intent.as_str(), change.version),
            )?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        self.transact(vec![
            TransactWriteItem::builder()
                .put(versioned_put(table, item, replies.version))
                .build(),
            TransactWriteItem::builder().put(log).build(),
        ])
        .await
    }

    async fn save_robot(&self, robot_on: bool, robot: &RobotSettings) -> Result<()> {
        let table = &self.tables().shops;
        let pk = shop_pk(&robot.shop_id);
        let switch = Update::builder()
            .table_name(table)
            .key("pk", s(pk.clone()))
            .key("sk", s(PROFILE))
            .update_expression("SET robot_on = :on")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":on", AttributeValue::Bool(robot_on))
            .build()
            .expect("table, key and expression are set");
        let item = to_item(robot, pk, ROBOT.into())?;
        self.transact(vec![
            TransactWriteItem::builder().update(switch).build(),
            TransactWriteItem::builder()
                .put(versioned_put(table, item, robot.version))
                .build(),
        ])
        .await
    }
}

/// A stat item's counters.
fn stats_of(item: &Item) -> SolutionStats {
    let n = |e: SolutionEvent| -> u64 {
        item.get(e.as_str())
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
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
    let pk = item.get("pk")?.as_s().ok()?;
    let sk = item.get("sk")?.as_s().ok()?;
    Some(StatRow {
        shop: ShopId::parse(pk.strip_prefix("SHOP#")?).ok()?,
        solution_id: sk.strip_prefix("STAT#")?.to_string(),
        stats: stats_of(item),
    })
}

impl StatsStore for DynamoStore {
    async fn record(&self, event: &StatEvent) -> Result<()> {
        let u = self.stat_update(event);
        self.count();
        let out = self
            .client()
            .update_item()
            .table_name(u.table_name())
            .set_key(Some(u.key().clone()))
            .update_expression(u.update_expression())
            .set_expression_attribute_names(u.expression_attribute_names().cloned())
            .set_expression_attribute_values(u.expression_attribute_values().cloned())
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(())
    }

    async fn stats(&self, shop: &ShopId, solution_id: &str) -> Result<SolutionStats> {
        self.count();
        let out = self
            .client()
            .get_item()
            .table_name(&self.tables().shops)
            .key("pk", s(shop_pk(shop)))
            .key("sk", s(stat_sk(solution_id)))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(stats_of(&out.item.unwrap_or_default()))
    }

    async fn stat_rows(&self, shop: Option<&ShopId>) -> Result<Vec<StatRow>> {
        let items = match shop {
            Some(shop) => {
                self.query_prefix(&self.tables().shops, shop_pk(shop), "STAT#", false, None)
                    .await?
            }
            None => {
                // The index holds keys only (a counter going up does not rewrite it): the rows
                // are then read by key.
                let mut keys = Vec::new();
                for shard in 0..STAT_SHARDS {
                    let entries = self
                        .query_index(
                            &self.tables().shops,
                            STATS_INDEX,
                            "stat_shard",
                            format!("STAT#{shard:02}"),
                        )
                        .await?;
                    keys.extend(entries.into_iter().map(|mut entry| {
                        entry.retain(|name, _| name == "pk" || name == "sk");
                        entry
                    }));
                }
                self.batch_get(&self.tables().shops, keys).await?
            }
        };
        let mut rows: Vec<StatRow> = items.iter().filter_map(stat_row).collect();
        rows.sort_by(|a, b| (&a.shop, &a.solution_id).cmp(&(&b.shop, &b.solution_id)));
        Ok(rows)
    }
}

/// A page cursor: the last feedback returned, as `{shop_id}.{feedback_id}`.
fn cursor_of(f: &Feedback) -> String {
    format!("{}.{}", f.shop_id, f.feedback_id)
}

fn parse_cursor(raw: &str) -> Result<(ShopId, String)> {
    let bad = || Error::invalid("cursor", "is not a cursor this listing returned");
    let (shop, id) = raw.split_once('.').ok_or_else(bad)?;
    let shop = ShopId::parse(shop).map_err(|_| bad())?;
    let valid = !id.is_empty()
        && id.len() <= 80
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(bad());
    }
    Ok((shop, id.to_string()))
}

impl FeedbackStore for DynamoStore {
    async fn put_feedback(&self, feedback: &Feedback, stat: &StatEvent) -> Result<()> {
        let table = &self.tables().shops;
        let mut item = to_item(
            feedback,
            shop_pk(&feedback.shop_id),
            feedback_sk(&feedback.feedback_id),
        )?;
        item.insert("feedback_all".into(), s(FEEDBACK_ALL));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        self.transact(vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder()
                .update(self.stat_update(stat))
                .build(),
        ])
        .await
    }

    async fn feedback_page(
        &self,
        shop: Option<&ShopId>,
        intent: Option<IntentId>,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<Feedback>> {
        let table = &self.tables().shops;
        let mut start: Option<Item> = match after.as_deref().map(parse_cursor).transpose()? {
            None => None,
            Some((cursor_shop, id)) => {
                if shop.is_some_and(|s| *s != cursor_shop) {
                    return Err(Error::invalid(
                        "cursor",
                        "belongs to another listing (shop_id differs)",
                    ));
                }
                let mut key = Item::new();
                key.insert("pk".into(), s(shop_pk(&cursor_shop)));
                key.insert("sk".into(), s(feedback_sk(&id)));
                if shop.is_none() {
                    key.insert("feedback_all".into(), s(FEEDBACK_ALL));
                    key.insert("feedback_id".into(), s(id));
                }
                Some(key)
            }
        };
        let mut items: Vec<Feedback> = Vec::new();
        loop {
            let mut q = self
                .client()
                .query()
                .table_name(table)
                .scan_index_forward(false)
                .limit(((limit + 1).min(100)) as i32)
                .set_exclusive_start_key(start.take());
            q = match shop {
                Some(shop) => q
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", s(shop_pk(shop)))
                    .expression_attribute_values(":prefix", s("FEEDBACK#")),
                None => q
                    .index_name(FEEDBACK_INDEX)
                    .key_condition_expression("feedback_all = :all")
                    .expression_attribute_values(":all", s(FEEDBACK_ALL)),
            };
            if let Some(intent) = intent {
                q = q
                    .filter_expression("intent = :intent")
                    .expression_attribute_values(":intent", s(intent.as_str()));
            }
            let out = self.query_page(q).await?;
            for item in out.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
            start = out.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        let more = items.len() > limit || start.is_some();
        items.truncate(limit);
        let next = if more {
            items.last().map(cursor_of)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn feedback(&self, feedback_id: &str) -> Result<Option<Feedback>> {
        let query = self
            .client()
            .query()
            .table_name(&self.tables().shops)
            .index_name(FEEDBACK_INDEX)
            .key_condition_expression("feedback_all = :all AND feedback_id = :id")
            .expression_attribute_values(":all", s(FEEDBACK_ALL))
            .expression_attribute_values(":id", s(feedback_id));
        self.query_page(query)
            .await?
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(from_item)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let (shop, id) = parse_cursor("xiaolu-home.1763877600000-abc").unwrap();
        assert_eq!(shop.as_str(), "xiaolu-home");
        assert_eq!(id, "1763877600000-abc");
        for bad in ["", "nodot", ".x", "s.", "s.a#b", "s p.x"] {
            assert_eq!(
                parse_cursor(bad).unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_setup_range_holds_only_setup_items() {
        let mut keys = vec![
            PROFILE.to_string(),
            replies_sk("urge_shipment"),
            ROBOT.to_string(),
        ];
        let outside = [
            reply_history_sk("urge_shipment", 3),
            stat_sk("urge_shipment.overdue"),
            feedback_sk("1763877600000-abc"),
            "LEDGER#0000000000001#123456".to_string(),
        ];
        keys.sort();
        for k in &keys {
            assert!(k.as_str() >= PROFILE && k.as_str() <= ROBOT, "{k}");
        }
        for k in outside {
            assert!(!(k.as_str() >= PROFILE && k.as_str() <= ROBOT), "{k}");
        }
    }
}
