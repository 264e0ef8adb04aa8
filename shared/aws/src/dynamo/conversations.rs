//! Conversations: the `META` item (versioned) and the messages, in one partition; the commit of a
//! change is one transaction with its messages, usage counters and due compensations.

use super::codec::{from_item, n, s, string, to_item};
use super::compensations::due_item;
use super::keys::{
    conversation_of_pk, conversation_pk, message_sk, order_ref, waiting_key, waiting_partition,
    ITEM_IS_NEW, MESSAGE_PREFIX, META, ORDER_INDEX, ORDER_REF, PK, WAITING_INDEX, WAITING_SHARDS,
    WAITING_SHOP,
};
use super::{put_new, DynamoStore};
use assistant_domain::error::{Error, Result};
use assistant_domain::model::conversation::{Conversation, Message};
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId};
use assistant_domain::ports::{ConversationChange, ConversationStore, WaitingConversation};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

impl ConversationStore for DynamoStore {
    async fn append(&self, message: &Message) -> Result<()> {
        let pk = conversation_pk(&message.conversation_id);
        let item = to_item(message, pk, message_sk(message))?;
        let request = self
            .client
            .put_item()
            .table_name(&self.tables.conversations)
            .set_item(Some(item))
            .condition_expression(ITEM_IS_NEW);
        self.send(request).await?;
        Ok(())
    }

    async fn waiting(&self, shop: &ShopId, limit: usize) -> Result<Vec<WaitingConversation>> {
        // Each shard holds its oldest waits first; the longest waits overall are among the first
        // `limit` of every shard, read together. The index projects only what the queue shows.
        let shards = (0..WAITING_SHARDS).map(|shard| async move {
            let query = self
                .index_query(
                    &self.tables.conversations,
                    WAITING_INDEX,
                    WAITING_SHOP,
                    waiting_partition(shop, shard),
                )
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

    async fn conversations_about(
        &self,
        shop: &ShopId,
        order: &OrderId,
        limit: usize,
    ) -> Result<Vec<ConversationId>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Keys only: the conversation's id is its partition key.
        let query = self
            .index_query(
                &self.tables.conversations,
                ORDER_INDEX,
                ORDER_REF,
                order_ref(shop, order),
            )
            .limit(limit.min(1000) as i32);
        let mut ids = Vec::new();
        for item in self.query_page(query).await?.items.unwrap_or_default() {
            let id = string(&item, PK)
                .and_then(conversation_of_pk)
                .and_then(|id| ConversationId::parse(id).ok())
                .ok_or_else(|| Error::Internal("an OrderIndex item of no conversation".into()))?;
            ids.push(id);
        }
        Ok(ids)
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
                MESSAGE_PREFIX,
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
        if let Some(order) = &conv.confirmed_order {
            // In OrderIndex once the buyer named the order: an order event finds it there.
            item.insert(ORDER_REF.into(), s(order_ref(&conv.shop_id, order)));
        }
        let mut meta = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(item));
        meta = match change.expected_version {
            None => meta.condition_expression(ITEM_IS_NEW),
            Some(v) => meta
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(v)),
        };
        let mut writes = vec![TransactWriteItem::builder()
            .put(meta.build().expect("table and item are set"))
            .build()];
        for m in &change.messages {
            let item = to_item(m, pk.clone(), message_sk(m))?;
            let put = put_new(&self.tables.conversations, item);
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
            let put = put_new(&self.tables.orders, due_item(due)?);
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        self.transact(writes).await
    }
}
