//! Feedback records in the shop's partition, with a counter of the solution in the same
//! transaction; `FeedbackIndex` (one partition, by id) lists every shop's, newest first.

use super::codec::{from_item, key, s, to_item, Item};
use super::keys::{
    feedback_sk, shop_pk, FEEDBACK_ALL, FEEDBACK_ALL_KEY, FEEDBACK_ID, FEEDBACK_INDEX,
    FEEDBACK_PREFIX, PK_AND_SK_PREFIX,
};
use super::{put_new, DynamoStore};
use assistant_domain::error::{Error, Result};
use assistant_domain::intent::IntentId;
use assistant_domain::model::feedback::Feedback;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::usage::StatEvent;
use assistant_domain::ports::{FeedbackStore, Page};
use aws_sdk_dynamodb::types::TransactWriteItem;

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

/// The `ExclusiveStartKey` after the cursor's feedback: of the shop's partition, or of the index.
fn start_after(cursor_shop: &ShopId, id: String, in_index: bool) -> Item {
    let mut start = key(shop_pk(cursor_shop), feedback_sk(&id));
    if in_index {
        start.insert(FEEDBACK_ALL_KEY.into(), s(FEEDBACK_ALL));
        start.insert(FEEDBACK_ID.into(), s(id));
    }
    start
}

impl FeedbackStore for DynamoStore {
    async fn put_feedback(&self, feedback: &Feedback, stat: &StatEvent) -> Result<()> {
        let table = &self.tables.shops;
        let mut item = to_item(
            feedback,
            shop_pk(&feedback.shop_id),
            feedback_sk(&feedback.feedback_id),
        )?;
        item.insert(FEEDBACK_ALL_KEY.into(), s(FEEDBACK_ALL));
        self.transact(vec![
            TransactWriteItem::builder()
                .put(put_new(table, item))
                .build(),
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
        let table = &self.tables.shops;
        let mut start: Option<Item> = match after.as_deref().map(parse_cursor).transpose()? {
            None => None,
            Some((cursor_shop, id)) => {
                if shop.is_some_and(|s| *s != cursor_shop) {
                    return Err(Error::invalid(
                        "cursor",
                        "belongs to another listing (shop_id differs)",
                    ));
                }
                Some(start_after(&cursor_shop, id, shop.is_none()))
            }
        };
        let mut items: Vec<Feedback> = Vec::new();
        loop {
            let q = match shop {
                Some(shop) => self
                    .client
                    .query()
                    .table_name(table)
                    .key_condition_expression(PK_AND_SK_PREFIX)
                    .expression_attribute_values(":pk", s(shop_pk(shop)))
                    .expression_attribute_values(":prefix", s(FEEDBACK_PREFIX)),
                None => {
                    self.index_query(table, FEEDBACK_INDEX, FEEDBACK_ALL_KEY, FEEDBACK_ALL.into())
                }
            };
            let mut q = q
                .scan_index_forward(false)
                .limit(((limit + 1).min(100)) as i32)
                .set_exclusive_start_key(start.take());
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
            .client
            .query()
            .table_name(&self.tables.shops)
            .index_name(FEEDBACK_INDEX)
            .key_condition_expression("#all = :all AND #id = :id")
            .expression_attribute_names("#all", FEEDBACK_ALL_KEY)
            .expression_attribute_names("#id", FEEDBACK_ID)
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
    fn a_page_starts_after_the_cursors_feedback() {
        let shop = ShopId::parse("xiaolu-home").unwrap();
        let in_shop = start_after(&shop, "1-a".into(), false);
        assert_eq!(in_shop, key(shop_pk(&shop), feedback_sk("1-a")));
        let in_index = start_after(&shop, "1-a".into(), true);
        assert_eq!(in_index.len(), 4);
        assert_eq!(in_index[FEEDBACK_ID].as_s().unwrap(), "1-a");
        assert_eq!(in_index[FEEDBACK_ALL_KEY].as_s().unwrap(), FEEDBACK_ALL);
    }
}
