//! What the agent does with the panel: copy a reply, send it as it is, edit then send it, or send
//! an action's message built from the order's facts. Counted per shop and solution.

use crate::access;
use crate::error::{Error, Result};
use crate::model::card::OrderSummary;
use crate::model::conversation::{message_text, Message, MessageBody, Sender};
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, UserId};
use crate::model::order::Order;
use crate::model::solution::{ActionKind, RenderedReply, Solution};
use crate::model::time::{beijing_text, deadline_text, Millis};
use crate::model::usage::{SolutionEvent, StatEvent};
use crate::ports::Store;
use crate::usecases::panel::current_solution;
use crate::usecases::step::{retry_on_conflict, Step};
use crate::usecases::support::visible_conversation;
use serde::{Deserialize, Serialize};

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
    let (agent, _) = access::staff(actor)?;
    retry_on_conflict(|| try_use(store, actor, agent, id, &input, now)).await
}

/// Checks the use against the solution in force now, then counts it (a copy) or sends and
/// counts it in one step.
async fn try_use<S: Store>(
    store: &S,
    actor: &Actor,
    agent: &UserId,
    id: &ConversationId,
    input: &UseSolution,
    now: Millis,
) -> Result<UseOutcome> {
    let conv = visible_conversation(store, actor, id).await?;
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
    let (reply, action) = picked(input, &solution)?;
    let (event, body) = used(input, reply, action, &order, now)?;
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
    let mut step = Step::new(conv, now);
    step.agent_answered(agent, message.clone());
    step.count(stat);
    step.commit(store).await?;
    Ok(UseOutcome {
        solution_id: solution.solution_id,
        event,
        message: Some(message),
    })
}

/// The reply or the action the agent used: exactly one, and offered by the solution.
fn picked<'a>(
    input: &UseSolution,
    solution: &'a Solution,
) -> Result<(Option<&'a RenderedReply>, Option<ActionKind>)> {
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
    Ok((reply, action))
}

/// What the use counts as, and the message it sends (none for a copy).
fn used(
    input: &UseSolution,
    reply: Option<&RenderedReply>,
    action: Option<ActionKind>,
    order: &Order,
    now: Millis,
) -> Result<(SolutionEvent, Option<MessageBody>)> {
    Ok(match (input.event, reply, action) {
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
            (SolutionEvent::Sent, Some(action_message(a, order, now)))
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
    })
}
