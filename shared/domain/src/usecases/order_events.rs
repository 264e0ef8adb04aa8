//! An event of the order system arrives (the `orders` function, fed by EventBridge): its fact is
//! merged into the order's facts in one conditional write. A shop the platform does not know is
//! refused before anything is written (`Error::NotFound`), and so is an order id stored under
//! another shop or buyer (`Error::Conflict`, decided by the store's write itself).

use crate::error::{Error, Result};
use crate::model::ids::ShopId;
use crate::model::order_facts::OrderEvent;
use crate::ports::{OrderEventOutcome, OrderStore, ShopStore};
use std::collections::HashSet;
use std::sync::Mutex;

/// Shops seen to exist, kept for the life of a function instance: shops are onboarded, never
/// deleted, so an event of a known shop costs no read of the Shops table. Only a positive answer
/// is kept, so a shop onboarded after its first refused event is found on the redelivery.
#[derive(Debug, Default)]
pub struct KnownShops {
    shops: Mutex<HashSet<ShopId>>,
}

impl KnownShops {
    fn contains(&self, shop: &ShopId) -> bool {
        self.shops
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(shop)
    }

    /// Takes a shop as known without reading it (a bench that measures the events' own cost).
    pub fn remember(&self, shop: &ShopId) {
        self.insert(shop);
    }

    fn insert(&self, shop: &ShopId) {
        self.shops
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(shop.clone());
    }
}

/// Applies one order event. `Ok(Unchanged)` for a redelivery or a fact older than the stored one.
pub async fn apply_order_event<S: OrderStore + ShopStore>(
    store: &S,
    known: &KnownShops,
    event: &OrderEvent,
) -> Result<OrderEventOutcome> {
    if !known.contains(&event.shop_id) {
        if store.shop(&event.shop_id).await?.is_none() {
            return Err(Error::NotFound("shop"));
        }
        known.insert(&event.shop_id);
    }
    store.apply_order_event(event).await
}
