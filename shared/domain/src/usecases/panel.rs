//! The agent's panel (智能助手提示): the intent, the order, and the solution in force for the
//! conversation's question and the order's node, with the shop's own replies where they apply.

use crate::access;
use crate::error::{Error, Result};
use crate::model::card::OrderSummary;
use crate::model::conversation::Conversation;
use crate::model::identity::Actor;
use crate::model::ids::ConversationId;
use crate::model::order::Order;
use crate::model::panel::{IntentView, Panel, PanelState};
use crate::model::replies::{Offer, ShopSetup};
use crate::model::solution::{covers, lookup, render_with, Solution, NO_ORDER_REPLY};
use crate::model::time::Millis;
use crate::ports::Store;
use crate::usecases::step::Step;
use crate::usecases::support::{prefetch_setup, setup_for, visible_conversation};

/// The solution in force for this conversation now, with the order it is about. `known` is an
/// order the caller already read in this step: it is used instead of reading it again.
pub(crate) async fn current_solution<S: Store>(
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

pub(crate) async fn build_panel<S: Store>(
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
        not_covered(&mut panel, setup.offer(last.intent, None));
        return Ok(panel);
    }
    if conv.confirmed_order.is_none() {
        awaiting_order(&mut panel, conv);
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

/// An intent the assistant does not cover: the shop's robot's answer, or nothing.
fn not_covered(panel: &mut Panel, offer: Offer<'_>) {
    match offer {
        Offer::Robot(answer) => {
            panel.state = PanelState::Robot;
            panel.robot_answer = Some(answer.to_string());
            panel.note = Some("智能助手暂未覆盖该问题，已由飞鸽机器人按店铺设置回复".into());
        }
        Offer::Assistant { .. } | Offer::Nothing => panel.state = PanelState::NotCovered,
    }
}

/// A covered question whose order is not known: the card is out, or the buyer has no order.
fn awaiting_order(panel: &mut Panel, conv: &Conversation) {
    if conv.open_card.is_some() {
        panel.state = PanelState::AwaitingOrder;
        panel.note = Some("已自动向买家发送订单预测卡片，等待买家确认订单".into());
    } else {
        panel.state = PanelState::NoOrder;
        panel.note = Some(NO_ORDER_REPLY.into());
    }
}

/// Builds the panel. Fetching it again writes nothing; when its solution is new to this
/// conversation (the order moved to another node since), the "shown" count and the note go in
/// one conversation write, whose news carries the new panel to the other staff following the
/// conversation. If someone else changed the conversation meanwhile, the count is left to the
/// next fetch (so this read is not retried). Returns the panel, and whether that write was made.
pub(crate) async fn show_panel<S: Store>(
    store: &S,
    conv: &Conversation,
    now: Millis,
    setup: &mut Option<ShopSetup>,
) -> Result<(Panel, bool)> {
    let panel = build_panel(store, conv, now, None, setup).await?;
    let mut step = Step::new(conv.clone(), now);
    let mut told = false;
    if step.shows(&panel) {
        match step.commit(store).await {
            Ok(_) => told = true,
            Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((panel, told))
}

pub async fn panel<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    now: Millis,
) -> Result<Panel> {
    access::staff(actor)?;
    let conv = visible_conversation(store, actor, id).await?;
    Ok(show_panel(store, &conv, now, &mut None).await?.0)
}
