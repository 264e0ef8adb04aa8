//! Shops: the profile, the shop's replies and robot (one Query reads them all) and the reply
//! history, in the shop's partition; and the platform's side (onboarding, top-ups by
//! `Idempotency-Key` and their markers, the deposit ledger), in the shop's funds partition
//! ([`super::funds`]).
//!
//! `PROFILE` < `REPLIES#…` < `ROBOT` in sort order, and nothing else sorts between them, so
//! `sk BETWEEN PROFILE AND ROBOT` is exactly the shop's setup.

use super::codec::{from_item, n, s, string, to_item, to_value, Item};
use super::errors::{DynamoFault, Failure};
use super::funds::move_deposit;
use super::keys::{
    funds_pk, ledger_cursor, ledger_sk_of_cursor, ledger_top_up_sk, replies_sk,
    reply_history_prefix, reply_history_sk, shop_pk, top_up_sk, ITEM_EXISTS, ITEM_IS_NEW,
    LEDGER_PREFIX, PK_AND_SK_PREFIX, PROFILE, REPLIES_PREFIX, ROBOT, SK,
};
use super::{codec::key, put_new, DynamoStore, SortKeys};
use assistant_domain::error::{Error, Result};
use assistant_domain::intent::IntentId;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::ledger::{IdempotencyKey, LedgerEntry, TopUpOutcome};
use assistant_domain::model::money::Fen;
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use assistant_domain::model::shop::ShopProfile;
use assistant_domain::ports::{Onboarding, Page, PlatformStore, ShopStore};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};

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

    async fn deposit(&self, shop: &ShopId) -> Result<Option<Fen>> {
        self.read_deposit(shop).await
    }

    async fn put_deposit(&self, shop: &ShopId, deposit: Fen) -> Result<()> {
        self.write_deposit(shop, deposit).await
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

/// The places in a top-up's transaction of the writes whose failed condition means "the key was
/// used" (the marker, the ledger entry) and "the deposit moved since it was read".
const TOP_UP_MARKER: usize = 0;
const TOP_UP_LEDGER: usize = 1;
const TOP_UP_DEPOSIT: usize = 2;

/// A ledger item back as its entry. Payout entries are written by the payout's transaction
/// (`compensations.rs`); older ones do not carry their shop, which is the partition's.
fn ledger_entry(mut item: Item, shop: &ShopId) -> Result<LedgerEntry> {
    item.entry("shop_id".into())
        .or_insert_with(|| s(shop.as_str()));
    from_item(item)
}

impl PlatformStore for DynamoStore {
    async fn onboard_shop(&self, profile: &ShopProfile) -> Result<Onboarding> {
        // The deposit first (created at 0, else left as it is), so that no profile is ever
        // without one; then one UpdateItem for the profile: its fields set, the robot switch set
        // only on a new shop (if_not_exists), so a switch at the same moment is not lost.
        let deposit = self.open_funds(&profile.shop_id).await?;
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.shops)
            .set_key(Some(key(shop_pk(&profile.shop_id), PROFILE)))
            .update_expression(
                "SET #id = :id, #name = :name, #agents = :agents, #rule = :rule, \
                 #robot = if_not_exists(#robot, :off)",
            )
            .expression_attribute_names("#id", "shop_id")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#agents", "agents")
            .expression_attribute_names("#rule", "serving_rule")
            .expression_attribute_names("#robot", "robot_on")
            .expression_attribute_values(":id", s(profile.shop_id.as_str()))
            .expression_attribute_values(":name", s(profile.name.as_str()))
            .expression_attribute_values(":agents", to_value(&profile.agents)?)
            .expression_attribute_values(":rule", to_value(&profile.serving_rule)?)
            .expression_attribute_values(":off", AttributeValue::Bool(false))
            .return_values(ReturnValue::AllOld);
        let old = self
            .send(request)
            .await?
            .attributes
            .filter(|a| !a.is_empty());
        let (robot_on, created) = match old {
            Some(item) => (from_item::<Shop>(item)?.robot_on, false),
            None => (false, true),
        };
        let shop = Shop {
            shop_id: profile.shop_id.clone(),
            name: profile.name.clone(),
            agents: profile.agents.clone(),
            serving_rule: profile.serving_rule.clone(),
            robot_on,
        };
        Ok(Onboarding {
            shop,
            deposit,
            created,
        })
    }

    async fn top_up_with_key(
        &self,
        shop: &ShopId,
        key: &IdempotencyKey,
    ) -> Result<Option<LedgerEntry>> {
        self.get(&self.tables.shops, funds_pk(shop), &top_up_sk(key))
            .await
    }

    async fn top_up(&self, entry: &LedgerEntry, deposit_read: Fen) -> Result<TopUpOutcome> {
        let table = &self.tables.shops;
        let pk = funds_pk(&entry.shop_id);
        let Some(idempotency_key) = &entry.idempotency_key else {
            return Err(DynamoFault::internal(
                "Invalid",
                "a top-up without its key".into(),
            ));
        };
        let marker = to_item(entry, pk.clone(), top_up_sk(idempotency_key))?;
        let ledger = to_item(
            entry,
            pk.clone(),
            ledger_top_up_sk(entry.at, idempotency_key),
        )?;
        let deposit = move_deposit(table, &entry.shop_id, deposit_read, entry.balance_after);
        let writes = vec![
            TransactWriteItem::builder()
                .put(put_new(table, marker))
                .build(),
            TransactWriteItem::builder()
                .put(put_new(table, ledger))
                .build(),
            TransactWriteItem::builder().update(deposit).build(),
        ];
        let request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes));
        match self.send_checked(request).await {
            Ok(_) => Ok(TopUpOutcome::Applied),
            Err(f)
                if f.condition_failed_at(TOP_UP_MARKER) || f.condition_failed_at(TOP_UP_LEDGER) =>
            {
                Ok(TopUpOutcome::KeyUsed)
            }
            Err(f) if f.condition_failed_at(TOP_UP_DEPOSIT) => Ok(TopUpOutcome::DepositMoved),
            // A failed condition DynamoDB did not place: read again, as after a moved deposit.
            Err(Failure::Condition(_)) => Ok(TopUpOutcome::DepositMoved),
            Err(Failure::Other(err)) => Err(err),
        }
    }

    async fn ledger_page(
        &self,
        shop: &ShopId,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<LedgerEntry>> {
        let pk = funds_pk(shop);
        let start = match after.as_deref() {
            None => None,
            Some(cursor) => {
                let sk = ledger_sk_of_cursor(cursor).ok_or_else(|| {
                    Error::invalid("cursor", "is not a cursor this listing returned")
                })?;
                Some(key(pk.clone(), sk))
            }
        };
        let limit = limit.clamp(1, 100);
        // One more than asked: whether there is a next page, without a second request.
        let query = self
            .client
            .query()
            .table_name(&self.tables.shops)
            .key_condition_expression(PK_AND_SK_PREFIX)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(LEDGER_PREFIX))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start);
        let mut items = self.query_page(query).await?.items.unwrap_or_default();
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items
                .last()
                .and_then(|item| string(item, SK))
                .and_then(ledger_cursor)
                .map(str::to_string)
        } else {
            None
        };
        let items = items
            .into_iter()
            .map(|item| ledger_entry(item, shop))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, next })
    }
}
