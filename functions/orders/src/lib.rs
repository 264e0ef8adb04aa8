//! The order system's events in (an EventBridge rule on its bus feeds this function): each event's
//! fact is merged into its order with one conditional write (see
//! `assistant_domain::model::order_facts`). Deliveries are at least once and in any order; a
//! redelivery or a late fact changes nothing.
//!
//! An event that changed its order may have moved it to another node: the agent's panel of each
//! conversation about the order then shows another solution. The staff following such a
//! conversation are pushed its new panel (`show_moved_panels`), after the event is stored and
//! never failing it: what could not be told is logged, and the next `GET …/panel` shows it.
//!
//! An event that can never apply (not an EventBridge event, an unknown `detail-type`, a missing
//! or malformed field, an unknown shop, an order id stored under another shop or buyer) changes
//! nothing, is logged with its reason, and is answered with an error: Lambda's asynchronous
//! invocation retries it (twice) and then sends it, with the error, to the dead-letter queue
//! (template.yaml `OrderEventsDeadLetter`; README, "Order events"). Storage trouble is an error
//! too, so it is retried the same way and never lost.

use assistant_domain::error::Error;
use assistant_domain::model::order_facts::OrderEvent;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{OrderEventOutcome, PushStore, Store};
use assistant_domain::usecases::{apply_order_event, show_moved_panels, KnownShops};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;

/// What an applied event did (the invocation's result, for logs and `cargo lambda invoke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub event_id: String,
    pub kind: &'static str,
    pub order_id: String,
    /// `changed`, or `unchanged` for a redelivery or a fact older than the stored one.
    pub outcome: &'static str,
    /// The conversations whose panel moved with the order and was pushed to their staff.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub panels_shown: Vec<String>,
}

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum OrderEventError {
    /// The event can never apply: retried by Lambda, then in the dead-letter queue.
    #[error("order event {event_id} refused: {reason}")]
    Refused { event_id: String, reason: String },
    /// Storage failed or throttled: retrying may succeed.
    #[error("order event {event_id} not applied, storage unavailable: {source}")]
    Unavailable {
        event_id: String,
        #[source]
        source: Error,
    },
}

impl OrderEventError {
    /// Whether the event can never apply as it is.
    pub fn is_refused(&self) -> bool {
        matches!(self, OrderEventError::Refused { .. })
    }
}

fn refused(event_id: &str, detail_type: &str, reason: String) -> OrderEventError {
    tracing::warn!(
        event_id,
        detail_type,
        reason = %reason,
        "order event refused; nothing written, it goes to the dead-letter queue"
    );
    OrderEventError::Refused {
        event_id: event_id.to_string(),
        reason,
    }
}

/// The event as the order system published it, parsed.
pub fn parse(event: Value) -> Result<OrderEvent, OrderEventError> {
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(event)
        .map_err(|e| refused("?", "?", format!("not an EventBridge event: {e}")))?;
    let event_id = envelope.id.clone().unwrap_or_default();
    OrderEvent::parse(&event_id, &envelope.detail_type, &envelope.detail)
        .map_err(|e| refused(&event_id, &envelope.detail_type, e.to_string()))
}

/// Applies one event delivered by EventBridge; once it changed its order, pushes the panels it
/// moved (as they are at `now`).
pub async fn handle<S: Store + PushStore>(
    store: &S,
    known: &KnownShops,
    event: Value,
    now: Millis,
) -> Result<Applied, OrderEventError> {
    let event = parse(event)?;
    let kind = event.kind().detail_type();
    match apply_order_event(store, known, &event).await {
        Ok(outcome) => {
            let outcome_name = match outcome {
                OrderEventOutcome::Changed => "changed",
                OrderEventOutcome::Unchanged => "unchanged",
            };
            tracing::info!(event_id = %event.event_id, kind, order_id = %event.order_id, outcome = outcome_name, "order event applied");
            let mut panels_shown = Vec::new();
            if outcome == OrderEventOutcome::Changed {
                // Boxed: the panels' reads and commit stay out of the caller's future.
                let moved = Box::pin(show_moved_panels(store, &event, now)).await;
                for (conversation, error) in &moved.failed {
                    tracing::warn!(
                        event_id = %event.event_id,
                        order_id = %event.order_id,
                        conversation_id = conversation.as_ref().map(|c| c.as_str()),
                        code = error.code(),
                        error = %error,
                        "a panel the event moved was not pushed; the event stays applied"
                    );
                }
                panels_shown = moved.shown.iter().map(|c| c.to_string()).collect();
            }
            Ok(Applied {
                event_id: event.event_id,
                kind,
                order_id: event.order_id.to_string(),
                outcome: outcome_name,
                panels_shown,
            })
        }
        Err(err @ (Error::Unavailable(_) | Error::Internal(_))) => {
            tracing::error!(event_id = %event.event_id, kind, error = %err, "order event not applied; retried");
            Err(OrderEventError::Unavailable {
                event_id: event.event_id,
                source: err,
            })
        }
        Err(Error::NotFound(_)) => Err(refused(
            &event.event_id,
            kind,
            format!("unknown shop {}", event.shop_id),
        )),
        Err(other) => Err(refused(&event.event_id, kind, other.to_string())),
    }
}

/// The EventBridge envelope the order system's bus delivers for `event` (its `source` is
/// [`SOURCE`]): what the demo seed and the local stack publish.
pub fn envelope(event: &OrderEvent) -> Value {
    serde_json::json!({
        "version": "0",
        "id": event.event_id,
        "detail-type": event.kind().detail_type(),
        "source": SOURCE,
        "account": "123456789012",
        "time": "2026-11-18T08:00:00Z",
        "region": "cn-north-1",
        "resources": [],
        "detail": event.detail(),
    })
}

/// The `source` of the order system's events (the rule in template.yaml matches it).
pub const SOURCE: &str = "order-system";
