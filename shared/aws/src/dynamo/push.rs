//! Push (issue 17) in the Conversations table, every item under a `PUSH#` partition and removed
//! by the table's TTL (`expires_at`, epoch seconds) once it can no longer be used:
//!
//! | pk | sk | item |
//! | --- | --- | --- |
//! | `PUSH#TICKET#{ticket}` | `TICKET` | a ticket: its identity, `valid_until` (ms); taken by one conditional DeleteItem |
//! | `PUSH#CONN#{connection_id}` | `META` | a connection: identity, `connected_at`, `valid_until`, `subs` (how many topics) |
//! | `PUSH#CONN#{connection_id}` | `SUB#{topic}` | a topic it follows (`CONV#{id}` or `QUEUE#{shop}`) |
//! | `PUSH#TOPIC#{topic}` | `CONN#{connection_id}` | the same subscription with the connection's identity, where the fan-out reads a topic's connections |
//!
//! A connection and its topics are one Query (consistent); a subscribe is one transaction (the
//! `META` count conditioned on the one read, both subscription items); a disconnect one transaction
//! deleting the partition's items and their topic twins.

use super::codec::{from_item, key, n, s, to_item, Item};
use super::errors::Failure;
use super::keys::{
    connection_pk, subscriber_sk, subscription_sk, ticket_pk, topic_pk, CONNECTION_PARTITION_END,
    ITEM_EXISTS, META, PK_AND_SK_BETWEEN, PK_AND_SK_PREFIX, SK, SUBSCRIBER_PREFIX, SUBSCRIPTIONS,
    SUBSCRIPTION_PREFIX, TICKET,
};
use super::DynamoStore;
use assistant_domain::error::{Error, Result};
use assistant_domain::model::push::{
    Connection, ConnectionId, Identity, Subscriber, Ticket, Topic,
};
use assistant_domain::model::time::{Millis, MINUTE};
use assistant_domain::ports::PushStore;
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// How many times a disconnect reads again when a subscribe changed the connection meanwhile.
const DISCONNECT_ATTEMPTS: usize = 3;

/// DynamoDB's TTL attribute: epoch seconds, a minute after the item stops being usable.
fn ttl_seconds(valid_until: Millis) -> i64 {
    (valid_until + MINUTE) / 1000
}

#[derive(Serialize, Deserialize)]
struct TicketItem {
    ticket: String,
    identity: Identity,
    valid_until: Millis,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    connection_id: ConnectionId,
    identity: Identity,
    connected_at: Millis,
    valid_until: Millis,
    subs: u64,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct SubscriptionItem {
    topic: Topic,
    connection_id: ConnectionId,
    /// The connection's identity, so that the fan-out reads a topic's followers and their roles
    /// in one Query (absent from items written before the fan-out: those are skipped).
    #[serde(default)]
    identity: Option<Identity>,
    valid_until: Millis,
    expires_at: i64,
}

impl DynamoStore {
    /// Every item of a connection's partition (`META` and its `SUB#…`), read consistently: a
    /// subscribe right after `$connect` must find the connection.
    async fn connection_items(&self, id: &ConnectionId) -> Result<Vec<Item>> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.conversations)
            .consistent_read(true)
            .key_condition_expression(PK_AND_SK_BETWEEN)
            .expression_attribute_values(":pk", s(connection_pk(id)))
            .expression_attribute_values(":from", s(META))
            .expression_attribute_values(":to", s(CONNECTION_PARTITION_END));
        self.pages(query, None).await
    }

    fn push_put(&self, item: Item) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(item))
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn push_delete(&self, pk: String, sk: String) -> Result<Delete> {
        Delete::builder()
            .table_name(&self.tables.conversations)
            .set_key(Some(key(pk, sk)))
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))
    }
}

fn sort_key(item: &Item) -> &str {
    item.get(SK).and_then(|v| v.as_s().ok()).map_or("", |s| s)
}

impl PushStore for DynamoStore {
    async fn put_ticket(&self, ticket: &Ticket) -> Result<()> {
        let item = TicketItem {
            ticket: ticket.ticket.clone(),
            identity: ticket.identity.clone(),
            valid_until: ticket.expires_at,
            expires_at: ttl_seconds(ticket.expires_at),
        };
        let item = to_item(&item, ticket_pk(&ticket.ticket), TICKET.into())?;
        let request = self
            .client
            .put_item()
            .table_name(&self.tables.conversations)
            .set_item(Some(item))
            .condition_expression(super::keys::ITEM_IS_NEW);
        self.send(request).await?;
        Ok(())
    }

    async fn take_ticket(&self, ticket: &str) -> Result<Option<Ticket>> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.tables.conversations)
            .set_key(Some(key(ticket_pk(ticket), TICKET)))
            .condition_expression(ITEM_EXISTS)
            .return_values(ReturnValue::AllOld);
        match self.send_checked(request).await {
            Ok(out) => {
                let Some(old) = out.attributes else {
                    return Ok(None);
                };
                let item: TicketItem = from_item(old)?;
                Ok(Some(Ticket {
                    ticket: item.ticket,
                    identity: item.identity,
                    expires_at: item.valid_until,
                }))
            }
            // Unknown, or taken by someone else first.
            Err(Failure::Condition(_)) => Ok(None),
            Err(failure) => Err(failure.into()),
        }
    }

    async fn put_connection(&self, connection: &Connection) -> Result<()> {
        let item = ConnectionItem {
            connection_id: connection.connection_id.clone(),
            identity: connection.identity.clone(),
            connected_at: connection.connected_at,
            valid_until: connection.expires_at,
            subs: 0,
            expires_at: ttl_seconds(connection.expires_at),
        };
        let item = to_item(&item, connection_pk(&connection.connection_id), META.into())?;
        self.put(&self.tables.conversations, item).await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>> {
        let mut meta = None;
        let mut topics = Vec::new();
        for item in self.connection_items(id).await? {
            if sort_key(&item) == META {
                meta = Some(from_item::<ConnectionItem>(item)?);
            } else if sort_key(&item).starts_with(SUBSCRIPTION_PREFIX) {
                topics.push(from_item::<SubscriptionItem>(item)?.topic);
            }
        }
        Ok(meta.map(|m| Connection {
            connection_id: m.connection_id,
            identity: m.identity,
            connected_at: m.connected_at,
            expires_at: m.valid_until,
            topics,
        }))
    }

    async fn subscribe(&self, connection: &Connection, topic: &Topic) -> Result<()> {
        let id = &connection.connection_id;
        let had = connection.topics.len() as u64;
        let count = Update::builder()
            .table_name(&self.tables.conversations)
            .set_key(Some(key(connection_pk(id), META)))
            .update_expression("SET #subs = :now")
            .condition_expression("attribute_exists(pk) AND #subs = :had")
            .expression_attribute_names("#subs", SUBSCRIPTIONS)
            .expression_attribute_values(":had", n(had))
            .expression_attribute_values(":now", n(had + 1))
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let item = SubscriptionItem {
            topic: topic.clone(),
            connection_id: id.clone(),
            identity: Some(connection.identity.clone()),
            valid_until: connection.expires_at,
            expires_at: ttl_seconds(connection.expires_at),
        };
        let mine = to_item(&item, connection_pk(id), subscription_sk(topic))?;
        let theirs = to_item(&item, topic_pk(topic), subscriber_sk(id))?;
        self.transact(vec![
            TransactWriteItem::builder().update(count).build(),
            self.push_put(mine)?,
            self.push_put(theirs)?,
        ])
        .await
    }

    async fn subscribers(&self, topic: &Topic, now: Millis) -> Result<Vec<Subscriber>> {
        let query = self
            .client
            .query()
            .table_name(&self.tables.conversations)
            .key_condition_expression(PK_AND_SK_PREFIX)
            .expression_attribute_values(":pk", s(topic_pk(topic)))
            .expression_attribute_values(":prefix", s(SUBSCRIBER_PREFIX));
        let mut live = Vec::new();
        for item in self.pages(query, None).await? {
            let item: SubscriptionItem = from_item(item)?;
            if let (true, Some(identity)) = (now < item.valid_until, item.identity) {
                live.push(Subscriber {
                    connection_id: item.connection_id,
                    identity,
                });
            }
        }
        Ok(live)
    }

    async fn disconnect(&self, id: &ConnectionId) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let items = self.connection_items(id).await?;
            if items.is_empty() {
                return Ok(());
            }
            let mut writes = Vec::new();
            for item in &items {
                let sk = sort_key(item).to_string();
                if sk == META {
                    let subs = super::codec::number(item, SUBSCRIPTIONS);
                    // Only over the subscriptions read: one added meanwhile is read again.
                    let delete = Delete::builder()
                        .table_name(&self.tables.conversations)
                        .set_key(Some(key(connection_pk(id), META)))
                        .condition_expression("attribute_not_exists(pk) OR #subs = :had")
                        .expression_attribute_names("#subs", SUBSCRIPTIONS)
                        .expression_attribute_values(":had", n(subs))
                        .build()
                        .map_err(|e| Error::Internal(Box::new(e)))?;
                    writes.push(TransactWriteItem::builder().delete(delete).build());
                } else {
                    let sub: SubscriptionItem = from_item(item.clone())?;
                    let mine = self.push_delete(connection_pk(id), sk)?;
                    let theirs = self.push_delete(topic_pk(&sub.topic), subscriber_sk(id))?;
                    writes.push(TransactWriteItem::builder().delete(mine).build());
                    writes.push(TransactWriteItem::builder().delete(theirs).build());
                }
            }
            match self.transact(writes).await {
                Err(Error::Conflict(_)) if attempt < DISCONNECT_ATTEMPTS => continue,
                other => return other,
            }
        }
    }
}
