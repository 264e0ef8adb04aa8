//! Compensations: due in the order's partition (and in `DueIndex` by shard), paid in one
//! transaction with the buyer's coupon, the shop's deposit, the ledger entry and the notice.

use super::codec::{cursor_to_key, from_item, key, key_to_cursor, n, s, to_item, Item};
use super::errors::{DynamoFault, Failure};
use super::funds::move_deposit;
use super::keys::{
    compensation_sk, conversation_pk, coupon_pk, coupon_sk, due_shard_key, funds_pk, ledger_sk,
    message_sk, order_pk, paid_day_key, ASKED_AT, DUE_INDEX, DUE_SHARD, PAID_AT, PAID_DAY, PK,
    STATUS, STATUS_DUE, STATUS_PAID,
};
use super::{put_new, DynamoStore};
use assistant_domain::error::Result;
use assistant_domain::model::compensation::{DueCompensation, PayOutcome, DUE_SHARDS};
use assistant_domain::model::conversation::Message;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::time::{beijing_date, Millis};
use assistant_domain::ports::{CompensationStore, Page};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use crate::config::Tables;

/// A due compensation as its item: in the order's partition, and in `DueIndex` by its shard.
pub(crate) fn due_item(due: &DueCompensation) -> Result<Item> {
    let mut item = to_item(
        due,
        order_pk(&due.shop_id, &due.buyer_id),
        compensation_sk(&due.order_id),
    )?;
    item.insert(STATUS.into(), s(STATUS_DUE));
    item.insert(DUE_SHARD.into(), s(due_shard_key(due.shard())));
    Ok(item)
}

/// A `DueIndex` item back as the due compensation.
fn from_due_item(mut item: Item) -> Result<DueCompensation> {
    for k in [STATUS, DUE_SHARD] {
        item.remove(k);
    }
    from_item(item)
}

impl DynamoStore {
    /// Many due compensations at once (see `batch_put`).
    pub async fn put_due(&self, due: &[DueCompensation]) -> Result<()> {
        let items = due.iter().map(due_item).collect::<Result<Vec<_>>>()?;
        self.batch_put(&self.tables.orders, items).await
    }
}

impl CompensationStore for DynamoStore {
    async fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> Result<bool> {
        let request = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .set_key(Some(key(order_pk(shop, buyer), compensation_sk(order))))
            .projection_expression(PK);
        Ok(self.send(request).await?.item.is_some())
    }

    async fn due(
        &self,
        shard: u32,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<DueCompensation>> {
        let start = after
            .map(|cursor| cursor_to_key(&cursor, &[ASKED_AT]))
            .transpose()?;
        let query = self
            .index_query(
                &self.tables.orders,
                DUE_INDEX,
                DUE_SHARD,
                due_shard_key(shard % DUE_SHARDS),
            )
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start);
        let out = self.query_page(query).await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_due_item)
            .collect::<Result<Vec<DueCompensation>>>()?;
        let next = out.last_evaluated_key.map(key_to_cursor);
        Ok(Page { items, next })
    }

    async fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        notice: &Message,
        now: Millis,
    ) -> Result<PayOutcome> {
        let payout = Payout {
            tables: &self.tables,
            due,
            deposit_read,
            balance_after: Fen(deposit_read.0 - due.amount.0),
            now,
        };
        let writes = vec![
            payout.mark_paid(),
            payout.coupon(),
            payout.deduct(),
            payout.ledger(),
            payout.notice(notice)?,
        ];
        let request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes));
        match self.send_checked(request).await {
            Ok(_) => Ok(PayOutcome::Paid {
                balance_after: payout.balance_after,
            }),
            Err(failure) if failure.condition_failed_at(MARK_PAID) => Ok(PayOutcome::AlreadyPaid),
            Err(failure) if failure.condition_failed_at(DEDUCT) => Ok(PayOutcome::DepositMoved),
            Err(Failure::Condition(items)) if items.contains(&true) => Err(DynamoFault::internal(
                "Inconsistent",
                format!(
                    "coupon or ledger exists for a due compensation of order {}",
                    due.order_id
                ),
            )),
            Err(failure) => Err(failure.into()),
        }
    }
}

/// The place in the payout's transaction of the write whose failed condition means "already
/// paid", and of the one that means "the deposit moved since it was read".
const MARK_PAID: usize = 0;
const DEDUCT: usize = 2;

/// The writes of one payout, all in one transaction.
struct Payout<'a> {
    tables: &'a Tables,
    due: &'a DueCompensation,
    deposit_read: Fen,
    balance_after: Fen,
    now: Millis,
}

impl Payout<'_> {
    /// The order's compensation, only if still due; it leaves DueIndex and joins PaidIndex.
    fn mark_paid(&self) -> TransactWriteItem {
        let due = self.due;
        let day = paid_day_key(&beijing_date(self.now), due.shard());
        let update = Update::builder()
            .table_name(&self.tables.orders)
            .set_key(Some(key(
                order_pk(&due.shop_id, &due.buyer_id),
                compensation_sk(&due.order_id),
            )))
            .update_expression(format!(
                "SET #status = :paid, {PAID_AT} = :now, {PAID_DAY} = :day, balance_after = :bal REMOVE {DUE_SHARD}"
            ))
            .condition_expression("#status = :due")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":paid", s(STATUS_PAID))
            .expression_attribute_values(":due", s(STATUS_DUE))
            .expression_attribute_values(":now", n(self.now))
            .expression_attribute_values(":day", s(day))
            .expression_attribute_values(":bal", n(self.balance_after.0))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// The buyer's coupon, one per order.
    fn coupon(&self) -> TransactWriteItem {
        let due = self.due;
        let mut coupon = key(coupon_pk(&due.buyer_id), coupon_sk(&due.order_id));
        coupon.extend([
            ("order_id".to_string(), s(due.order_id.as_str())),
            ("shop_id".to_string(), s(due.shop_id.as_str())),
            ("amount".to_string(), n(due.amount.0)),
            ("issued_at".to_string(), n(self.now)),
            ("reason".to_string(), s("overdue_shipment")),
        ]);
        let put = put_new(&self.tables.orders, coupon);
        TransactWriteItem::builder().put(put).build()
    }

    /// The shop's deposit, only if it is still what was read; arrears flagged in the same write.
    fn deduct(&self) -> TransactWriteItem {
        let update = move_deposit(
            &self.tables.shops,
            &self.due.shop_id,
            self.deposit_read,
            self.balance_after,
        );
        TransactWriteItem::builder().update(update).build()
    }

    /// The ledger entry, with the balance after.
    fn ledger(&self) -> TransactWriteItem {
        let due = self.due;
        let mut ledger = key(funds_pk(&due.shop_id), ledger_sk(self.now, &due.order_id));
        ledger.extend([
            ("shop_id".to_string(), s(due.shop_id.as_str())),
            ("order_id".to_string(), s(due.order_id.as_str())),
            ("delta".to_string(), n(-due.amount.0)),
            ("balance_after".to_string(), n(self.balance_after.0)),
            ("reason".to_string(), s("overdue_coupon")),
            ("message_id".to_string(), s(due.message_id.as_str())),
            ("at".to_string(), n(self.now)),
        ]);
        let put = put_new(&self.tables.shops, ledger);
        TransactWriteItem::builder().put(put).build()
    }

    /// The buyer is told in the conversation, in the words the domain chose.
    fn notice(&self, notice: &Message) -> Result<TransactWriteItem> {
        let item = to_item(
            notice,
            conversation_pk(&notice.conversation_id),
            message_sk(notice),
        )?;
        let put = Put::builder()
            .table_name(&self.tables.conversations)
            .set_item(Some(item))
            .build()
            .expect("table and item are set");
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::codec::tests::order;
    use assistant_domain::model::ids::{ConversationId, MessageId};

    #[test]
    fn a_due_item_sits_in_its_shard() {
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
        assert_eq!(from_due_item(item).unwrap(), due);
    }
}
