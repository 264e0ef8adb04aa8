//! Orders: one item of facts per order id (`ORDER#{order_id}` / `FACTS`), merged from the order
//! system's events with one conditional UpdateItem each; a buyer's orders in a shop are the
//! sparse `BuyerOrdersIndex` partition `SHOP#{shop}#BUYER#{buyer}`.
//!
//! An event sets its fact's map attribute (`paid`, `shipped`, …: `stamp`, `at`, `data`) only if
//! the slot is empty or holds an older stamp, and only if the item's `shop_id` and `buyer_id` are
//! absent or the event's. A failed condition is either a redelivery / late fact (nothing to do) or
//! another shop's or buyer's order id; one consistent read tells which (the owner never changes
//! once written).

use super::codec::{from_item, key, n, s, to_item, Item};
use super::errors::Failure;
use super::keys::{
    order_facts_pk, order_pk, BUYER_ID, BUYER_ORDERS, BUYER_ORDERS_INDEX, ORDER_FACTS, ORDER_ID,
    PLACED_AT, SHOP_ID, STAMP,
};
use super::DynamoStore;
use assistant_domain::error::{Error, Result};
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::order::Order;
use assistant_domain::model::order_facts::{facts_of, OrderEvent, OrderFacts, OrderStep};
use assistant_domain::ports::{OrderEventOutcome, OrderStore};

/// An order's facts as their item: the keys, and the buyer's index keys once it is created.
fn facts_item(facts: &OrderFacts) -> Result<Item> {
    let mut item = to_item(facts, order_facts_pk(&facts.order_id), ORDER_FACTS.into())?;
    if let Some(created) = &facts.created {
        item.insert(
            BUYER_ORDERS.into(),
            s(order_pk(&facts.shop_id, &facts.buyer_id)),
        );
        item.insert(PLACED_AT.into(), n(created.at));
    }
    Ok(item)
}

/// The order an item's facts make, if it is this shop's and buyer's and created.
fn order_of(item: Item, shop: &ShopId, buyer: &UserId) -> Result<Option<Order>> {
    let facts: OrderFacts = from_item(item)?;
    Ok(Some(facts)
        .filter(|f| &f.shop_id == shop && &f.buyer_id == buyer)
        .and_then(|f| f.order()))
}

/// The map attribute an event's fact is stored as.
fn fact_value(event: &OrderEvent) -> Result<aws_sdk_dynamodb::types::AttributeValue> {
    let facts = OrderFacts::of_event(event);
    let slot = event.kind().slot();
    let mut item: Item = serde_dynamo::to_item(&facts).map_err(|e| Error::Internal(Box::new(e)))?;
    item.remove(slot)
        .ok_or_else(|| Error::Internal(format!("no {slot} fact in its own event").into()))
}

impl OrderStore for DynamoStore {
    async fn recent_orders(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        limit: usize,
    ) -> Result<Vec<Order>> {
        let page = i32::try_from(limit).unwrap_or(i32::MAX);
        let query = self
            .index_query(
                &self.tables.orders,
                BUYER_ORDERS_INDEX,
                BUYER_ORDERS,
                order_pk(shop, buyer),
            )
            .scan_index_forward(false)
            .limit(page);
        let items = self.pages(query, Some(limit)).await?;
        let mut orders = Vec::with_capacity(items.len());
        for item in items {
            orders.extend(order_of(item, shop, buyer)?);
        }
        Ok(orders)
    }

    async fn order(&self, shop: &ShopId, buyer: &UserId, order: &OrderId) -> Result<Option<Order>> {
        let request = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .set_key(Some(key(order_facts_pk(order), ORDER_FACTS)));
        match self.send(request).await?.item {
            Some(item) => order_of(item, shop, buyer),
            None => Ok(None),
        }
    }

    async fn put_order(&self, order: &Order) -> Result<()> {
        self.put(&self.tables.orders, facts_item(&facts_of(order))?)
            .await
    }

    async fn apply_order_event(&self, event: &OrderEvent) -> Result<OrderEventOutcome> {
        let mut update = format!(
            "SET #fact = :fact, {SHOP_ID} = :shop, {BUYER_ID} = :buyer, {ORDER_ID} = :order"
        );
        let mut request = self
            .client
            .update_item()
            .table_name(&self.tables.orders)
            .set_key(Some(key(order_facts_pk(&event.order_id), ORDER_FACTS)))
            .condition_expression(format!(
                "(attribute_not_exists({SHOP_ID}) OR ({SHOP_ID} = :shop AND {BUYER_ID} = :buyer)) \
                 AND (attribute_not_exists(#fact) OR #fact.{STAMP} < :stamp)"
            ))
            .expression_attribute_names("#fact", event.kind().slot())
            .expression_attribute_values(":fact", fact_value(event)?)
            .expression_attribute_values(":shop", s(event.shop_id.as_str()))
            .expression_attribute_values(":buyer", s(event.buyer_id.as_str()))
            .expression_attribute_values(":order", s(event.order_id.as_str()))
            .expression_attribute_values(":stamp", s(event.stamp().as_str()));
        if matches!(event.step, OrderStep::Created(_)) {
            update.push_str(&format!(
                ", {BUYER_ORDERS} = :buyer_orders, {PLACED_AT} = :placed_at"
            ));
            request = request
                .expression_attribute_values(
                    ":buyer_orders",
                    s(order_pk(&event.shop_id, &event.buyer_id)),
                )
                .expression_attribute_values(":placed_at", n(event.occurred_at));
        }
        match self.send_checked(request.update_expression(update)).await {
            Ok(_) => Ok(OrderEventOutcome::Changed),
            Err(Failure::Condition(_)) => {
                // A redelivery, a fact older than the stored one, or another shop's order id.
                if let Some(stored) = self.stored_facts(&event.order_id).await? {
                    stored.check_same_order(&OrderFacts::of_event(event))?;
                }
                Ok(OrderEventOutcome::Unchanged)
            }
            Err(Failure::Other(err)) => Err(err),
        }
    }

    async fn order_facts(&self, order: &OrderId) -> Result<Option<OrderFacts>> {
        self.stored_facts(order).await
    }
}

impl DynamoStore {
    /// An order's facts, read consistently.
    async fn stored_facts(&self, order: &OrderId) -> Result<Option<OrderFacts>> {
        let request = self
            .client
            .get_item()
            .table_name(&self.tables.orders)
            .consistent_read(true)
            .set_key(Some(key(order_facts_pk(order), ORDER_FACTS)));
        self.send(request).await?.item.map(from_item).transpose()
    }

    /// Many orders at once (see `batch_put`).
    pub async fn put_orders(&self, orders: &[Order]) -> Result<()> {
        let items = orders
            .iter()
            .map(|o| facts_item(&facts_of(o)))
            .collect::<Result<Vec<_>>>()?;
        self.batch_put(&self.tables.orders, items).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::codec::tests::order;

    #[test]
    fn an_order_is_its_facts_under_its_id_and_in_its_buyers_index_once_created() {
        let o = order();
        let item = facts_item(&facts_of(&o)).unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "ORDER#6912345678901234567");
        assert_eq!(item["sk"].as_s().unwrap(), ORDER_FACTS);
        assert_eq!(
            item[BUYER_ORDERS].as_s().unwrap(),
            "SHOP#shop1#BUYER#buyer1"
        );
        assert_eq!(item[ORDER_ID].as_s().unwrap(), "6912345678901234567");
        assert_eq!(item[PLACED_AT].as_n().unwrap(), &o.created_at.to_string());
        assert!(item["paid"].as_m().unwrap().contains_key(STAMP));
        assert!(!item.contains_key("shipped"), "no fact, no attribute");
        assert_eq!(
            order_of(item.clone(), &o.shop_id, &o.buyer_id).unwrap(),
            Some(o.clone())
        );
        let other = ShopId::parse("shop2").unwrap();
        assert_eq!(order_of(item, &other, &o.buyer_id).unwrap(), None);

        let mut not_created = facts_of(&o);
        not_created.created = None;
        let item = facts_item(&not_created).unwrap();
        assert!(!item.contains_key(BUYER_ORDERS));
        assert!(!item.contains_key(PLACED_AT));
        assert_eq!(order_of(item, &o.shop_id, &o.buyer_id).unwrap(), None);
    }
}
