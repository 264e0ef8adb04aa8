//! DynamoDB behind the domain's store traits, one file per aggregate. Key design (README,
//! "DynamoDB key design"; every key is built in [`keys`]):
//!
//! | table | pk | sk | item |
//! | --- | --- | --- | --- |
//! | Orders | `SHOP#{shop}#BUYER#{buyer}` | `ORDER#{order_id}` | an order ([`orders`]) |
//! | Conversations | `CONV#{id}` | `META` | the conversation (version, open card, confirmed order) ([`conversations`]) |
//! | Conversations | `CONV#{id}` | `MSG#{sent_at:013}#{message_id}` | a message |
//! | Shops | `SHOP#{shop}` | `PROFILE` | the shop (agents, serving rule, robot switch) ([`shops`]) |
//! | Shops | `SHOP#{shop}` | `REPLIES#{intent}` | the shop's replies for an intent, versioned |
//! | Shops | `SHOP#{shop}` | `ROBOT` | the robot's answers, versioned |
//! | Shops | `SHOP#{shop}` | `HISTORY#REPLIES#{intent}#{version:010}` | one change to the replies |
//! | Shops | `SHOP#{shop}` | `STAT#{solution_id}` | usage counters of one solution ([`stats`]) |
//! | Shops | `SHOP#{shop}` | `FEEDBACK#{feedback_id}` | a feedback record ([`feedback`]) |
//! | Orders | `SHOP#{shop}#BUYER#{buyer}` | `COMP#{order_id}` | the order's compensation: due, then paid ([`compensations`]) |
//! | Orders | `BUYER#{buyer}` | `COUPON#{order_id}` | the buyer's coupon |
//! | Shops | `FUNDS#{shop}` | `BALANCE` | the shop's deposit, `arrears` while below zero ([`funds`]) |
//! | Shops | `FUNDS#{shop}` | `LEDGER#{at:013}#{order_id or TOPUP#key}` | a deposit ledger entry: a payout or a top-up |
//! | Shops | `FUNDS#{shop}` | `TOPUP#{key}` | a top-up's marker, one per `Idempotency-Key` |
//! | Conversations | `PUSH#TICKET#{ticket}`, `PUSH#CONN#{connection}`, `PUSH#TOPIC#{topic}` | … | push tickets, connections and subscriptions, removed by TTL ([`push`]) |
//! | Conversations | `LIMIT#{buyer}` | `MSG#{window_start:013}` / `CONVS#{shop}#{window_start:013}` | a buyer's allowance in one window, removed by TTL (`expires_at`) after it ([`limits`]) |
//!
//! Sparse indexes: `DueIndex` (`due_shard`, `asked_at`) holds only due compensations, over
//! 16 shards; `PaidIndex` (`paid_day`, `paid_at`) holds paid ones by Beijing day and shard
//! ([`reports`]); `ArrearsIndex` (`arrears`, `deposit`) holds only the balances below zero;
//! `WaitingIndex` the conversations whose buyer waits for a person; `OrderIndex` (`order_ref`,
//! keys only) the conversations about an order, once the buyer named it; `StatsIndex` (keys
//! only) every shop's counters over 16 shards; `FeedbackIndex` every feedback record.
//!
//! Every request path is a GetItem, a Query on one partition, or a TransactWriteItems: no Scan.
//! Every request goes through [`meter`]: counted, its capacity tracked, its failure mapped by
//! [`errors`]; items are encoded by [`codec`].

pub(crate) mod codec;
mod compensations;
mod conversations;
pub(crate) mod errors;
mod feedback;
mod funds;
pub mod keys;
mod limits;
pub(crate) mod meter;
pub use meter::Grant;
mod orders;
mod push;
mod reports;
mod shops;
mod stats;

use assistant_domain::error::{Error, Result};
use assistant_domain::model::limits::Limits;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::{
    KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use codec::{from_item, key, s, Item};
use keys::{ITEM_IS_NEW, PK_AND_SK_BETWEEN, PK_AND_SK_PREFIX};
use serde::de::DeserializeOwned;

use crate::config::Tables;

/// The DynamoDB store. Cheap to clone; counts the requests it makes and the capacity they
/// consumed (the README and the demo report them per step).
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
    meter: meter::Meter,
    /// The function this store's requests are made for (recorded grants are filed under it).
    function: &'static str,
    /// The buyers' limits ([`limits`]).
    limits: Limits,
    /// Where committed changes are pushed (`@connections`); none: nothing is announced.
    connections: Option<crate::connections::ConnectionsApi>,
    /// Where the fan-out runs when it runs after the answer (a function: [`crate::lambda`]);
    /// none: `announce` fans out before it returns (the CLI, tests).
    after_response: Option<crate::after_response::AfterResponse>,
}

/// Which sort keys of a partition a query reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SortKeys<'a> {
    Prefix(&'a str),
    /// Inclusive at both ends.
    Between(&'a str, &'a str),
}

/// A transaction's put that must create its item.
pub(crate) fn put_new(table: &str, item: Item) -> Put {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(ITEM_IS_NEW)
        .build()
        .expect("table and item are set")
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        DynamoStore {
            client,
            tables,
            meter: meter::Meter::default(),
            function: "",
            limits: Limits::default(),
            connections: None,
            after_response: None,
        }
    }

    /// The same store, announcing its committed changes through `@connections`.
    pub fn with_connections(self, connections: Option<crate::connections::ConnectionsApi>) -> Self {
        DynamoStore {
            connections,
            ..self
        }
    }

    /// The same store, its fan-outs spawned on `after` to run after the answer.
    pub fn with_after_response(self, after: crate::after_response::AfterResponse) -> Self {
        DynamoStore {
            after_response: Some(after),
            ..self
        }
    }

    pub(crate) fn after_response(&self) -> Option<&crate::after_response::AfterResponse> {
        self.after_response.as_ref()
    }

    /// Whether this store announces its changes (`@connections` is configured).
    pub fn pushes(&self) -> bool {
        self.connections.is_some()
    }

    pub(crate) fn connections(&self) -> Option<&crate::connections::ConnectionsApi> {
        self.connections.as_ref()
    }

    /// The same store with these buyers' limits.
    pub fn with_limits(self, limits: Limits) -> Self {
        DynamoStore { limits, ..self }
    }

    /// The same store (same client, tables and meter), its requests made for `function` (a
    /// binary of template.yaml): what [`record_grants`](Self::record_grants) files them under.
    pub fn acting_as(&self, function: &'static str) -> Self {
        DynamoStore {
            function,
            ..self.clone()
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// One item by its key.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        table: &str,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>> {
        let request = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(pk, sk)));
        self.send(request).await?.item.map(from_item).transpose()
    }

    /// A GetItem for a key no item has, on the Shops table: the warm-up's cheap call (credentials
    /// resolved, the endpoint known, a connection opened), metered like any other.
    pub async fn warm_up_read(&self) -> Result<()> {
        let request = self
            .client
            .get_item()
            .table_name(&self.tables.shops)
            .set_key(Some(key(keys::WARM_UP_PK, keys::WARM_UP_SK)));
        self.send(request).await?;
        Ok(())
    }

    /// One item written whatever was there.
    pub(crate) async fn put(&self, table: &str, item: Item) -> Result<()> {
        let request = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item));
        self.send(request).await?;
        Ok(())
    }

    /// One all-or-nothing write; a failed condition is `Error::Conflict`.
    pub(crate) async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<()> {
        let request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes));
        self.send(request).await?;
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
                .key_condition_expression(PK_AND_SK_PREFIX)
                .expression_attribute_values(":prefix", s(prefix)),
            SortKeys::Between(from, to) => q
                .key_condition_expression(PK_AND_SK_BETWEEN)
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
        };
        self.pages(q, limit).await
    }

    /// A query of one index partition (`key` = `value`), not yet sent.
    pub(crate) fn index_query(
        &self,
        table: &str,
        index: &str,
        key: &str,
        value: String,
    ) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":v", s(value))
    }

    /// Every item of one index partition, following pages.
    pub(crate) async fn query_index(
        &self,
        table: &str,
        index: &str,
        key: &str,
        value: String,
    ) -> Result<Vec<Item>> {
        self.pages(self.index_query(table, index, key, value), None)
            .await
    }

    /// Every item of these index partitions, one after the other, following pages.
    pub(crate) async fn query_index_partitions(
        &self,
        table: &str,
        index: &str,
        key: &str,
        partitions: impl IntoIterator<Item = String>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        for value in partitions {
            items.extend(self.query_index(table, index, key, value).await?);
        }
        Ok(items)
    }

    /// Sends one page of a query.
    pub(crate) async fn query_page(&self, query: QueryFluentBuilder) -> Result<QueryOutput> {
        self.send(query).await
    }

    /// Sends a query and follows its pages until the last or until `limit` items are in (then
    /// cut to `limit`).
    async fn pages(&self, query: QueryFluentBuilder, limit: Option<usize>) -> Result<Vec<Item>> {
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

    /// The items with these keys (100 a request, asking again for what DynamoDB left
    /// unprocessed); keys without an item are left out.
    pub(crate) async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(|e| Error::Internal(Box::new(e)))?,
            );
            while let Some(request) = pending.take() {
                let out = self
                    .send(self.client.batch_get_item().request_items(table, request))
                    .await?;
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

    /// Writes many items with BatchWriteItem (25 a request), resending what DynamoDB left
    /// unprocessed. For seeding and benchmarks, not for request paths.
    pub(crate) async fn batch_put(&self, table: &str, items: Vec<Item>) -> Result<()> {
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
                let out = self
                    .send(self.client.batch_write_item().request_items(table, pending))
                    .await?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}
