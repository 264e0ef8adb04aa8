//! The order prediction card (订单预测卡片): the buyer confirms its guess, picks another order on
//! it, or sends an order card; the conversation's question is then linked to that order.

use crate::access;
use crate::error::{Error, Result};
use crate::model::card::{CardAnswer, OrderSummary, PredictionCard};
use crate::model::conversation::{Conversation, Message, MessageBody, Sender};
use crate::model::identity::Actor;
use crate::model::ids::{CardId, ConversationId, OrderId};
use crate::model::panel::Panel;
use crate::model::solution::covers;
use crate::model::time::Millis;
use crate::ports::Store;
use crate::usecases::panel::build_panel;
use crate::usecases::step::{retry_on_conflict, Step};
use crate::usecases::support::{earned, prefetch_setup, visible_conversation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionVia {
    /// 确认: the card's guess is right.
    Confirm,
    /// 选择其他订单: another order listed on the card.
    Pick,
    /// 主动发送订单卡片: any of the buyer's orders in this shop.
    OrderCard,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOrder {
    pub via: SelectionVia,
    pub card_id: Option<CardId>,
    pub order_id: Option<OrderId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SelectionOutcome {
    pub message: Message,
    pub order: OrderSummary,
    pub panel: Panel,
}

/// The open card a confirm/pick answers, checked against the id the buyer sent.
fn answered_card<'a>(
    conv: &'a Conversation,
    card_id: Option<&CardId>,
) -> Result<&'a PredictionCard> {
    let card_id =
        card_id.ok_or_else(|| Error::invalid("card_id", "is required to answer a card"))?;
    match &conv.open_card {
        Some(card) if card.card_id == *card_id => Ok(card),
        Some(_) | None => Err(Error::Conflict(
            "this card is no longer open; answer the latest card or send an order card".into(),
        )),
    }
}

pub async fn select_order<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: SelectOrder,
    now: Millis,
) -> Result<SelectionOutcome> {
    access::buyer(actor)?;
    retry_on_conflict(|| try_select(store, actor, id, &input, now)).await
}

/// The order the buyer named, and the card answer it was, if it answered a card.
fn chosen(
    conv: &Conversation,
    input: &SelectOrder,
) -> Result<(OrderId, Option<(CardId, CardAnswer)>)> {
    Ok(match input.via {
        SelectionVia::Confirm => {
            let card = answered_card(conv, input.card_id.as_ref())?;
            if input
                .order_id
                .as_ref()
                .is_some_and(|o| *o != card.guess.order_id)
            {
                return Err(Error::invalid(
                    "order_id",
                    "confirm answers the card's guessed order; use via=pick for another",
                ));
            }
            (
                card.guess.order_id.clone(),
                Some((card.card_id.clone(), CardAnswer::Confirmed)),
            )
        }
        SelectionVia::Pick => {
            let card = answered_card(conv, input.card_id.as_ref())?;
            let order_id = input
                .order_id
                .clone()
                .ok_or_else(|| Error::invalid("order_id", "is required to pick an order"))?;
            if !card.lists(&order_id) {
                return Err(Error::invalid(
                    "order_id",
                    "is not on this card; send it as an order card instead",
                ));
            }
            (order_id, Some((card.card_id.clone(), CardAnswer::Picked)))
        }
        SelectionVia::OrderCard => {
            let order_id = input
                .order_id
                .clone()
                .ok_or_else(|| Error::invalid("order_id", "is required for an order card"))?;
            (order_id, None)
        }
    })
}

/// Reads the order (beside the shop's setup), links the question to it, builds the panel, and
/// commits one step.
async fn try_select<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: &SelectOrder,
    now: Millis,
) -> Result<SelectionOutcome> {
    let conv = visible_conversation(store, actor, id).await?;
    let (order_id, answer) = chosen(&conv, input)?;
    // The panel built below needs the shop's setup when the question is a covered intent: read
    // it beside the order (boxed, as in `current_solution`).
    let mut setup = None;
    let wants_setup = conv.last_intent.as_ref().is_some_and(|q| covers(q.intent));
    let (order, prefetched) = Box::pin(futures_util::future::join(
        store.order(&conv.shop_id, &conv.buyer_id, &order_id),
        prefetch_setup(store, &conv, &setup, wants_setup),
    ))
    .await;
    let order = order?.ok_or(Error::NotFound("order"))?;
    setup = prefetched?;
    let summary = OrderSummary::of(&order, now);
    // Naming the order settles the conversation's question, if nothing did yet: judge it for
    // this order at the question's time. A settled question earns nothing for another order.
    let due = match &conv.last_intent {
        Some(q) if q.settled.is_none() => {
            earned(store, &order, q.payout_trigger, id, &q.message_id, q.at).await?
        }
        Some(_) | None => None,
    };
    let body = answer_body(answer, summary.clone());
    let message = Message::new(id, Sender::Buyer(conv.buyer_id.clone()), body, now);
    let preview = conv.preview.clone();
    let mut step = Step::new(conv, now);
    step.says(message.clone());
    step.owes(due);
    step.settles(&order_id);
    step.order_named(order_id);
    step.buyer_waits(preview);
    let panel = build_panel(store, step.conversation(), now, Some(&order), &mut setup).await?;
    step.shows(&panel);
    step.commit(store).await?;
    Ok(SelectionOutcome {
        message,
        order: summary,
        panel,
    })
}

/// What the buyer's choice shows in the conversation: the answer to the card, or the order card
/// the buyer sent.
fn answer_body(answer: Option<(CardId, CardAnswer)>, order: OrderSummary) -> MessageBody {
    match answer {
        Some((card_id, answer)) => MessageBody::CardAnswer {
            card_id,
            answer,
            order,
        },
        None => MessageBody::OrderCard { order },
    }
}

/// The card waiting for the buyer's answer.
pub async fn open_card<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<PredictionCard> {
    let conv = visible_conversation(store, actor, id).await?;
    conv.open_card
        .ok_or(Error::NotFound("open prediction card"))
}
