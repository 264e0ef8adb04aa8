//! Orders: one item per order in the buyer's partition of their shop.

use super::codec::{from_item, to_item, Item};
use super::keys::{order_pk, order_sk, ORDER_PREFIX};
use super::DynamoStore;
use assistant_domain::error::Result;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::order::Order;
use assistant_domain::ports::OrderStore;

/// An order as its item.
fn order_item(order: &Order) -> Result<Item> {
    to_item(
        order,
        order_pk(&order.shop_id, &order.buyer_id),
        order_sk(&order.order_id),
    )
}

impl OrderStore for DynamoStore {
    async fn buyer_orders(&self, shop: &ShopId, buyer: &UserId) -> Result<Vec<Order>> {
        self.query_prefix(
            &self.tables.orders,
            order_pk(shop, buyer),
            ORDER_PREFIX,
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
        self.put(&self.tables.orders, order_item(order)?).await
    }
}

impl DynamoStore {
    /// Many orders at once (see `batch_put`).
    pub async fn put_orders(&self, orders: &[Order]) -> Result<()> {
        let items = orders.iter().map(order_item).collect::<Result<Vec<_>>>()?;
        self.batch_put(&self.tables.orders, items).await
    }
}
