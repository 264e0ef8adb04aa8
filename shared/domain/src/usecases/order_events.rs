//! An event of the order system arrives (the `orders` function, fed by EventBridge): its fact is
//! merged into the order's facts in one conditional write. A shop the platform does not know is
//! refused before anything is written (`Error::NotFound`), and so is an order id stored under
//! another shop or buyer (`Error::Conflict`, decided by the store's write itself).
//!
//! An event that changed the order may move it to another node, and so change the agent's panel
//! of every conversation about it: [`show_moved_panels`] tells the staff following those
//! conversations, as an agent's `GET …/panel` would have.

use crate::error::{Error, Result};
use crate::model::ids::{ConversationId, ShopId};
use crate::model::order_facts::{OrderEvent, OrderEventKind};
use crate::model::push::Topic;
use crate::model::replies::ShopSetup;
use crate::model::time::Millis;
use crate::ports::{OrderEventOutcome, OrderStore, PushStore, ShopStore, Store};
use crate::usecases::fanout::{side, Side};
use crate::usecases::panel::show_panel;
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

/// How many conversations about one order an event tells at most (an order is asked about in
/// one conversation, seldom a few).
pub const ORDER_CONVERSATIONS: usize = 20;

/// What [`show_moved_panels`] came to.
#[derive(Debug, Default)]
pub struct MovedPanels {
    /// The conversations whose new solution was counted shown and pushed to their staff.
    pub shown: Vec<ConversationId>,
    /// What failed, with the conversation when there was one (the caller logs it).
    pub failed: Vec<(Option<ConversationId>, Error)>,
}

/// After an event changed its order: each conversation of the event's shop whose confirmed order
/// it is, and that some of the shop's staff follow, has its panel built again; when the panel's
/// solution is new to the conversation (the order moved to another node), it is counted shown and
/// committed, and that commit's news carries the panel to the staff following it (as
/// `GET …/panel` does). A conversation no agent follows is left to the next agent who opens its
/// panel, so "shown" counts only panels put in front of agents. A conversation changed
/// meanwhile is left as it is (its writer or the next read shows the panel). Never fails: the
/// event stays applied whatever this could not do, and [`MovedPanels`] says what that was.
pub async fn show_moved_panels<S: Store + PushStore>(
    store: &S,
    event: &OrderEvent,
    now: Millis,
) -> MovedPanels {
    let mut moved = MovedPanels::default();
    // A conversation names only an order it could read, one already created; another "created"
    // fact moves it to no other node. So the sale's flood of new orders costs no index read.
    if event.kind() == OrderEventKind::Created {
        return moved;
    }
    let about = match store
        .conversations_about(&event.shop_id, &event.order_id, ORDER_CONVERSATIONS)
        .await
    {
        Ok(ids) => ids,
        Err(e) => {
            moved.failed.push((None, e));
            return moved;
        }
    };
    // One shop: its setup is read once, by the first panel that needs it.
    let mut setup = None;
    for id in about {
        match show_moved_panel(store, event, &id, now, &mut setup).await {
            Ok(true) => moved.shown.push(id),
            Ok(false) => {}
            Err(e) => moved.failed.push((Some(id), e)),
        }
    }
    moved
}

/// One conversation of [`show_moved_panels`]: true when its new panel was committed.
async fn show_moved_panel<S: Store + PushStore>(
    store: &S,
    event: &OrderEvent,
    id: &ConversationId,
    now: Millis,
    setup: &mut Option<ShopSetup>,
) -> Result<bool> {
    let Some(conv) = store.conversation(id).await? else {
        return Ok(false);
    };
    if conv.shop_id != event.shop_id || conv.confirmed_order.as_ref() != Some(&event.order_id) {
        return Ok(false);
    }
    let followers = store
        .subscribers(&Topic::Conversation(id.clone()), now)
        .await?;
    let staff_follow = followers
        .iter()
        .any(|s| side(&s.identity, &conv.shop_id, &conv.buyer_id) == Some(Side::Staff));
    if !staff_follow {
        return Ok(false);
    }
    Ok(show_panel(store, &conv, now, setup).await?.1)
}
