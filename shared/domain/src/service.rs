//! The use cases, one function per operation. Each takes its store and the caller, checks access,
//! reads, decides with the pure rules, and writes one atomic change.

use crate::card::{order_numbers_in, prediction_card, CardAnswer, OrderSummary, PredictionCard};
use crate::compensation::{owed_for, DueCompensation};
use crate::conversation::{
    message_text, preview, Conversation, LastIntent, Message, MessageBody, Sender,
};
use crate::error::{Error, Result};
use crate::identity::Actor;
use crate::ids::{CardId, ConversationId, MessageId, OrderId, ShopId, UserId};
use crate::intent::{
    classify_in_conversation, classify_with_context, wants_context, Classification, IntentId,
    CONTEXT_MESSAGES,
};
use crate::order::Order;
use crate::shop_replies::{Offer, ShopSetup};
use crate::solution::{covers, lookup, render_with, ActionKind, Solution, NO_ORDER_REPLY};
use crate::store::{ConversationChange, SolutionEvent, StatEvent, StatRow, Store};
use crate::time::{beijing_text, deadline_text, Millis};
use serde::{Deserialize, Serialize};

/// How many messages a conversation read returns at most.
pub const MESSAGE_PAGE: usize = 100;

// ---------------------------------------------------------------------------------------------
// Panel (智能助手提示)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelState {
    /// No confident buyer intent yet: nothing pops up.
    Idle,
    /// An intent the assistant has no solution for.
    NotCovered,
    /// The prediction card is out; waiting for the buyer to name the order.
    AwaitingOrder,
    /// The buyer has no order in this shop (or it is gone).
    NoOrder,
    /// Intent and order known: replies and actions are ready.
    Ready,
    /// An intent the assistant does not cover, which the shop's robot answers.
    Robot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentView {
    pub intent: IntentId,
    pub label: String,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// What the agent's panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub conversation_id: ConversationId,
    pub state: PanelState,
    pub intent: Option<IntentView>,
    pub order: Option<OrderSummary>,
    pub solution: Option<Solution>,
    /// The robot's configured answer, for an intent the assistant does not cover.
    pub robot_answer: Option<String>,
    /// A line for the agent when there is no solution to show.
    pub note: Option<String>,
}

/// The shop's setup, read once per step and only when a step needs it.
async fn setup_for<'a, S: Store>(
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
async fn prefetch_setup<S: Store>(
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

/// The solution in force for this conversation now, with the order it is about. `known` is an
/// order the caller already read in this step: it is used instead of reading it again.
async fn current_solution<S: Store>(
    store: &S,
    conv: &Conversation,
    now: Millis,
    known: Option<&Order>,
    setup: &mut Option<ShopSetup>,
) -> Result<Option<(Order, Solution)>> {
    let Some(last) = &conv.last_intent else {
        return Ok(None);
    };
    let Some(order_id) = &conv.confirmed_order else {
        return Ok(None);
    };
    let order = match known {
        Some(o) if o.order_id == *order_id => o.clone(),
        _ => {
            // Both reads are needed for a covered intent: one round trip instead of two. Boxed:
            // the two reads' states side by side would otherwise grow every caller's future.
            let (order, prefetched) = Box::pin(futures_util::future::join(
                store.order(&conv.shop_id, &conv.buyer_id, order_id),
                prefetch_setup(store, conv, setup, covers(last.intent)),
            ))
            .await;
            let order = order?;
            if let Some(s) = prefetched? {
                *setup = Some(s);
            }
            match order {
                Some(o) => o,
                None => return Ok(None),
            }
        }
    };
    let Some(template) = lookup(last.intent, order.node_at(now)) else {
        return Ok(None);
    };
    let setup = setup_for(store, conv, setup).await?;
    let edits = match setup.offer(last.intent, Some(template)) {
        Offer::Assistant { edits } => edits,
        Offer::Robot(_) | Offer::Nothing => None,
    };
    let solution = render_with(template, &order, now, edits);
    Ok(Some((order, solution)))
}

async fn build_panel<S: Store>(
    store: &S,
    conv: &Conversation,
    now: Millis,
    known: Option<&Order>,
    setup: &mut Option<ShopSetup>,
) -> Result<Panel> {
    let mut panel = Panel {
        conversation_id: conv.conversation_id.clone(),
        state: PanelState::Idle,
        intent: None,
        order: None,
        solution: None,
        robot_answer: None,
        note: None,
    };
    let Some(last) = &conv.last_intent else {
        return Ok(panel);
    };
    panel.intent = Some(IntentView {
        intent: last.intent,
        label: last.intent.label().into(),
        confidence: last.confidence,
        evidence: last.evidence.clone(),
    });
    if !covers(last.intent) {
        let setup = setup_for(store, conv, setup).await?;
        match setup.offer(last.intent, None) {
            Offer::Robot(answer) => {
                panel.state = PanelState::Robot;
                panel.robot_answer = Some(answer.to_string());
                panel.note = Some("智能助手暂未覆盖该问题，已由飞鸽机器人按店铺设置回复".into());
            }
            Offer::Assistant { .. } | Offer::Nothing => panel.state = PanelState::NotCovered,
        }
        return Ok(panel);
    }
    if conv.confirmed_order.is_none() {
        if conv.open_card.is_some() {
            panel.state = PanelState::AwaitingOrder;
            panel.note = Some("已自动向买家发送订单预测卡片，等待买家确认订单".into());
        } else {
            panel.state = PanelState::NoOrder;
            panel.note = Some(NO_ORDER_REPLY.into());
        }
        return Ok(panel);
    }
    match current_solution(store, conv, now, known, setup).await? {
        Some((order, solution)) => {
            panel.state = PanelState::Ready;
            panel.order = Some(OrderSummary::of(&order, now));
            panel.solution = Some(solution);
        }
        None => {
            panel.state = PanelState::NoOrder;
            panel.note = Some(NO_ORDER_REPLY.into());
        }
    }
    Ok(panel)
}

/// The "shown" count a panel earns: once per solution put in front of the agents of a
/// conversation, however often the panel is fetched. Notes the solution in the conversation.
fn shown(conv: &mut Conversation, panel: &Panel) -> Option<StatEvent> {
    let solution = panel.solution.as_ref()?;
    if conv.shown_solution.as_deref() == Some(solution.solution_id.as_str()) {
        return None;
    }
    conv.shown_solution = Some(solution.solution_id.clone());
    Some(StatEvent {
        shop: conv.shop_id.clone(),
        solution_id: solution.solution_id.clone(),
        event: SolutionEvent::Shown,
    })
}

/// Builds the panel. Fetching it again writes nothing; when its solution is new to this
/// conversation (the order moved to another node since), the "shown" count and the note go in
/// one conversation write. If someone else changed the conversation meanwhile, the count is left
/// to the next fetch.
async fn show_panel<S: Store>(store: &S, conv: &Conversation, now: Millis) -> Result<Panel> {
    let panel = build_panel(store, conv, now, None, &mut None).await?;
    let mut conv = conv.clone();
    if let Some(stat) = shown(&mut conv, &panel) {
        let expected_version = next_version(&mut conv, now);
        let change = ConversationChange {
            conversation: conv,
            expected_version,
            messages: vec![],
            stats: vec![stat],
            compensations: vec![],
        };
        match store.commit(change).await {
            Ok(()) | Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(panel)
}

/// A conversation the actor may see, or 404 (never revealing that another's exists).
async fn visible_conversation<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
) -> Result<Conversation> {
    match store.conversation(id).await? {
        Some(c) if c.visible_to(actor) => Ok(c),
        _ => Err(Error::NotFound("conversation")),
    }
}

fn next_version(conv: &mut Conversation, now: Millis) -> Option<u64> {
    let expected = (conv.version > 0).then_some(conv.version);
    conv.version += 1;
    conv.updated_at = now;
    expected
}

// ---------------------------------------------------------------------------------------------
// Intake: a buyer's message

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
pub const FOLLOW_UP_WINDOW: Millis = 30 * crate::time::MINUTE;

/// How often a step re-reads and retries when another writer changed the conversation first.
const COMMIT_ATTEMPTS: usize = 3;

pub async fn post_buyer_message<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<IntakeOutcome> {
    let buyer = actor.require_buyer()?;
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

/// A due compensation if the rule says this question earned one and the order has none yet.
async fn earned<S: Store>(
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

/// The message read with the buyer's last lines of the past `FOLLOW_UP_WINDOW` (None when there
/// are none). Built boxed in its own frame: the read's future never sits on try_post's stack (a
/// debug build's test thread is small).
#[allow(clippy::type_complexity)]
fn in_context<'a, S: Store>(
    store: &'a S,
    id: &'a ConversationId,
    text: &'a str,
    previous: Option<IntentId>,
    now: Millis,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<Classification>>> + Send + 'a>>
{
    Box::pin(async move {
        let earlier = store.messages(id, 2 * CONTEXT_MESSAGES).await?;
        let recent: Vec<&str> = earlier
            .iter()
            .filter(|m| matches!(m.sender, Sender::Buyer(_)) && now - m.sent_at <= FOLLOW_UP_WINDOW)
            .filter_map(|m| match &m.body {
                MessageBody::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        Ok((!recent.is_empty()).then(|| classify_in_conversation(text, previous, &recent)))
    })
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
    let mut conv = match store.conversation(id).await? {
        Some(c) if c.buyer_id == *buyer && c.shop_id == *shop_id => c,
        Some(_) => return Err(Error::NotFound("conversation")),
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
    let mut classification = classify_with_context(text, previous);
    // A weak message may finish a question begun in the buyer's last lines ("在吗" / "我那个订单"
    // / "怎么还没发"): only then are they read, and only recent ones count.
    if !is_new && wants_context(text, &classification) {
        if let Some(c) = in_context(store, id, text, previous, now).await? {
            classification = c;
        }
    }
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
            payout_trigger: classification.pays(),
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
                    classification.pays(),
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

/// What staff posting a message get back.
#[derive(Debug, Clone, Serialize)]
pub struct StaffOutcome {
    pub message: Message,
}

/// An agent writes to the buyer in their own words (not from the panel). The buyer stops waiting.
pub async fn post_staff_message<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<StaffOutcome> {
    let (agent, shop) = actor.require_staff()?;
    if input.shop_id.as_ref().is_some_and(|s| s != shop) {
        return Err(Error::NotFound("conversation"));
    }
    let text = message_text("text", &input.text)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut conv = visible_conversation(store, actor, id).await?;
        let message = Message::new(
            id,
            Sender::Agent(agent.clone()),
            MessageBody::Text { text: text.clone() },
            now,
        );
        conv.serving_agent = Some(agent.clone());
        conv.waiting_since = None;
        let expected_version = next_version(&mut conv, now);
        let result = store
            .commit(ConversationChange {
                conversation: conv,
                expected_version,
                messages: vec![message.clone()],
                stats: vec![],
                compensations: vec![],
            })
            .await;
        match result {
            Err(Error::Conflict(_)) if attempt < COMMIT_ATTEMPTS => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(StaffOutcome { message }),
        }
    }
}

/// How a buyer rates a robot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    Bad,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRobot {
    pub message_id: MessageId,
    pub rating: Rating,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingOutcome {
    pub handed_off: bool,
    /// The notice the buyer sees when handed to a person.
    pub message: Option<Message>,
}

/// The notice a buyer handed to a person sees.
pub const HANDOFF_NOTICE: &str = "已为您转接人工客服，请稍候～";

/// The buyer rates a robot answer: a bad rating hands the conversation to a person (转人工), who
/// finds it in the queue from that moment.
pub async fn rate_robot<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: RateRobot,
    now: Millis,
) -> Result<RatingOutcome> {
    actor.require_buyer()?;
    let mut conv = visible_conversation(store, actor, id).await?;
    let messages = store.messages(id, MESSAGE_PAGE).await?;
    let rated = messages
        .iter()
        .find(|m| m.message_id == input.message_id)
        .ok_or(Error::NotFound("message"))?;
    if rated.sender != Sender::Robot {
        return Err(Error::invalid(
            "message_id",
            "only the robot's answers can be rated",
        ));
    }
    if input.rating == Rating::Good || conv.handed_off {
        return Ok(RatingOutcome {
            handed_off: conv.handed_off,
            message: None,
        });
    }
    let notice = Message::new(
        id,
        Sender::System,
        MessageBody::Text {
            text: HANDOFF_NOTICE.into(),
        },
        now,
    );
    conv.handed_off = true;
    if conv.waiting_since.is_none() {
        conv.waiting_since = Some(now);
        // The queue shows what the buyer last asked.
        conv.preview = messages
            .iter()
            .rev()
            .find_map(|m| match (&m.sender, &m.body) {
                (Sender::Buyer(_), MessageBody::Text { text }) => Some(preview(text)),
                _ => None,
            });
    }
    let expected_version = next_version(&mut conv, now);
    store
        .commit(ConversationChange {
            conversation: conv,
            expected_version,
            messages: vec![notice.clone()],
            stats: vec![],
            compensations: vec![],
        })
        .await?;
    Ok(RatingOutcome {
        handed_off: true,
        message: Some(notice),
    })
}

/// A conversation in the agents' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub conversation_id: ConversationId,
    pub buyer_id: UserId,
    pub waiting_since: Millis,
    pub waited_ms: i64,
    pub last_text: Option<String>,
    pub handed_off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queue {
    pub items: Vec<Waiting>,
}

/// How many waiting conversations the queue lists.
pub const QUEUE_LIMIT: usize = 50;

/// The shop's conversations waiting for a person, longest wait first.
pub async fn queue<S: Store>(
    store: &S,
    actor: &Actor,
    shop: &ShopId,
    now: Millis,
) -> Result<Queue> {
    let (_, own) = actor.require_staff()?;
    if own != shop {
        return Err(Error::NotFound("shop"));
    }
    let waiting = store.waiting(shop, QUEUE_LIMIT).await?;
    Ok(Queue {
        items: waiting
            .into_iter()
            .map(|w| Waiting {
                conversation_id: w.conversation_id,
                buyer_id: w.buyer_id,
                waiting_since: w.waiting_since,
                waited_ms: (now - w.waiting_since).max(0),
                last_text: w.preview,
                handed_off: w.handed_off,
            })
            .collect(),
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

// ---------------------------------------------------------------------------------------------
// Order card: the buyer names the order

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
    actor.require_buyer()?;
    let mut conv = visible_conversation(store, actor, id).await?;
    let (order_id, answer) = match input.via {
        SelectionVia::Confirm => {
            let card = answered_card(&conv, input.card_id.as_ref())?;
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
            let card = answered_card(&conv, input.card_id.as_ref())?;
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
    };
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
    // Naming the order links the conversation's question to it: judge it at the question's time.
    let compensations = match &conv.last_intent {
        Some(q) => earned(store, &order, q.payout_trigger, id, &q.message_id, q.at)
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    };
    let body = match answer {
        Some((card_id, answer)) => MessageBody::CardAnswer {
            card_id,
            answer,
            order: summary.clone(),
        },
        None => MessageBody::OrderCard {
            order: summary.clone(),
        },
    };
    let message = Message::new(id, Sender::Buyer(conv.buyer_id.clone()), body, now);
    conv.confirmed_order = Some(order_id);
    conv.open_card = None;
    if conv.waiting_since.is_none() {
        conv.waiting_since = Some(now);
    }
    let panel = build_panel(store, &conv, now, Some(&order), &mut setup).await?;
    let stats = shown(&mut conv, &panel).into_iter().collect();
    let expected_version = next_version(&mut conv, now);
    store
        .commit(ConversationChange {
            conversation: conv.clone(),
            expected_version,
            messages: vec![message.clone()],
            stats,
            compensations,
        })
        .await?;
    Ok(SelectionOutcome {
        message,
        order: summary,
        panel,
    })
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

// ---------------------------------------------------------------------------------------------
// Suggest: the agent's panel and what the agent does with it

pub async fn panel<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    now: Millis,
) -> Result<Panel> {
    actor.require_staff()?;
    let conv = visible_conversation(store, actor, id).await?;
    show_panel(store, &conv, now).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseKind {
    /// 复制 into the input box.
    Copied,
    /// 发送 as it is.
    Sent,
    /// Copied, changed for this one answer, then sent.
    EditedSent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseSolution {
    pub solution_id: String,
    pub event: UseKind,
    pub reply_index: Option<usize>,
    pub action_id: Option<ActionKind>,
    /// The edited text, for `edited_sent` only.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UseOutcome {
    pub solution_id: String,
    pub event: SolutionEvent,
    /// The message stored in the conversation, when something was sent.
    pub message: Option<Message>,
}

/// The message an action sends, built from the order's facts.
pub fn action_message(action: ActionKind, order: &Order, now: Millis) -> MessageBody {
    let order_id = order.order_id.clone();
    let or = |v: &Option<String>, missing: &str| {
        v.as_ref()
            .filter(|s| !s.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| missing.to_string())
    };
    match action {
        ActionKind::SendOrderCard => MessageBody::OrderCard {
            order: OrderSummary::of(order, now),
        },
        ActionKind::SendPromisedDateCard => MessageBody::PromisedDateCard {
            order_id,
            promised_ship_time: order
                .promised_ship_by
                .map(deadline_text)
                .unwrap_or_else(|| "按承诺时效发货".into()),
        },
        ActionKind::SendLogisticsCard | ActionKind::SendLogisticsCardWithProof => {
            MessageBody::LogisticsCard {
                order_id,
                courier: or(&order.courier, "快递公司待更新"),
                tracking_no: or(&order.tracking_no, "运单号待更新"),
                status: order.node_at(now).label().into(),
                signed_at: (action == ActionKind::SendLogisticsCardWithProof)
                    .then(|| order.delivered_at.map(beijing_text))
                    .flatten(),
            }
        }
        ActionKind::SendAfterSaleEntry => MessageBody::AfterSaleEntry {
            order_id,
            title: order.title(),
        },
        ActionKind::RemindWarehouse | ActionKind::RemindWarehouseUrgent => {
            MessageBody::WarehouseReminder {
                order_id,
                urgent: action == ActionKind::RemindWarehouseUrgent,
            }
        }
        ActionKind::ReportShippingDelay => MessageBody::ShippingDelayReport { order_id },
        ActionKind::SendAddressChangeForm => MessageBody::AddressChangeForm {
            order_id,
            before_shipping: order.shipped_at.is_none_or(|t| t > now),
        },
        ActionKind::SendCancelEntry => MessageBody::CancelEntry {
            order_id,
            title: order.title(),
        },
        ActionKind::HoldShipment => MessageBody::ShipmentHold { order_id },
        ActionKind::RequestCourierIntercept => MessageBody::CourierIntercept {
            order_id,
            courier: or(&order.courier, "快递公司待更新"),
            tracking_no: or(&order.tracking_no, "运单号待更新"),
        },
    }
}

pub async fn use_solution<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: UseSolution,
    now: Millis,
) -> Result<UseOutcome> {
    let (agent, _) = actor.require_staff()?;
    let agent = agent.clone();
    let mut conv = visible_conversation(store, actor, id).await?;
    let (order, solution) = current_solution(store, &conv, now, None, &mut None)
        .await?
        .ok_or_else(|| {
            Error::Conflict("there is no solution to use in this conversation yet".into())
        })?;
    if solution.solution_id != input.solution_id {
        return Err(Error::Conflict(format!(
            "the panel has changed (now {}); reload it",
            solution.solution_id
        )));
    }
    let reply = match input.reply_index {
        Some(i) => Some(solution.replies.get(i).ok_or_else(|| {
            Error::invalid(
                "reply_index",
                format!("must be below {}", solution.replies.len()),
            )
        })?),
        None => None,
    };
    let action = match input.action_id {
        Some(a) => Some(
            solution
                .actions
                .iter()
                .find(|x| x.action_id == a)
                .ok_or_else(|| Error::invalid("action_id", "is not offered by this solution"))?
                .action_id,
        ),
        None => None,
    };
    if reply.is_some() == action.is_some() {
        return Err(Error::invalid(
            "reply_index",
            "give exactly one of reply_index or action_id",
        ));
    }
    if input.text.is_some() && input.event != UseKind::EditedSent {
        return Err(Error::invalid("text", "is only for event=edited_sent"));
    }
    let (event, body) = match (input.event, reply, action) {
        (UseKind::Copied, Some(_), _) => (SolutionEvent::Copied, None),
        (UseKind::Copied, None, _) => {
            return Err(Error::invalid(
                "event",
                "copied applies to a reply, not an action",
            ))
        }
        (UseKind::Sent, Some(r), _) => (
            SolutionEvent::Sent,
            Some(MessageBody::Text {
                text: r.text.clone(),
            }),
        ),
        (UseKind::Sent, None, Some(a)) => {
            (SolutionEvent::Sent, Some(action_message(a, &order, now)))
        }
        (UseKind::EditedSent, Some(_), _) => {
            let text = input
                .text
                .as_deref()
                .ok_or_else(|| Error::invalid("text", "is required for edited_sent"))?;
            (
                SolutionEvent::EditedSent,
                Some(MessageBody::Text {
                    text: message_text("text", text)?,
                }),
            )
        }
        (UseKind::EditedSent, None, _) => {
            return Err(Error::invalid(
                "event",
                "edited_sent applies to a reply, not an action",
            ))
        }
        (UseKind::Sent, None, None) => unreachable!("checked above: exactly one is set"),
    };
    let stat = StatEvent {
        shop: conv.shop_id.clone(),
        solution_id: solution.solution_id.clone(),
        event,
    };
    let Some(body) = body else {
        store.record(&stat).await?;
        return Ok(UseOutcome {
            solution_id: solution.solution_id,
            event,
            message: None,
        });
    };
    let mut message = Message::new(id, Sender::Agent(agent.clone()), body, now);
    message.solution_id = Some(solution.solution_id.clone());
    conv.serving_agent = Some(agent);
    conv.waiting_since = None;
    let expected_version = next_version(&mut conv, now);
    store
        .commit(ConversationChange {
            conversation: conv,
            expected_version,
            messages: vec![message.clone()],
            stats: vec![stat],
            compensations: vec![],
        })
        .await?;
    Ok(UseOutcome {
        solution_id: solution.solution_id,
        event,
        message: Some(message),
    })
}

/// One row of adoption figures: how agents used a solution in a shop, and the ratios per shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdoptionRow {
    pub shop_id: ShopId,
    pub intent: Option<IntentId>,
    pub solution_id: String,
    pub shown: u64,
    pub copied: u64,
    pub sent: u64,
    pub edited_sent: u64,
    pub feedback: u64,
    pub copy_rate: f64,
    pub send_rate: f64,
    pub edited_rate: f64,
    pub feedback_rate: f64,
}

impl AdoptionRow {
    pub fn of(row: StatRow) -> Self {
        let st = row.stats;
        let rate = |n: u64| {
            if st.shown == 0 {
                0.0
            } else {
                // Three decimals: figures for people, not for further arithmetic.
                ((n as f64 / st.shown as f64) * 1000.0).round() / 1000.0
            }
        };
        let intent = IntentId::parse(row.solution_id.split('.').next().unwrap_or(""));
        AdoptionRow {
            shop_id: row.shop,
            intent,
            copy_rate: rate(st.copied),
            send_rate: rate(st.sent),
            edited_rate: rate(st.edited_sent),
            feedback_rate: rate(st.feedback),
            solution_id: row.solution_id,
            shown: st.shown,
            copied: st.copied,
            sent: st.sent,
            edited_sent: st.edited_sent,
            feedback: st.feedback,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adoption {
    pub rows: Vec<AdoptionRow>,
}

/// Adoption figures: a shop admin for their own shop; the platform for one shop or all.
pub async fn adoption<S: Store>(
    store: &S,
    actor: &Actor,
    shop: Option<&ShopId>,
) -> Result<Adoption> {
    let scope = match actor {
        Actor::Platform(_) => shop,
        Actor::ShopAdmin { shop: own, .. } => match shop {
            Some(s) if s == own => Some(own),
            Some(_) => return Err(Error::NotFound("shop")),
            None => {
                return Err(Error::Forbidden(
                    "only the platform may read every shop's figures".into(),
                ))
            }
        },
        _ => {
            return Err(Error::Forbidden(
                "only shop admins and the platform may read adoption figures".into(),
            ))
        }
    };
    let mut rows: Vec<AdoptionRow> = store
        .stat_rows(scope)
        .await?
        .into_iter()
        .map(AdoptionRow::of)
        .collect();
    rows.sort_by(|a, b| {
        (a.shop_id.as_str(), a.solution_id.as_str())
            .cmp(&(b.shop_id.as_str(), b.solution_id.as_str()))
    });
    Ok(Adoption { rows })
}

/// Usage counts of one solution in the caller's shop.
pub async fn solution_stats<S: Store>(
    store: &S,
    actor: &Actor,
    solution_id: &str,
) -> Result<crate::store::SolutionStats> {
    let (_, shop) = actor.require_staff()?;
    store.stats(shop, solution_id).await
}

/// The platform's payout report for one Beijing day (platform role only).
pub async fn payout_report<S: crate::store::ReportStore>(
    store: &S,
    actor: &Actor,
    day: &str,
) -> Result<crate::compensation::PayoutReport> {
    if !matches!(actor, Actor::Platform(_)) {
        return Err(Error::Forbidden(
            "only the platform may read payout reports".into(),
        ));
    }
    let valid = day.len() == 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok();
    if !valid {
        return Err(Error::invalid("day", "must be a date written YYYY-MM-DD"));
    }
    let paid = store.paid_on(day).await?;
    let arrears = store.shops_in_arrears().await?;
    Ok(crate::compensation::PayoutReport::build(
        day, &paid, arrears,
    ))
}
