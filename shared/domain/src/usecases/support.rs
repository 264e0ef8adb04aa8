//! What several use cases share: reading the shop's setup once per step, the conversation an
//! actor may see, and the compensation a question earns. (A conversation changes through a
//! [`crate::usecases::step::Step`].)

use crate::access;
use crate::error::{Error, Result};
use crate::model::compensation::{owed_for, DueCompensation};
use crate::model::conversation::Conversation;
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, MessageId};
use crate::model::order::Order;
use crate::model::replies::ShopSetup;
use crate::model::time::Millis;
use crate::ports::Store;

/// How many messages a conversation read returns at most.
pub const MESSAGE_PAGE: usize = 100;

/// The shop's setup, read once per step and only when a step needs it.
pub(crate) async fn setup_for<'a, S: Store>(
    store: &S,
    conv: &Conversation,
    cached: &'a mut Option<ShopSetup>,
) -> Result<&'a ShopSetup> {
    if cached.is_none() {
        *cached = Some(
            store
                .shop_setup(&conv.shop_id)
                .await?
                .ok_or(Error::NotFound("shop"))?,
        );
    }
    Ok(cached.as_ref().expect("just filled"))
}

/// The shop's setup, read beside another read when the step will need it and has not read it
/// yet. None when not wanted (or no such shop: `setup_for` then says so).
pub(crate) async fn prefetch_setup<S: Store>(
    store: &S,
    conv: &Conversation,
    cached: &Option<ShopSetup>,
    wanted: bool,
) -> Result<Option<ShopSetup>> {
    if wanted && cached.is_none() {
        store.shop_setup(&conv.shop_id).await
    } else {
        Ok(None)
    }
}

/// A conversation the actor may see, or 404 (never revealing that another's exists).
pub(crate) async fn visible_conversation<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<Conversation> {
    access::conversation(actor, store.conversation(id).await?)
}

/// A due compensation if the rule says this question earned one and the order has none yet.
pub(crate) async fn earned<S: Store>(
    store: &S,
    order: &Order,
    payout_trigger: bool,
    conversation: &ConversationId,
    message: &MessageId,
    asked_at: Millis,
) -> Result<Option<DueCompensation>> {
    if !owed_for(order, payout_trigger, asked_at) {
        return Ok(None);
    }
    if store
        .compensation_exists(&order.shop_id, &order.buyer_id, &order.order_id)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(DueCompensation::new(
        order,
        conversation,
        message,
        asked_at,
    )))
}
