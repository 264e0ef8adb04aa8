//! What each role receives (买家视角 / 客服视角), decided here and nowhere else: the handlers call
//! these functions and serialise what they return.
//!
//! A buyer receives their own messages, the prediction card, the robot's reply and what else
//! reaches them in the chat: never the intent engine's verdict (intent, confidence, evidence,
//! `confident`), the agent's panel, solution or action ids, internal notes, the card's ranking
//! reason, or a staff member's account: an agent shows as the shop's display name for that agent
//! ([`Shop::agent_name`]). Staff (agents, shop admins) see everything, as the use cases return it.

use crate::error::{Error, Result};
use crate::model::card::{CardAnswer, OrderSummary, PredictionCard};
use crate::model::conversation::{Message, MessageBody, Sender, Shop};
use crate::model::identity::Actor;
use crate::model::ids::{CardId, ConversationId, MessageId, OrderId, UserId};
use crate::model::ledger::IdempotencyKey;
use crate::model::time::Millis;
use crate::ports::Store;
use crate::usecases::intake::{
    open_conversation, open_conversation_once, post_buyer_message, visible_messages, IntakeOutcome,
    OpenConversation, Opening, PostMessage,
};
use crate::usecases::order_card::{select_order, SelectOrder, SelectionOutcome};
use crate::usecases::robot::{rate_robot, RateRobot, RatingOutcome};
use crate::usecases::staff_reply::{post_staff_message, StaffOutcome};
use crate::usecases::support::{visible_conversation, MESSAGE_PAGE};
use serde::Serialize;

/// An answer as its caller's role receives it: the buyer's shape or the staff's.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum View<B, S> {
    Buyer(B),
    Staff(S),
}

/// Who sent a message, as the buyer sees it: themselves, the shop's agent by display name, the
/// shop's robot, or the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum BuyerSender {
    Buyer,
    Agent { name: String },
    Robot,
    System,
}

/// The prediction card as the buyer sees it: who sent it (by display name), the guess and the
/// other orders; not why it was guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuyerCard {
    pub card_id: CardId,
    pub conversation_id: ConversationId,
    pub created_at: Millis,
    /// The display name of the agent the card was sent in the name of.
    pub sent_by: String,
    pub guess: OrderSummary,
    pub others: Vec<OrderSummary>,
    pub prompt: String,
    pub answer: Option<(CardAnswer, OrderId)>,
}

/// A message body as the buyer sees it: a card with the buyer's card in it, or any other body
/// that reaches the buyer, as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum BuyerBody {
    PredictionCard {
        #[serde(rename = "type")]
        kind: PredictionCardType,
        card: BuyerCard,
    },
    Delivered(MessageBody),
}

/// The `type` tag of a prediction card body, as `MessageBody` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionCardType {
    PredictionCard,
}

/// A message as the buyer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuyerMessage {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub sent_at: Millis,
    pub sender: BuyerSender,
    pub body: BuyerBody,
}

/// A buyer's `POST …/messages`: their message, the card sent to them, the robot's reply.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerIntake {
    pub message: BuyerMessage,
    pub card: Option<BuyerCard>,
    pub robot_reply: Option<BuyerMessage>,
}

/// A buyer's `POST /conversations`: the new conversation's id, then what `POST …/messages`
/// answers.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerOpened {
    pub conversation_id: ConversationId,
    #[serde(flatten)]
    pub intake: BuyerIntake,
}

/// A buyer's `POST /conversations` sent again with the same `Idempotency-Key` (its answer was
/// lost): the conversation that request opened, as the buyer sees it now. Nothing was written.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerReopened {
    pub conversation_id: ConversationId,
    pub messages: Vec<BuyerMessage>,
}

/// What a keyed `POST /conversations` answers: 201 with the opening, or 200 with the
/// conversation a previous try opened.
#[derive(Debug, Clone)]
pub enum OpenAnswer {
    Opened(Box<BuyerOpened>),
    AlreadyOpened(BuyerReopened),
}

/// A buyer's `POST …/order-selection`: their answer and the order it names.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerSelection {
    pub message: BuyerMessage,
    pub order: OrderSummary,
}

/// A buyer's `POST …/robot-rating`: whether they now wait for a person, and the notice.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerRating {
    pub handed_off: bool,
    pub message: Option<BuyerMessage>,
}

/// `GET …/messages` as the buyer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct BuyerMessages {
    pub messages: Vec<BuyerMessage>,
}

/// `GET …/messages` as staff see it: every message, internal notes and verdicts included.
#[derive(Debug, Clone, Serialize)]
pub struct StaffMessages {
    pub messages: Vec<Message>,
}

/// How the buyer sees the shop's people: by the shop's display names.
struct BuyerLens<'a> {
    shop: Option<&'a Shop>,
}

impl BuyerLens<'_> {
    fn agent_name(&self, agent: Option<&UserId>) -> String {
        match self.shop {
            Some(shop) => shop.agent_name(agent),
            // Should the shop's profile be gone, the buyer still sees no account.
            None => "客服".into(),
        }
    }

    fn card(&self, card: &PredictionCard) -> BuyerCard {
        BuyerCard {
            card_id: card.card_id.clone(),
            conversation_id: card.conversation_id.clone(),
            created_at: card.created_at,
            sent_by: self.agent_name(card.sent_as.as_ref()),
            guess: card.guess.clone(),
            others: card.others.clone(),
            prompt: card.prompt.clone(),
            answer: card.answer.clone(),
        }
    }

    /// The message as it reaches the buyer, or None when it does not (an internal note).
    fn message(&self, m: &Message) -> Option<BuyerMessage> {
        if !m.visible_to_buyer || internal(&m.body) {
            return None;
        }
        let sender = match &m.sender {
            Sender::Buyer(_) => BuyerSender::Buyer,
            Sender::Agent(agent) => BuyerSender::Agent {
                name: self.agent_name(Some(agent)),
            },
            Sender::Robot => BuyerSender::Robot,
            Sender::System => BuyerSender::System,
        };
        let body = match &m.body {
            MessageBody::PredictionCard { card } => BuyerBody::PredictionCard {
                kind: PredictionCardType::PredictionCard,
                card: self.card(card),
            },
            other => BuyerBody::Delivered(other.clone()),
        };
        Some(BuyerMessage {
            message_id: m.message_id.clone(),
            conversation_id: m.conversation_id.clone(),
            sent_at: m.sent_at,
            sender,
            body,
        })
    }

    /// A message the buyer sent or was sent in this very answer.
    fn delivered(&self, m: &Message) -> Result<BuyerMessage> {
        self.message(m).ok_or_else(|| {
            Error::Internal("a message meant for the buyer is an internal note".into())
        })
    }
}

/// Messages as a buyer receives them outside an HTTP answer (a push, a catch-up): those that
/// reach the buyer, in the buyer's view; agents named by `shop`'s display names.
pub(crate) fn buyer_view(shop: Option<&Shop>, messages: &[Message]) -> Vec<BuyerMessage> {
    let lens = BuyerLens { shop };
    messages.iter().filter_map(|m| lens.message(m)).collect()
}

/// Bodies that stay with the shop, the warehouse, the courier or the platform.
fn internal(body: &MessageBody) -> bool {
    matches!(
        body,
        MessageBody::WarehouseReminder { .. }
            | MessageBody::ShippingDelayReport { .. }
            | MessageBody::ShipmentHold { .. }
            | MessageBody::CourierIntercept { .. }
    )
}

/// The buyer's view of their `POST …/messages`. The shop is read only when a card went out and
/// the step had not read it.
async fn buyer_intake<S: Store>(store: &S, outcome: IntakeOutcome) -> Result<BuyerIntake> {
    let shop = match (&outcome.shop, &outcome.card) {
        (None, Some(_)) => store.shop(&outcome.shop_id).await?,
        _ => None,
    };
    let lens = BuyerLens {
        shop: outcome.shop.as_ref().or(shop.as_ref()),
    };
    Ok(BuyerIntake {
        message: lens.delivered(&outcome.message)?,
        card: outcome.card.as_ref().map(|c| lens.card(c)),
        robot_reply: outcome
            .robot_reply
            .as_ref()
            .map(|m| lens.delivered(m))
            .transpose()?,
    })
}

/// `POST /conversations/{id}/messages`: a buyer's question or a staff member's words.
pub async fn post_message<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<View<BuyerIntake, StaffOutcome>> {
    match actor {
        Actor::Buyer(_) => {
            let outcome = post_buyer_message(store, actor, id, input, now).await?;
            Ok(View::Buyer(buyer_intake(store, outcome).await?))
        }
        _ => Ok(View::Staff(
            post_staff_message(store, actor, id, input, now).await?,
        )),
    }
}

/// `POST /conversations` (buyers only): a conversation opened under `id` (minted by the handler)
/// with the buyer's first message.
pub async fn open<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: OpenConversation,
    now: Millis,
) -> Result<BuyerOpened> {
    let outcome = open_conversation(store, actor, id, input, now).await?;
    Ok(BuyerOpened {
        conversation_id: id.clone(),
        intake: buyer_intake(store, outcome).await?,
    })
}

/// `POST /conversations` with an `Idempotency-Key` (buyers only): opened once however often the
/// request is sent.
pub async fn open_once<S: Store>(
    store: &S,
    actor: &Actor,
    key: &IdempotencyKey,
    input: OpenConversation,
    now: Millis,
) -> Result<OpenAnswer> {
    match open_conversation_once(store, actor, key, input, now).await? {
        Opening::Opened(outcome) => Ok(OpenAnswer::Opened(Box::new(BuyerOpened {
            conversation_id: outcome.message.conversation_id.clone(),
            intake: buyer_intake(store, *outcome).await?,
        }))),
        Opening::AlreadyOpened(id) => match Box::pin(messages(store, actor, &id)).await? {
            View::Buyer(seen) => Ok(OpenAnswer::AlreadyOpened(BuyerReopened {
                conversation_id: id,
                messages: seen.messages,
            })),
            View::Staff(_) => Err(Error::Internal("a buyer read the staff's view".into())),
        },
    }
}

/// `GET /conversations/{id}/messages`: the buyer's side of the chat, or all of it for staff.
/// The buyer's shop is read beside the messages (agents are shown by its display names).
pub async fn messages<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<View<BuyerMessages, StaffMessages>> {
    let conv = visible_conversation(store, actor, id).await?;
    if !matches!(actor, Actor::Buyer(_)) {
        let messages = store.messages(&conv.conversation_id, MESSAGE_PAGE).await?;
        return Ok(View::Staff(StaffMessages {
            messages: visible_messages(actor, messages),
        }));
    }
    let (messages, shop) = Box::pin(futures_util::future::join(
        store.messages(&conv.conversation_id, MESSAGE_PAGE),
        store.shop(&conv.shop_id),
    ))
    .await;
    let (messages, shop) = (visible_messages(actor, messages?), shop?);
    let lens = BuyerLens {
        shop: shop.as_ref(),
    };
    Ok(View::Buyer(BuyerMessages {
        messages: messages.iter().filter_map(|m| lens.message(m)).collect(),
    }))
}

/// `GET /conversations/{id}/prediction-card`: the open card, as each side sees it.
pub async fn open_card<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<View<BuyerCard, PredictionCard>> {
    let conv = visible_conversation(store, actor, id).await?;
    let card = conv
        .open_card
        .ok_or(Error::NotFound("open prediction card"))?;
    if !matches!(actor, Actor::Buyer(_)) {
        return Ok(View::Staff(card));
    }
    let shop = store.shop(&conv.shop_id).await?;
    let lens = BuyerLens {
        shop: shop.as_ref(),
    };
    Ok(View::Buyer(lens.card(&card)))
}

/// `POST /conversations/{id}/order-selection` (buyers only): their answer and the order. The
/// agent's panel it rebuilt stays with the agents (`GET …/panel`).
pub async fn order_selection<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: SelectOrder,
    now: Millis,
) -> Result<BuyerSelection> {
    let SelectionOutcome { message, order, .. } =
        select_order(store, actor, id, input, now).await?;
    let lens = BuyerLens { shop: None };
    Ok(BuyerSelection {
        message: lens.delivered(&message)?,
        order,
    })
}

/// `POST /conversations/{id}/robot-rating` (buyers only).
pub async fn robot_rating<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: RateRobot,
    now: Millis,
) -> Result<BuyerRating> {
    let RatingOutcome {
        handed_off,
        message,
    } = rate_robot(store, actor, id, input, now).await?;
    let lens = BuyerLens { shop: None };
    Ok(BuyerRating {
        handed_off,
        message: message.as_ref().map(|m| lens.delivered(m)).transpose()?,
    })
}
