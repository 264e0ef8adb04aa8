//! DynamoDB behind the domain's store traits. Key design (README, "DynamoDB key design"):
//!
//! | table | pk | sk | item |
//! | --- | --- | --- | --- |
//! | Orders | `SHOP#{shop}#BUYER#{buyer}` | `ORDER#{order_id}` | an order |
//! | Conversations | `CONV#{id}` | `META` | the conversation (version, open card, confirmed order) |
//! | Conversations | `CONV#{id}` | `MSG#{sent_at:013}#{message_id}` | a message |
//! | Shops | `SHOP#{shop}` | `PROFILE` | the shop (agents, robot switch, deposit) |
//! | Shops | `SHOP#{shop}` | `STAT#{solution_id}` | usage counters of one solution |
//!
//! Every request path is a GetItem, a Query on one partition, or a TransactWriteItems: no Scan.

use assistant_domain::conversation::{Conversation, Message, Shop};
use assistant_domain::error::{Error, Result};
use assistant_domain::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::order::Order;
use assistant_domain::store::{
    ConversationChange, ConversationStore, OrderStore, ShopStore, SolutionEvent, SolutionStats,
    StatEvent, StatsStore,
};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::Tables;

pub type Item = HashMap<String, AttributeValue>;

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

fn s(v: impl Into<String>) -> AttributeValue {
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
fn sdk_error<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
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
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        DynamoStore {
            client,
            tables,
            requests: Arc::new(AtomicU64::new(0)),
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

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    async fn get<T: DeserializeOwned>(
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
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

    async fn put(&self, table: &str, item: Item) -> Result<()> {
        self.count();
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    /// All items of one partition whose sort key starts with `prefix`, following pages.
    async fn query_prefix(
        &self,
        table: &str,
        pk: String,
        prefix: &str,
        newest_first: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            self.count();
            let out = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .scan_index_forward(!newest_first)
                .set_limit(limit.map(|l| l.min(1000) as i32))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
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

    fn stat_update(&self, event: &StatEvent) -> Update {
        Update::builder()
            .table_name(&self.tables.shops)
            .key("pk", s(shop_pk(&event.shop)))
            .key("sk", s(stat_sk(&event.solution_id)))
            .update_expression("ADD #e :one")
            .expression_attribute_names("#e", event.event.as_str())
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
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

impl ShopStore for DynamoStore {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        self.get(&self.tables.shops, shop_pk(shop), PROFILE).await
    }

    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        let item = to_item(shop, shop_pk(&shop.shop_id), PROFILE.into())?;
        self.put(&self.tables.shops, item).await
    }
}

impl ConversationStore for DynamoStore {
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
        let mut meta = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(to_item(conv, pk.clone(), META.into())?));
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
        self.count();
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

impl StatsStore for DynamoStore {
    async fn record(&self, event: &StatEvent) -> Result<()> {
        let u = self.stat_update(event);
        self.count();
        self.client
            .update_item()
            .table_name(u.table_name())
            .set_key(Some(u.key().clone()))
            .update_expression(u.update_expression())
            .set_expression_attribute_names(u.expression_attribute_names().cloned())
            .set_expression_attribute_values(u.expression_attribute_values().cloned())
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn stats(&self, shop: &ShopId, solution_id: &str) -> Result<SolutionStats> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.shops)
            .key("pk", s(shop_pk(shop)))
            .key("sk", s(stat_sk(solution_id)))
            .send()
            .await
            .map_err(sdk_error)?;
        let item = out.item.unwrap_or_default();
        let n = |e: SolutionEvent| -> u64 {
            item.get(e.as_str())
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok(SolutionStats {
            shown: n(SolutionEvent::Shown),
            copied: n(SolutionEvent::Copied),
            sent: n(SolutionEvent::Sent),
            edited_sent: n(SolutionEvent::EditedSent),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assistant_domain::money::Fen;
    use assistant_domain::order::OrderItem;

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
    fn message_keys_sort_by_time() {
        use assistant_domain::conversation::{MessageBody, Sender};
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
