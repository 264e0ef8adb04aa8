//! DynamoDB behind the domain's store traits. Key design (README, "DynamoDB key design"):
//!
//! | table | pk | sk | item |
//! | --- | --- | --- | --- |
//! | Orders | `SHOP#{shop}#BUYER#{buyer}` | `ORDER#{order_id}` | an order |
//! | Conversations | `CONV#{id}` | `META` | the conversation (version, open card, confirmed order) |
//! | Conversations | `CONV#{id}` | `MSG#{sent_at:013}#{message_id}` | a message |
//! | Shops | `SHOP#{shop}` | `PROFILE` | the shop (agents, robot switch, deposit) |
//! | Shops | `SHOP#{shop}` | `STAT#{solution_id}` | usage counters of one solution |
//! | Orders | `SHOP#{shop}#BUYER#{buyer}` | `COMP#{order_id}` | the order's compensation: due, then paid |
//! | Orders | `BUYER#{buyer}` | `COUPON#{order_id}` | the buyer's coupon |
//! | Shops | `SHOP#{shop}` | `LEDGER#{paid_at:013}#{order_id}` | a deposit ledger entry |
//!
//! Sparse indexes: `DueIndex` (`due_shard`, `asked_at`) holds only due compensations, over
//! 16 shards; `PaidIndex` (`paid_day`, `paid_at`) holds paid ones by Beijing day and shard;
//! `ArrearsIndex` (`arrears`, `deposit`) holds only shops whose deposit is below zero.
//!
//! Every request path is a GetItem, a Query on one partition, or a TransactWriteItems: no Scan.

use assistant_domain::error::{Error, Result};
use assistant_domain::model::compensation::{
    DueCompensation, PaidCompensation, PayOutcome, ShopInArrears, DUE_SHARDS,
};
use assistant_domain::model::conversation::{Conversation, Message, Shop};
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::Order;
use assistant_domain::model::time::{beijing_date, Millis};
use assistant_domain::model::usage::StatEvent;
use assistant_domain::ports::{
    CompensationStore, ConversationChange, ConversationStore, OrderStore, Page, ReportStore,
    WaitingConversation,
};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Put, ReturnConsumedCapacity, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::Tables;

pub type Item = HashMap<String, AttributeValue>;

/// Which sort keys of a partition a query reads.
#[derive(Debug, Clone, Copy)]
pub enum SortKeys<'a> {
    Prefix(&'a str),
    /// Inclusive at both ends.
    Between(&'a str, &'a str),
}

// ---- keys -----------------------------------------------------------------------------------

pub fn order_pk(shop: &ShopId, buyer: &UserId) -> String {
    format!("SHOP#{shop}#BUYER#{buyer}")
}
pub fn order_sk(order: &OrderId) -> String {
    format!("ORDER#{order}")
}
pub fn conversation_pk(id: &ConversationId) -> String {
    format!("CONV#{id}")
}
pub const META: &str = "META";
pub fn message_sk(m: &Message) -> String {
    format!("MSG#{:013}#{}", m.sent_at.max(0), m.message_id)
}
pub fn shop_pk(shop: &ShopId) -> String {
    format!("SHOP#{shop}")
}
pub const PROFILE: &str = "PROFILE";
pub fn stat_sk(solution_id: &str) -> String {
    format!("STAT#{solution_id}")
}
pub fn compensation_sk(order: &OrderId) -> String {
    format!("COMP#{order}")
}
pub fn coupon_pk(buyer: &UserId) -> String {
    format!("BUYER#{buyer}")
}
pub fn coupon_sk(order: &OrderId) -> String {
    format!("COUPON#{order}")
}
pub fn ledger_sk(paid_at: Millis, order: &OrderId) -> String {
    format!("LEDGER#{:013}#{order}", paid_at.max(0))
}
pub fn due_shard_key(shard: u32) -> String {
    format!("DUE#{shard:02}")
}
/// The `PaidIndex` partition: the Beijing day of payment and the order's shard.
pub fn paid_day_key(day: &str, shard: u32) -> String {
    format!("{day}#{shard:02}")
}
/// The `StatsIndex` partition of a shop's usage counters: a stable hash of the shop, 16 shards.
pub fn stat_shard_key(shop: &ShopId) -> String {
    let hash = shop.as_str().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    format!("STAT#{:02}", hash % STAT_SHARDS)
}
pub const STAT_SHARDS: u32 = 16;
pub const STATS_INDEX: &str = "StatsIndex";
pub const WAITING_INDEX: &str = "WaitingIndex";
pub const WAITING_SHOP: &str = "waiting_shop";
/// `WaitingIndex` partitions per shop: a big shop's conversations starting to wait spread over
/// several keys instead of one hot one.
pub const WAITING_SHARDS: u32 = 8;
/// The `WaitingIndex` key of a waiting conversation: its shop and a stable shard.
pub fn waiting_key(shop: &ShopId, conversation: &ConversationId) -> String {
    let hash = conversation.as_str().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    format!("{shop}#{}", hash % WAITING_SHARDS)
}
pub const FEEDBACK_INDEX: &str = "FeedbackIndex";
/// The one `FeedbackIndex` partition.
pub const FEEDBACK_ALL: &str = "FEEDBACK";
pub fn feedback_sk(feedback_id: &str) -> String {
    format!("FEEDBACK#{feedback_id}")
}
pub fn replies_sk(intent: &str) -> String {
    format!("REPLIES#{intent}")
}
/// Reply changes sort before `PROFILE`, so the setup read (`PROFILE` ..= `ROBOT`) skips them.
pub fn reply_history_sk(intent: &str, version: u64) -> String {
    format!("HISTORY#REPLIES#{intent}#{version:010}")
}
pub const ROBOT: &str = "ROBOT";
pub const DUE_INDEX: &str = "DueIndex";
pub const PAID_INDEX: &str = "PaidIndex";
pub const ARREARS_INDEX: &str = "ArrearsIndex";
pub const ARREARS: &str = "ARREARS";
pub const STATUS_DUE: &str = "due";
pub const STATUS_PAID: &str = "paid";

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

// ---- item mapping ---------------------------------------------------------------------------

/// A domain value as an item under the given keys. `None` fields are left out, not stored as NULL.
pub fn to_item<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| Error::Internal(Box::new(e)))?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(true)));
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    Ok(item)
}

/// An item back as a domain value; the keys are ignored.
pub fn from_item<T: DeserializeOwned>(mut item: Item) -> Result<T> {
    item.remove("pk");
    item.remove("sk");
    serde_dynamo::from_item(item).map_err(|e| Error::Internal(Box::new(e)))
}

// ---- errors ---------------------------------------------------------------------------------

/// SDK failures as domain errors: a failed condition is a typed conflict, throttling and
/// transport trouble are "unavailable" (retryable), anything else is internal.
pub(crate) fn sdk_error<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // Transport trouble (a timeout, a dropped or refused connection, an answer cut short) after the
    // SDK's own retries is retryable; a request the SDK could not even build is our fault.
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
            return Error::Unavailable(Box::new(DynamoFault("transport".into(), detail)));
        }
        SdkError::ConstructionFailure(_) => {
            let detail = aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string();
            return Error::Internal(Box::new(DynamoFault("request".into(), detail)));
        }
        _ => {}
    }
    let code = err.code().unwrap_or_default().to_string();
    match code.as_str() {
        "ConditionalCheckFailedException" => {
            Error::Conflict("someone else changed this at the same time; retry".into())
        }
        "TransactionCanceledException" => {
            let message = err.message().unwrap_or_default().to_string();
            if message.contains("ConditionalCheckFailed") {
                Error::Conflict("someone else changed this at the same time; retry".into())
            } else {
                // TransactionConflict or throttling inside the transaction: retryable.
                Error::Unavailable(Box::new(DynamoFault(code, message)))
            }
        }
        "ResourceNotFoundException" | "ValidationException" | "SerializationException" => {
            Error::Internal(Box::new(DynamoFault(code, format!("{err:?}"))))
        }
        _ => Error::Unavailable(Box::new(DynamoFault(code, format!("{err:?}")))),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {0}: {1}")]
struct DynamoFault(String, String);

// ---- the store ------------------------------------------------------------------------------

/// The DynamoDB store. Cheap to clone; counts the requests it makes (the README and the demo
/// report them per step).
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
    requests: Arc<AtomicU64>,
    /// Capacity units DynamoDB reported consumed (ReturnConsumedCapacity), in thousandths.
    milli_units: Arc<AtomicU64>,
    /// The same, per table and per index (`Table` or `Table/Index`), in thousandths.
    milli_units_by_part: Arc<std::sync::Mutex<std::collections::BTreeMap<String, u64>>>,
}

/// The capacity a response reports consumed.
pub trait Consumed {
    /// What the response reports, one entry per table (with its indexes).
    fn capacities(&self) -> &[ConsumedCapacity];
    fn units(&self) -> f64 {
        sum(self.capacities())
    }
}

fn sum(c: &[ConsumedCapacity]) -> f64 {
    c.iter().filter_map(|c| c.capacity_units()).sum()
}

macro_rules! consumed_one {
    ($($t:ty),*) => {$(
        impl Consumed for $t {
            fn capacities(&self) -> &[ConsumedCapacity] {
                self.consumed_capacity().map(std::slice::from_ref).unwrap_or_default()
            }
        }
    )*};
}
consumed_one!(
    aws_sdk_dynamodb::operation::get_item::GetItemOutput,
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::operation::query::QueryOutput
);

impl Consumed for aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput {
    fn capacities(&self) -> &[ConsumedCapacity] {
        self.consumed_capacity()
    }
}

impl Consumed for aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput {
    fn capacities(&self) -> &[ConsumedCapacity] {
        self.consumed_capacity()
    }
}

impl Consumed for aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput {
    fn capacities(&self) -> &[ConsumedCapacity] {
        self.consumed_capacity()
    }
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        DynamoStore {
            client,
            tables,
            requests: Arc::new(AtomicU64::new(0)),
            milli_units: Arc::new(AtomicU64::new(0)),
            milli_units_by_part: Arc::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// DynamoDB requests made so far by this store.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Capacity units consumed so far, as DynamoDB reported them.
    pub fn capacity_units(&self) -> f64 {
        self.milli_units.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Capacity units consumed so far per table (`Table`) and index (`Table/Index`): where
    /// [`capacity_units`](Self::capacity_units) went.
    pub fn capacity_by_part(&self) -> std::collections::BTreeMap<String, f64> {
        let parts = self
            .milli_units_by_part
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        parts
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / 1000.0))
            .collect()
    }

    pub(crate) fn track(&self, out: &impl Consumed) {
        let milli = |units: f64| (units * 1000.0).round() as u64;
        self.milli_units
            .fetch_add(milli(out.units()), Ordering::Relaxed);
        let mut parts = self
            .milli_units_by_part
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for c in out.capacities() {
            let table = c.table_name().unwrap_or("?");
            let mut rest = c.capacity_units().unwrap_or(0.0);
            for (index, cap) in c.global_secondary_indexes().into_iter().flatten() {
                let units = cap.capacity_units().unwrap_or(0.0);
                *parts.entry(format!("{table}/{index}")).or_default() += milli(units);
                rest -= units;
            }
            *parts.entry(table.to_string()).or_default() += milli(rest.max(0.0));
        }
    }

    /// One all-or-nothing write; a failed condition is `Error::Conflict`.
    pub(crate) async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<()> {
        self.count();
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(())
    }

    pub(crate) fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        table: &str,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        out.item.map(from_item).transpose()
    }

    pub(crate) async fn put(&self, table: &str, item: Item) -> Result<()> {
        self.count();
        let out = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(())
    }

    /// All items of one partition whose sort key starts with `prefix`, following pages.
    pub(crate) async fn query_prefix(
        &self,
        table: &str,
        pk: String,
        prefix: &str,
        newest_first: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        self.query_sort_keys(table, pk, SortKeys::Prefix(prefix), newest_first, limit)
            .await
    }

    /// All items of one partition whose sort key is in `keys`, following pages.
    pub(crate) async fn query_sort_keys(
        &self,
        table: &str,
        pk: String,
        keys: SortKeys<'_>,
        newest_first: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        let q = self
            .client
            .query()
            .table_name(table)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(!newest_first)
            .set_limit(limit.map(|l| l.min(1000) as i32));
        let q = match keys {
            SortKeys::Prefix(prefix) => q
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            SortKeys::Between(from, to) => q
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
        };
        self.pages(q, limit).await
    }

    /// Sends one page of a query: a counted request, its capacity tracked.
    pub(crate) async fn query_page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput> {
        self.count();
        let out = query
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(out)
    }

    /// Sends a query and follows its pages until the last or until `limit` items are in (then
    /// cut to `limit`); every page is a counted request with its capacity tracked.
    async fn pages(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .query_page(query.clone().set_exclusive_start_key(start))
                .await?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            let full = limit.is_some_and(|l| items.len() >= l);
            if start.is_none() || full {
                break;
            }
        }
        if let Some(l) = limit {
            items.truncate(l);
        }
        Ok(items)
    }

    pub(crate) fn stat_update(&self, event: &StatEvent) -> Update {
        Update::builder()
            .table_name(&self.tables.shops)
            .key("pk", s(shop_pk(&event.shop)))
            .key("sk", s(stat_sk(&event.solution_id)))
            .update_expression("ADD #e :one SET stat_shard = :shard")
            .expression_attribute_names("#e", event.event.as_str())
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":shard", s(stat_shard_key(&event.shop)))
            .build()
            .expect("table, key and expression are set")
    }
}

impl OrderStore for DynamoStore {
    async fn buyer_orders(&self, shop: &ShopId, buyer: &UserId) -> Result<Vec<Order>> {
        self.query_prefix(
            &self.tables.orders,
            order_pk(shop, buyer),
            "ORDER#",
            false,
            None,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    async fn order(&self, shop: &ShopId, buyer: &UserId, order: &OrderId) -> Result<Option<Order>> {
        self.get(&self.tables.orders, order_pk(shop, buyer), &order_sk(order))
            .await
    }

    async fn put_order(&self, order: &Order) -> Result<()> {
        let item = to_item(
            order,
            order_pk(&order.shop_id, &order.buyer_id),
            order_sk(&order.order_id),
        )?;
        self.put(&self.tables.orders, item).await
    }
}

impl ConversationStore for DynamoStore {
    async fn append(&self, message: &Message) -> Result<()> {
        let pk = conversation_pk(&message.conversation_id);
        let item = to_item(message, pk, message_sk(message))?;
        self.count();
        let out = self
            .client
            .put_item()
            .table_name(&self.tables.conversations)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(())
    }

    async fn waiting(&self, shop: &ShopId, limit: usize) -> Result<Vec<WaitingConversation>> {
        // Each shard holds its oldest waits first; the longest waits overall are among the first
        // `limit` of every shard, read together. The index projects only what the queue shows.
        let shards = (0..WAITING_SHARDS).map(|shard| async move {
            let query = self
                .client
                .query()
                .table_name(&self.tables.conversations)
                .index_name(WAITING_INDEX)
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", WAITING_SHOP)
                .expression_attribute_values(":v", s(format!("{shop}#{shard}")))
                .scan_index_forward(true)
                .limit(limit.min(1000) as i32);
            self.query_page(query)
                .await?
                .items
                .unwrap_or_default()
                .into_iter()
                .map(from_item)
                .collect::<Result<Vec<WaitingConversation>>>()
        });
        let mut all: Vec<WaitingConversation> = futures_util::future::try_join_all(shards)
            .await?
            .into_iter()
            .flatten()
            .collect();
        all.sort_by(|a, b| {
            (a.waiting_since, &a.conversation_id).cmp(&(b.waiting_since, &b.conversation_id))
        });
        all.truncate(limit);
        Ok(all)
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        self.get(&self.tables.conversations, conversation_pk(id), META)
            .await
    }

    async fn messages(&self, id: &ConversationId, limit: usize) -> Result<Vec<Message>> {
        let mut items = self
            .query_prefix(
                &self.tables.conversations,
                conversation_pk(id),
                "MSG#",
                true,
                Some(limit),
            )
            .await?;
        items.reverse();
        items.into_iter().map(from_item).collect()
    }

    async fn commit(&self, change: ConversationChange) -> Result<()> {
        let conv = &change.conversation;
        let pk = conversation_pk(&conv.conversation_id);
        let mut item = to_item(conv, pk.clone(), META.into())?;
        if conv.waiting_since.is_some() {
            // In WaitingIndex only while the buyer waits for a person.
            item.insert(
                WAITING_SHOP.into(),
                s(waiting_key(&conv.shop_id, &conv.conversation_id)),
            );
        }
        let mut meta = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(item));
        meta = match change.expected_version {
            None => meta.condition_expression("attribute_not_exists(pk)"),
            Some(v) => meta
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
        };
        let mut writes = vec![TransactWriteItem::builder()
            .put(meta.build().expect("table and item are set"))
            .build()];
        for m in &change.messages {
            let put = Put::builder()
                .table_name(&self.tables.conversations)
                .set_item(Some(to_item(m, pk.clone(), message_sk(m))?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .expect("table and item are set");
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        for event in &change.stats {
            writes.push(
                TransactWriteItem::builder()
                    .update(self.stat_update(event))
                    .build(),
            );
        }
        for due in &change.compensations {
            let put = Put::builder()
                .table_name(&self.tables.orders)
                .set_item(Some(due_item(due)?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .expect("table and item are set");
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        self.transact(writes).await
    }
}

/// A due compensation as its item: in the order's partition, and in `DueIndex` by its shard.
pub fn due_item(due: &DueCompensation) -> Result<Item> {
    let mut item = to_item(
        due,
        order_pk(&due.shop_id, &due.buyer_id),
        compensation_sk(&due.order_id),
    )?;
    item.insert("status".into(), s(STATUS_DUE));
    item.insert("due_shard".into(), s(due_shard_key(due.shard())));
    Ok(item)
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Which transaction items a cancellation blamed on a failed condition.
fn failed_conditions<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<bool>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => Some(
            e.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

impl CompensationStore for DynamoStore {
    async fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> Result<bool> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .key("pk", s(order_pk(shop, buyer)))
            .key("sk", s(compensation_sk(order)))
            .projection_expression("pk")
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .map_err(sdk_error)?;
        self.track(&out);
        Ok(out.item.is_some())
    }

    async fn due(
        &self,
        shard: u32,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<DueCompensation>> {
        let start: Option<Item> = match after {
            Some(cursor) => {
                let keys: HashMap<String, String> =
                    serde_json::from_str(&cursor).map_err(|e| Error::Internal(Box::new(e)))?;
                Some(
                    keys.into_iter()
                        .map(|(k, v)| {
                            let value = if k == "asked_at" {
                                AttributeValue::N(v)
                            } else {
                                s(v)
                            };
                            (k, value)
                        })
                        .collect(),
                )
            }
            None => None,
        };
        let query = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .index_name(DUE_INDEX)
            .key_condition_expression("due_shard = :shard")
            .expression_attribute_values(":shard", s(due_shard_key(shard % DUE_SHARDS)))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start);
        let out = self.query_page(query).await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| {
                for k in ["status", "due_shard"] {
                    item.remove(k);
                }
                from_item(item)
            })
            .collect::<Result<Vec<DueCompensation>>>()?;
        let next = out.last_evaluated_key.map(|key| {
            let flat: HashMap<String, String> = key
                .into_iter()
                .filter_map(|(k, v)| match v {
                    AttributeValue::S(x) | AttributeValue::N(x) => Some((k, x)),
                    _ => None,
                })
                .collect();
            serde_json::to_string(&flat).unwrap_or_default()
        });
        Ok(Page { items, next })
    }

    async fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        notice: &Message,
        now: Millis,
    ) -> Result<PayOutcome> {
        let balance_after = Fen(deposit_read.0 - due.amount.0);
        let day = paid_day_key(&beijing_date(now), due.shard());

        // 0: the order's compensation, only if still due; it leaves DueIndex and joins PaidIndex.
        let mark_paid = Update::builder()
            .table_name(&self.tables.orders)
            .key("pk", s(order_pk(&due.shop_id, &due.buyer_id)))
            .key("sk", s(compensation_sk(&due.order_id)))
            .update_expression(
                "SET #status = :paid, paid_at = :now, paid_day = :day, balance_after = :bal REMOVE due_shard",
            )
            .condition_expression("#status = :due")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":paid", s(STATUS_PAID))
            .expression_attribute_values(":due", s(STATUS_DUE))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":day", s(day))
            .expression_attribute_values(":bal", n(balance_after.0))
            .build()
            .expect("table, key and expression are set");
        // 1: the buyer's coupon, one per order.
        let coupon = Put::builder()
            .table_name(&self.tables.orders)
            .item("pk", s(coupon_pk(&due.buyer_id)))
            .item("sk", s(coupon_sk(&due.order_id)))
            .item("order_id", s(due.order_id.as_str()))
            .item("shop_id", s(due.shop_id.as_str()))
            .item("amount", n(due.amount.0))
            .item("issued_at", n(now))
            .item("reason", s("overdue_shipment"))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        // 2: the shop's deposit, only if it is still what we read; arrears flagged in the same write.
        let arrears = if balance_after.0 < 0 {
            "SET deposit = :new, arrears = :arrears"
        } else {
            "SET deposit = :new REMOVE arrears"
        };
        let mut deduct = Update::builder()
            .table_name(&self.tables.shops)
            .key("pk", s(shop_pk(&due.shop_id)))
            .key("sk", s(PROFILE))
            .update_expression(arrears)
            .condition_expression("deposit = :read")
            .expression_attribute_values(":new", n(balance_after.0))
            .expression_attribute_values(":read", n(deposit_read.0));
        if balance_after.0 < 0 {
            deduct = deduct.expression_attribute_values(":arrears", s(ARREARS));
        }
        let deduct = deduct.build().expect("table, key and expression are set");
        // 3: the ledger entry.
        let ledger = Put::builder()
            .table_name(&self.tables.shops)
            .item("pk", s(shop_pk(&due.shop_id)))
            .item("sk", s(ledger_sk(now, &due.order_id)))
            .item("order_id", s(due.order_id.as_str()))
            .item("delta", n(-due.amount.0))
            .item("balance_after", n(balance_after.0))
            .item("reason", s("overdue_coupon"))
            .item("message_id", s(due.message_id.as_str()))
            .item("at", n(now))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table and item are set");
        // 4: the buyer is told in the conversation, in the words the domain chose.
        let message = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(to_item(
                notice,
                conversation_pk(&notice.conversation_id),
                message_sk(notice),
            )?))
            .build()
            .expect("table and item are set");

        self.count();
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(mark_paid).build())
            .transact_items(TransactWriteItem::builder().put(coupon).build())
            .transact_items(TransactWriteItem::builder().update(deduct).build())
            .transact_items(TransactWriteItem::builder().put(ledger).build())
            .transact_items(TransactWriteItem::builder().put(message).build())
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.track(&out);
                Ok(PayOutcome::Paid { balance_after })
            }
            Err(err) => match failed_conditions(&err) {
                Some(failed) if failed.first() == Some(&true) => Ok(PayOutcome::AlreadyPaid),
                Some(failed) if failed.get(2) == Some(&true) => Ok(PayOutcome::DepositMoved),
                Some(failed) if failed.iter().any(|f| *f) => {
                    Err(Error::Internal(Box::new(DynamoFault(
                        "Inconsistent".into(),
                        format!(
                            "coupon or ledger exists for a due compensation of order {}",
                            due.order_id
                        ),
                    ))))
                }
                _ => Err(sdk_error(err)),
            },
        }
    }
}

impl DynamoStore {
    /// The items with these keys (100 a request, asking again for what DynamoDB left
    /// unprocessed); keys without an item are left out.
    pub(crate) async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| Error::Internal(Box::new(e)))?,
            );
            while let Some(request) = pending.take() {
                self.count();
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                self.track(&out);
                if let Some(mut got) = out.responses {
                    items.extend(got.remove(table).unwrap_or_default());
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(table))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(items)
    }

    /// Every item of one index partition, following pages.
    pub(crate) async fn query_index(
        &self,
        table: &str,
        index: &str,
        key: &str,
        value: String,
    ) -> Result<Vec<Item>> {
        let q = self
            .client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", s(value));
        self.pages(q, None).await
    }
}

impl DynamoStore {
    /// Writes many items with BatchWriteItem (25 a request), resending what DynamoDB left
    /// unprocessed. For seeding and benchmarks, not for request paths.
    pub async fn batch_put(&self, table: &str, items: Vec<Item>) -> Result<()> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in items.chunks(25) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item.clone()))
                                .build()
                                .expect("item is set"),
                        )
                        .build()
                })
                .collect();
            while !pending.is_empty() {
                self.count();
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(table, pending)
                    .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                self.track(&out);
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Many orders at once (see `batch_put`).
    pub async fn put_orders(&self, orders: &[Order]) -> Result<()> {
        let items = orders
            .iter()
            .map(|o| to_item(o, order_pk(&o.shop_id, &o.buyer_id), order_sk(&o.order_id)))
            .collect::<Result<Vec<_>>>()?;
        self.batch_put(&self.tables.orders, items).await
    }

    /// Many due compensations at once (see `batch_put`).
    pub async fn put_due(&self, due: &[DueCompensation]) -> Result<()> {
        let items = due.iter().map(due_item).collect::<Result<Vec<_>>>()?;
        self.batch_put(&self.tables.orders, items).await
    }
}

impl ReportStore for DynamoStore {
    async fn paid_on(&self, day: &str) -> Result<Vec<PaidCompensation>> {
        let mut out = Vec::new();
        for shard in 0..DUE_SHARDS {
            let items = self
                .query_index(
                    &self.tables.orders,
                    PAID_INDEX,
                    "paid_day",
                    paid_day_key(day, shard),
                )
                .await?;
            for item in items {
                out.push(from_item(item)?);
            }
        }
        out.sort_by_key(|p: &PaidCompensation| p.paid_at);
        Ok(out)
    }

    async fn shops_in_arrears(&self) -> Result<Vec<ShopInArrears>> {
        self.query_index(&self.tables.shops, ARREARS_INDEX, "arrears", ARREARS.into())
            .await?
            .into_iter()
            .map(|item| {
                let shop: Shop = from_item(item)?;
                Ok(ShopInArrears {
                    shop_id: shop.shop_id,
                    name: shop.name,
                    deposit: shop.deposit,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assistant_domain::model::money::Fen;
    use assistant_domain::model::order::OrderItem;

    fn order() -> Order {
        Order {
            order_id: OrderId::parse("6912345678901234567").unwrap(),
            shop_id: ShopId::parse("shop1").unwrap(),
            buyer_id: UserId::parse("buyer1").unwrap(),
            items: vec![OrderItem {
                name: "纯棉四件套".into(),
                quantity: 1,
                unit_price: Fen(29900),
            }],
            total: Fen(29900),
            created_at: 1,
            paid_at: Some(2),
            promised_ship_by: Some(3),
            shipped_at: None,
            courier: None,
            tracking_no: None,
            delivered_at: None,
            after_sale: None,
            closed_at: None,
            close_reason: None,
        }
    }

    #[test]
    fn an_order_maps_to_an_item_and_back() {
        let o = order();
        let item = to_item(&o, order_pk(&o.shop_id, &o.buyer_id), order_sk(&o.order_id)).unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "SHOP#shop1#BUYER#buyer1");
        assert_eq!(item["sk"].as_s().unwrap(), "ORDER#6912345678901234567");
        assert_eq!(item["total"].as_n().unwrap(), "29900");
        assert!(
            !item.contains_key("shipped_at"),
            "None is left out, not NULL"
        );
        assert_eq!(from_item::<Order>(item).unwrap(), o);
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error_not_a_panic() {
        let mut item = to_item(&order(), "p".into(), "s".into()).unwrap();
        item.insert("order_id".into(), s("not digits"));
        assert_eq!(from_item::<Order>(item).unwrap_err().code(), "internal");
    }

    #[test]
    fn a_due_item_sits_in_its_shard() {
        use assistant_domain::model::ids::{ConversationId, MessageId};
        let o = order();
        let due = DueCompensation::new(
            &o,
            &ConversationId::parse("c").unwrap(),
            &MessageId::parse("m").unwrap(),
            5,
        );
        let item = due_item(&due).unwrap();
        assert_eq!(item["sk"].as_s().unwrap(), "COMP#6912345678901234567");
        assert_eq!(item["status"].as_s().unwrap(), "due");
        assert_eq!(
            item["due_shard"].as_s().unwrap(),
            &due_shard_key(due.shard())
        );
        assert_eq!(item["asked_at"].as_n().unwrap(), "5");
        assert_eq!(item["amount"].as_n().unwrap(), "300");
    }

    #[test]
    fn message_keys_sort_by_time() {
        use assistant_domain::model::conversation::{MessageBody, Sender};
        let c = ConversationId::parse("c").unwrap();
        let a = Message::new(
            &c,
            Sender::System,
            MessageBody::Text { text: "a".into() },
            999,
        );
        let b = Message::new(
            &c,
            Sender::System,
            MessageBody::Text { text: "b".into() },
            1000,
        );
        assert!(message_sk(&a) < message_sk(&b));
    }
}
