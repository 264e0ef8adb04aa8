//! Shops: the profile, the shop's replies and robot (one Query reads them all) and the reply
//! history, in the shop's partition.
//!
//! `PROFILE` < `REPLIES#…` < `ROBOT` in sort order, and nothing else sorts between them, so
//! `sk BETWEEN PROFILE AND ROBOT` is exactly the shop's setup.

use super::codec::{from_item, n, string, to_item, Item};
use super::keys::{
    replies_sk, reply_history_prefix, reply_history_sk, shop_pk, ITEM_EXISTS, ITEM_IS_NEW, PROFILE,
    REPLIES_PREFIX, ROBOT, SK,
};
use super::{codec::key, put_new, DynamoStore, SortKeys};
use assistant_domain::error::Result;
use assistant_domain::intent::IntentId;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use assistant_domain::ports::ShopStore;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

/// A versioned put: the item must not exist yet (version 1) or still hold the previous version.
fn versioned_put(table: &str, item: Item, version: u64) -> Put {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = if version <= 1 {
        put.condition_expression(ITEM_IS_NEW)
    } else {
        put.condition_expression("version = :previous")
            .expression_attribute_values(":previous", n(version - 1))
    };
    put.build().expect("table and item are set")
}

impl ShopStore for DynamoStore {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        self.get(&self.tables.shops, shop_pk(shop), PROFILE).await
    }

    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        let item = to_item(shop, shop_pk(&shop.shop_id), PROFILE.into())?;
        self.put(&self.tables.shops, item).await
    }

    async fn shop_setup(&self, shop: &ShopId) -> Result<Option<ShopSetup>> {
        let keys = SortKeys::Between(PROFILE, ROBOT);
        let items = self
            .query_sort_keys(&self.tables.shops, shop_pk(shop), keys, false, None)
            .await?;
        let mut profile = None;
        let mut robot = None;
        let mut replies = std::collections::BTreeMap::new();
        for item in items {
            let sk = string(&item, SK).map(str::to_string);
            match sk.as_deref() {
                Some(PROFILE) => profile = Some(from_item::<Shop>(item)?),
                Some(ROBOT) => robot = Some(from_item::<RobotSettings>(item)?),
                Some(sk) if sk.starts_with(REPLIES_PREFIX) => {
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
        let prefix = reply_history_prefix(intent.as_str());
        self.query_prefix(
            &self.tables.shops,
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
        let table = &self.tables.shops;
        let pk = shop_pk(&replies.shop_id);
        let item = to_item(replies, pk.clone(), replies_sk(replies.intent.as_str()))?;
        let log = to_item(
            change,
            pk,
            reply_history_sk(change.intent.as_str(), change.version),
        )?;
        self.transact(vec![
            TransactWriteItem::builder()
                .put(versioned_put(table, item, replies.version))
                .build(),
            TransactWriteItem::builder()
                .put(put_new(table, log))
                .build(),
        ])
        .await
    }

    async fn save_robot(&self, robot_on: bool, robot: &RobotSettings) -> Result<()> {
        let table = &self.tables.shops;
        let pk = shop_pk(&robot.shop_id);
        let switch = Update::builder()
            .table_name(table)
            .set_key(Some(key(pk.clone(), PROFILE)))
            .update_expression("SET robot_on = :on")
            .condition_expression(ITEM_EXISTS)
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
