//! Intake: a buyer's message. Stored with the intent engine's verdict; a question may bring the
//! prediction card, a compensation, the robot's answer and the agent's panel. Also the
//! conversation as each side may read it.

use crate::access;
use crate::error::{Error, Result};
use crate::intent::{classify_with_context, Classification, IntentId};
use crate::model::card::{order_numbers_in, prediction_card, PredictionCard};
use crate::model::conversation::{
    message_text, preview, Conversation, LastIntent, Message, MessageBody, Sender,
};
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, OrderId, ShopId, UserId};
use crate::model::order::Order;
use crate::model::replies::{Offer, ShopSetup};
use crate::model::solution::covers;
use crate::model::time::Millis;
use crate::model::usage::StatEvent;
use crate::ports::{ConversationChange, Store};
use crate::usecases::panel::{build_panel, shown, Panel};
use crate::usecases::support::{
    earned, next_version, prefetch_setup, setup_for, visible_conversation, COMMIT_ATTEMPTS,
    MESSAGE_PAGE,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// Required from a buyer (a new conversation opens in this shop); staff may leave it out.
    pub shop_id: Option<ShopId>,
    pub text: String,
}

/// What intake returns: the stored message, the intent, the card the chat platform must deliver to
/// the buyer (if one was sent), and the agent's panel.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeOutcome {
    pub message: Message,
    pub classification: Classification,
    pub card: Option<PredictionCard>,
    /// The robot's answer, for an intent the assistant does not cover (robot on, not handed off).
    pub robot_reply: Option<Message>,
    /// The agent's panel when this message changed it (a question, a new conversation); null when
    /// it is unchanged (`GET …/panel` has it).
    pub panel: Option<Panel>,
}

/// How long a buyer's intent stays the context for a short follow-up ("还没好吗").
pub const FOLLOW_UP_WINDOW: Millis = 30 * crate::model::time::MINUTE;

pub async fn post_buyer_message<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<IntakeOutcome> {
    let buyer = access::buyer(actor)?;
    let shop_id = input
        .shop_id
        .as_ref()
        .ok_or_else(|| Error::invalid("shop_id", "is required"))?;
    let text = message_text("text", &input.text)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_post(store, buyer, id, shop_id, &text, now).await {
            Err(Error::Conflict(_)) if attempt < COMMIT_ATTEMPTS => continue,
            other => return other,
        }
    }
}

/// The order a question is about, when it is already known: an order number of the buyer's in the
/// text wins, then the conversation's confirmed order.
fn linked_order<'a>(
    text: &str,
    orders: &'a [Order],
    confirmed: Option<&OrderId>,
) -> Option<&'a Order> {
    let numbers = order_numbers_in(text);
    orders
        .iter()
        .find(|o| numbers.iter().any(|n| n == o.order_id.as_str()))
        .or_else(|| confirmed.and_then(|c| orders.iter().find(|o| o.order_id == *c)))
}

async fn try_post<S: Store>(
    store: &S,
    buyer: &UserId,
    id: &ConversationId,
    shop_id: &ShopId,
    text: &str,
    now: Millis,
) -> Result<IntakeOutcome> {
    // The shop's setup is read only when this step needs it (a new conversation, the robot, or
    // a panel with a solution), and then once.
    let mut setup: Option<ShopSetup> = None;
    let mut is_new = false;
    let mut conv = match access::buyers_conversation(buyer, shop_id, store.conversation(id).await?)?
    {
        Some(c) => c,
        None => {
            let s = store
                .shop_setup(shop_id)
                .await?
                .ok_or(Error::NotFound("shop"))?;
            let conv = Conversation::open(id, &s.shop, buyer, now);
            setup = Some(s);
            is_new = true;
            conv
        }
    };

    // A short follow-up may take the previous question's intent, if that was recent.
    let previous = conv
        .last_intent
        .as_ref()
        .filter(|l| now - l.at <= FOLLOW_UP_WINDOW)
        .map(|l| l.intent);
    let classification = classify_with_context(text, previous);
    let mut message = Message::new(
        id,
        Sender::Buyer(buyer.clone()),
        MessageBody::Text {
            text: text.to_string(),
        },
        now,
    );
    message.classification = Some(classification.clone());

    // An ordinary message (no new question) in a conversation whose buyer already waits changes
    // nothing but the message list: one conditional put, no panel to rebuild. The agent's panel
    // (GET …/panel) is unchanged, so the answer carries none.
    let asks = classification.confident && classification.intent != IntentId::Other;
    if !is_new && !asks && conv.waiting_since.is_some() {
        store.append(&message).await?;
        return Ok(IntakeOutcome {
            message,
            classification,
            card: None,
            robot_reply: None,
            panel: None,
        });
    }
    let mut messages = vec![message.clone()];
    let mut card = None;
    let mut compensations = Vec::new();
    // The order this message is about, when known (read once, used for the panel too).
    let mut linked: Option<Order> = None;

    // "other" is no intent: it neither pops up nor replaces the question the buyer asked before.
    if classification.confident && classification.intent != IntentId::Other {
        conv.last_intent = Some(LastIntent {
            intent: classification.intent,
            confidence: classification.confidence,
            evidence: classification.evidence.clone(),
            message_id: message.message_id.clone(),
            at: now,
        });
        let covered = covers(classification.intent);
        let needs_card = covered && conv.confirmed_order.is_none() && conv.open_card.is_none();
        let names_order = !order_numbers_in(text).is_empty();
        // The buyer's orders are read only when a card is due or the text names an order.
        let orders = if needs_card || (covered && names_order) {
            store.buyer_orders(&conv.shop_id, buyer).await?
        } else {
            Vec::new()
        };
        linked = match linked_order(text, &orders, None) {
            Some(o) => Some(o.clone()),
            None => match (&conv.confirmed_order, covered) {
                (Some(order_id), true) => {
                    // The panel will show this order's solution: read the shop's setup beside it.
                    let (order, prefetched) = Box::pin(futures_util::future::join(
                        store.order(&conv.shop_id, buyer, order_id),
                        prefetch_setup(store, &conv, &setup, true),
                    ))
                    .await;
                    if let Some(s) = prefetched? {
                        setup = Some(s);
                    }
                    order?
                }
                _ => None,
            },
        };
        if let Some(order) = &linked {
            compensations.extend(
                earned(
                    store,
                    order,
                    classification.intent,
                    true,
                    id,
                    &message.message_id,
                    now,
                )
                .await?,
            );
        }
        if needs_card {
            if let Some(c) = prediction_card(id, conv.serving_agent.as_ref(), text, &orders, now) {
                let sender = match &conv.serving_agent {
                    Some(agent) => Sender::Agent(agent.clone()),
                    None => Sender::System,
                };
                messages.push(Message::new(
                    id,
                    sender,
                    MessageBody::PredictionCard { card: c.clone() },
                    now + 1,
                ));
                conv.open_card = Some(c.clone());
                card = Some(c);
            }
        }
    }

    // An intent the assistant does not cover: the shop's robot answers, if it is on and has an
    // answer, until the buyer has asked for a person.
    let mut robot_reply = None;
    if classification.confident
        && !covers(classification.intent)
        && classification.intent != IntentId::Other
        && !conv.handed_off
    {
        let s = setup_for(store, &conv, &mut setup).await?;
        if let Offer::Robot(answer) = s.offer(classification.intent, None) {
            let reply = Message::new(
                id,
                Sender::Robot,
                MessageBody::Text {
                    text: answer.to_string(),
                },
                now + 1,
            );
            messages.push(reply.clone());
            robot_reply = Some(reply);
        }
    }
    // The buyer now waits for a person, unless the robot answered them; the queue shows the
    // message they started waiting with.
    if robot_reply.is_none() && conv.waiting_since.is_none() {
        conv.waiting_since = Some(now);
        conv.preview = Some(preview(text));
    }

    // The panel changes only when the buyer asked something (or the conversation is new).
    let panel = if asks || is_new {
        Some(build_panel(store, &conv, now, linked.as_ref(), &mut setup).await?)
    } else {
        None
    };
    let stats: Vec<StatEvent> = panel
        .as_ref()
        .and_then(|p| shown(&mut conv, p))
        .into_iter()
        .collect();
    let expected_version = next_version(&mut conv, now);
    store
        .commit(ConversationChange {
            conversation: conv.clone(),
            expected_version,
            messages,
            stats,
            compensations,
        })
        .await?;
    Ok(IntakeOutcome {
        message,
        classification,
        card,
        robot_reply,
        panel,
    })
}

/// The conversation as the caller may see it: the buyer sees what was sent to them; staff see
/// everything, internal notes included.
pub async fn list_messages<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<Vec<Message>> {
    let conv = visible_conversation(store, actor, id).await?;
    let mut messages = store.messages(&conv.conversation_id, MESSAGE_PAGE).await?;
    if matches!(actor, Actor::Buyer(_)) {
        messages.retain(|m| m.visible_to_buyer);
        for m in &mut messages {
            // The intent engine's verdict is for the shop and the platform, not the buyer.
            m.classification = None;
        }
    }
    Ok(messages)
}
