//! Intake: a buyer's message. Stored with the intent engine's verdict; a question may bring the
//! prediction card, a compensation, the robot's answer and the agent's panel. Also the
//! conversation as each side may read it.

use crate::access;
use crate::error::{Error, Result};
use crate::intent::{
    classify_in_conversation, classify_with_context, wants_context, Classification, IntentId,
    CONTEXT_MESSAGES,
};
use crate::model::card::{order_numbers_in, prediction_card, PredictionCard, CARD_CANDIDATES};
use crate::model::conversation::{
    message_text, preview, Conversation, LastIntent, Message, MessageBody, Sender, Shop,
};
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, OrderId, ShopId, UserId};
use crate::model::ledger::IdempotencyKey;
use crate::model::limits::Allowance;
use crate::model::order::Order;
use crate::model::panel::Panel;
use crate::model::replies::{Offer, ShopSetup};
use crate::model::solution::covers;
use crate::model::time::Millis;
use crate::ports::{News, Store};
use crate::usecases::panel::build_panel;
use crate::usecases::step::{retry_on_conflict, Step};
use crate::usecases::support::{
    earned, prefetch_setup, setup_for, visible_conversation, MESSAGE_PAGE,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// May be left out. A buyer who names it must name their conversation's shop (else 404, as
    /// for any conversation that is not theirs); staff who name it must name their own.
    /// Left out, not null: a null is refused like any other value that is not a shop id.
    #[serde(default, deserialize_with = "present")]
    pub shop_id: Option<ShopId>,
    pub text: String,
}

/// A buyer's first message in a shop (`POST /conversations`): it opens a conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenConversation {
    pub shop_id: ShopId,
    pub text: String,
}

/// A field that may be left out but, when present, must be a value (not null).
fn present<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
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
    /// The shop, when this step read it: the buyer's view names the card's agent by it.
    #[serde(skip)]
    pub shop: Option<Shop>,
    /// The conversation's shop (the buyer's view reads the shop by it when the step did not).
    #[serde(skip)]
    pub shop_id: ShopId,
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
    let text = message_text("text", &input.text)?;
    // The buyer's allowance is taken alongside the first read of the conversation: one round
    // trip for both. Refused, nothing is written. (Taken before the ownership check, so that a
    // conversation of someone else's answers exactly as one that does not exist.)
    let messages = Allowance::message(&store.limits(), buyer, now);
    let (allowed, found) =
        futures_util::future::join(store.take(&messages), store.conversation(id)).await;
    if !allowed? {
        return Err(messages.refused(now));
    }
    let mut first_read = Some(found?);
    let shop_id = input.shop_id.as_ref();
    retry_on_conflict(|| {
        // A retry after a conflict reads the conversation again.
        let read = first_read.take();
        try_post(store, buyer, id, shop_id, &text, now, read)
    })
    .await
}

/// `POST /conversations`: a buyer opens a conversation in a shop with their first message, under
/// `id`, which the caller minted ([`ConversationId::mint`]; a test passes its own). The serving
/// agent is the shop's rule's choice for this buyer. The buyer's allowances of messages and of
/// new conversations in this shop are both taken; refused, nothing is written.
pub async fn open_conversation<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: OpenConversation,
    now: Millis,
) -> Result<IntakeOutcome> {
    let buyer = access::buyer(actor)?;
    let text = message_text("text", &input.text)?;
    let limits = store.limits();
    let messages = Allowance::message(&limits, buyer, now);
    let (allowed, setup) = Box::pin(futures_util::future::join(
        store.take(&messages),
        store.shop_setup(&input.shop_id),
    ))
    .await;
    if !allowed? {
        return Err(messages.refused(now));
    }
    let setup = setup?.ok_or(Error::NotFound("shop"))?;
    take(
        store,
        Allowance::conversation(&limits, buyer, &input.shop_id, now),
        now,
    )
    .await?;
    let conv = Conversation::open(id, &setup.shop, buyer, now);
    // A new conversation's commit is conditional on the id being free: with a minted id it is, so
    // it is not retried (a conflict would be a 409, and nothing is written).
    answer(store, conv, true, Some(setup), buyer, &text, now).await
}

/// What `POST /conversations` with an `Idempotency-Key` did: opened the conversation, or found
/// the one this buyer already opened with that key (a retry: nothing is written).
#[derive(Debug, Clone)]
pub enum Opening {
    Opened(Box<IntakeOutcome>),
    AlreadyOpened(ConversationId),
}

/// `POST /conversations` with the buyer's retry key: the conversation's id is derived from the
/// buyer and the key ([`ConversationId::for_retry`]), so a retry of a request whose answer was
/// lost meets its own conversation instead of opening a second one. Two retries at once: one
/// opens it, the other finds it.
pub async fn open_conversation_once<S: Store>(
    store: &S,
    actor: &Actor,
    key: &IdempotencyKey,
    input: OpenConversation,
    now: Millis,
) -> Result<Opening> {
    let buyer = access::buyer(actor)?;
    let id = ConversationId::for_retry(buyer, key.as_str());
    let opened = |found: Option<Conversation>| match found {
        Some(c) if c.buyer_id == *buyer => Ok(Some(Opening::AlreadyOpened(id.clone()))),
        // Only this buyer's key derives this id; anything else is a conflict, never a read.
        Some(_) => Err(Error::Conflict("the retry key is in use".into())),
        None => Ok(None),
    };
    if let Some(again) = opened(store.conversation(&id).await?)? {
        return Ok(again);
    }
    match open_conversation(store, actor, &id, input, now).await {
        Ok(outcome) => Ok(Opening::Opened(Box::new(outcome))),
        Err(Error::Conflict(why)) => {
            opened(store.conversation(&id).await?)?.ok_or(Error::Conflict(why))
        }
        Err(e) => Err(e),
    }
}

/// One use of a buyer's allowance, or `Error::TooMany` (429) once it is used up.
async fn take<S: Store>(store: &S, allowance: Allowance, now: Millis) -> Result<()> {
    if store.take(&allowance).await? {
        Ok(())
    } else {
        Err(allowance.refused(now))
    }
}

/// What one buyer message is, for the steps below.
struct Said<'a> {
    id: &'a ConversationId,
    buyer: &'a UserId,
    text: &'a str,
    classification: Classification,
    message: Message,
    now: Millis,
}

impl Said<'_> {
    /// A confident question ("other" is no intent: it neither pops up nor replaces the
    /// question the buyer asked before).
    fn asks(&self) -> bool {
        self.classification.confident && self.classification.intent != IntentId::Other
    }
}

/// Load the buyer's conversation, then answer the message.
async fn try_post<S: Store>(
    store: &S,
    buyer: &UserId,
    id: &ConversationId,
    shop_id: Option<&ShopId>,
    text: &str,
    now: Millis,
    read: Option<Option<Conversation>>,
) -> Result<IntakeOutcome> {
    let found = match read {
        Some(found) => found,
        None => store.conversation(id).await?,
    };
    let conv = access::buyers_conversation(buyer, shop_id, found)?;
    answer(store, conv, false, None, buyer, text, now).await
}

/// Classify, then: a question (card, order, compensation), the robot, the wait, the panel, one
/// commit. The shop's setup is read only when this step needs it (a new conversation has it, the
/// robot, or a panel with a solution), and then once.
async fn answer<S: Store>(
    store: &S,
    conv: Conversation,
    is_new: bool,
    mut setup: Option<ShopSetup>,
    buyer: &UserId,
    text: &str,
    now: Millis,
) -> Result<IntakeOutcome> {
    let id = conv.conversation_id.clone();
    let mut said = classify(&conv, &id, buyer, text, now);
    if !is_new {
        in_context(store, &conv, &mut said).await?;
    }
    // An ordinary message (no new question) in a conversation whose buyer already waits changes
    // nothing but the message list: one conditional put, no panel to rebuild. The agent's panel
    // (GET …/panel) is unchanged, so the answer carries none.
    if !is_new && !said.asks() && conv.waiting_since.is_some() {
        store.append(&said.message).await?;
        Box::pin(store.announce(News::message(
            &conv.shop_id,
            &conv.buyer_id,
            &said.message,
            now,
        )))
        .await;
        return Ok(IntakeOutcome::quiet(said, &conv.shop_id));
    }
    let shop_id = conv.shop_id.clone();
    let mut step = Step::new(conv, now);
    step.says(said.message.clone());
    let (card, linked) = if said.asks() {
        take_question(store, &mut step, &said, &mut setup).await?
    } else {
        (None, None)
    };
    let robot_reply = robot_answer(store, &mut step, &said, &mut setup).await?;
    // The buyer now waits for a person, unless the robot answered them; the queue shows the
    // message they started waiting with.
    if robot_reply.is_none() {
        step.buyer_waits(Some(preview(text)));
    }
    // The panel changes only when the buyer asked something (or the conversation is new).
    let panel = if said.asks() || is_new {
        let conv = step.conversation();
        let panel = build_panel(store, conv, now, linked.as_ref(), &mut setup).await?;
        step.shows(&panel);
        Some(panel)
    } else {
        None
    };
    step.commit(store).await?;
    Ok(IntakeOutcome {
        message: said.message,
        classification: said.classification,
        card,
        robot_reply,
        panel,
        shop: setup.map(|s| s.shop),
        shop_id,
    })
}

impl IntakeOutcome {
    /// A message that changed nothing else.
    fn quiet(said: Said<'_>, shop_id: &ShopId) -> Self {
        IntakeOutcome {
            message: said.message,
            classification: said.classification,
            card: None,
            robot_reply: None,
            panel: None,
            shop: None,
            shop_id: shop_id.clone(),
        }
    }
}

/// The conversation's question, if it was asked recently enough to be a follow-up's context.
fn previous_intent(conv: &Conversation, now: Millis) -> Option<IntentId> {
    conv.last_intent
        .as_ref()
        .filter(|l| now - l.at <= FOLLOW_UP_WINDOW)
        .map(|l| l.intent)
}

/// The intent of the message, with the conversation's recent question as context: a short
/// follow-up may take the previous question's intent, if that was recent.
fn classify<'a>(
    conv: &Conversation,
    id: &'a ConversationId,
    buyer: &'a UserId,
    text: &'a str,
    now: Millis,
) -> Said<'a> {
    let classification = classify_with_context(text, previous_intent(conv, now));
    let body = MessageBody::Text {
        text: text.to_string(),
    };
    let mut message = Message::new(id, Sender::Buyer(buyer.clone()), body, now);
    message.classification = Some(classification.clone());
    Said {
        id,
        buyer,
        text,
        classification,
        message,
        now,
    }
}

/// A weak message may finish a question begun in the buyer's last lines ("在吗" / "我那个订单"
/// / "怎么还没发"): only then are they read, and only those of the past `FOLLOW_UP_WINDOW` count.
/// Boxed in its own frame: the read's future never sits on the caller's stack (a debug build's
/// test thread is small).
fn in_context<'a, S: Store>(
    store: &'a S,
    conv: &'a Conversation,
    said: &'a mut Said<'_>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        if !wants_context(said.text, &said.classification) {
            return Ok(());
        }
        let earlier = store.messages(said.id, 2 * CONTEXT_MESSAGES).await?;
        let recent: Vec<&str> = earlier
            .iter()
            .filter(|m| {
                matches!(m.sender, Sender::Buyer(_)) && said.now - m.sent_at <= FOLLOW_UP_WINDOW
            })
            .filter_map(|m| match &m.body {
                MessageBody::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        if !recent.is_empty() {
            let c = classify_in_conversation(said.text, previous_intent(conv, said.now), &recent);
            said.message.classification = Some(c.clone());
            said.classification = c;
        }
        Ok(())
    })
}

/// A confident question: it becomes the conversation's question; the order it is about is
/// linked (and may owe a compensation); a card goes out when the order is not known yet.
/// Returns the card and the linked order (read once, used for the panel too).
async fn take_question<S: Store>(
    store: &S,
    step: &mut Step,
    said: &Said<'_>,
    setup: &mut Option<ShopSetup>,
) -> Result<(Option<PredictionCard>, Option<Order>)> {
    let intent = said.classification.intent;
    step.asks(LastIntent {
        intent,
        confidence: said.classification.confidence,
        evidence: said.classification.evidence.clone(),
        message_id: said.message.message_id.clone(),
        at: said.now,
        payout_trigger: said.classification.pays(),
        settled: None,
    });
    let conv = step.conversation();
    let covered = covers(intent);
    let needs_card = covered && conv.confirmed_order.is_none() && conv.open_card.is_none();
    // The buyer's orders are read only when a card is due (the newest few) or the text names an
    // order (that order, by its number).
    let orders = if needs_card {
        store
            .recent_orders(&conv.shop_id, said.buyer, CARD_CANDIDATES)
            .await?
    } else {
        Vec::new()
    };
    let named = if covered {
        named_orders(store, conv, said, &orders).await?
    } else {
        Vec::new()
    };
    let linked = link_order(store, conv, said, &named, covered, setup).await?;
    // An order named in the text is ranked on the card even when it is older than the newest.
    let mut orders = orders;
    if needs_card {
        for o in named {
            if !orders.contains(&o) {
                orders.push(o);
            }
        }
    }
    if let Some(order) = &linked {
        let (id, asked) = (said.id, &said.message.message_id);
        let pays = said.classification.pays();
        step.owes(earned(store, order, pays, id, asked, said.now).await?);
        step.settles(&order.order_id);
    }
    let card = if needs_card {
        send_card(step, said, &orders)
    } else {
        None
    };
    Ok((card, linked))
}

/// The buyer's orders in this shop whose numbers are in the text (at most `MAX_NAMED_ORDERS`), in
/// the text's order: taken from the orders already read, else read by their keys, together (an
/// order older than the card's candidates, or any when no card is due). Another shop's or
/// buyer's order number reads as none.
async fn named_orders<S: Store>(
    store: &S,
    conv: &Conversation,
    said: &Said<'_>,
    read: &[Order],
) -> Result<Vec<Order>> {
    let lookups = order_numbers_in(said.text)
        .into_iter()
        .map(|number| async move {
            if let Some(o) = read.iter().find(|o| o.order_id.as_str() == number) {
                return Ok(Some(o.clone()));
            }
            match OrderId::parse(number) {
                Ok(id) => store.order(&conv.shop_id, said.buyer, &id).await,
                Err(_) => Ok(None),
            }
        });
    let found = futures_util::future::join_all(lookups).await;
    found.into_iter().filter_map(Result::transpose).collect()
}

/// The order a question is about: one of the buyer's named in the text, else the conversation's
/// confirmed order (read beside the shop's setup, which the panel will need).
async fn link_order<S: Store>(
    store: &S,
    conv: &Conversation,
    said: &Said<'_>,
    orders: &[Order],
    covered: bool,
    setup: &mut Option<ShopSetup>,
) -> Result<Option<Order>> {
    // The orders named in the text come in the text's order: the first one wins.
    if let Some(o) = orders.first() {
        return Ok(Some(o.clone()));
    }
    let (Some(order_id), true) = (&conv.confirmed_order, covered) else {
        return Ok(None);
    };
    let (order, prefetched) = Box::pin(futures_util::future::join(
        store.order(&conv.shop_id, said.buyer, order_id),
        prefetch_setup(store, conv, setup, true),
    ))
    .await;
    if let Some(s) = prefetched? {
        *setup = Some(s);
    }
    order
}

/// The prediction card, in the serving agent's name, when the buyer has orders to rank.
fn send_card(step: &mut Step, said: &Said<'_>, orders: &[Order]) -> Option<PredictionCard> {
    let conv = step.conversation();
    let agent = conv.serving_agent.as_ref();
    let card = prediction_card(said.id, agent, said.text, orders, said.now)?;
    let sender = match agent {
        Some(agent) => Sender::Agent(agent.clone()),
        None => Sender::System,
    };
    let body = MessageBody::PredictionCard { card: card.clone() };
    let message = Message::new(said.id, sender, body, said.now + 1);
    step.card_sent(card.clone(), message);
    Some(card)
}

/// An intent the assistant does not cover: the shop's robot answers, if it is on and has an
/// answer, until the buyer has asked for a person.
async fn robot_answer<S: Store>(
    store: &S,
    step: &mut Step,
    said: &Said<'_>,
    setup: &mut Option<ShopSetup>,
) -> Result<Option<Message>> {
    let intent = said.classification.intent;
    if !said.asks() || covers(intent) || step.conversation().handed_off {
        return Ok(None);
    }
    let s = setup_for(store, step.conversation(), setup).await?;
    let Offer::Robot(answer) = s.offer(intent, None) else {
        return Ok(None);
    };
    let body = MessageBody::Text {
        text: answer.to_string(),
    };
    let reply = Message::new(said.id, Sender::Robot, body, said.now + 1);
    step.says(reply.clone());
    Ok(Some(reply))
}

/// The conversation as the caller may see it: the buyer sees what was sent to them; staff see
/// everything, internal notes included.
pub async fn list_messages<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<Vec<Message>> {
    let conv = visible_conversation(store, actor, id).await?;
    let messages = store.messages(&conv.conversation_id, MESSAGE_PAGE).await?;
    Ok(visible_messages(actor, messages))
}

/// The messages of a conversation the actor may see, as they may see them.
pub(crate) fn visible_messages(actor: &Actor, mut messages: Vec<Message>) -> Vec<Message> {
    if matches!(actor, Actor::Buyer(_)) {
        messages.retain(|m| m.visible_to_buyer);
        for m in &mut messages {
            // The intent engine's verdict is for the shop and the platform, not the buyer.
            m.classification = None;
        }
    }
    messages
}
