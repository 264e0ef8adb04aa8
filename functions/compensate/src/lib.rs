//! Overdue-shipment coupon sweep (超时发货赔付), run by the EventBridge schedule. Its template entry
//! exists (disabled); the sweep arrives in its own issue. Until then it answers every event with a
//! clear 501 JSON result and pays nothing.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::{json, Value};

pub fn handle(event: &EventBridgeEvent<Value>) -> Value {
    tracing::warn!(event_id = ?event.id, "compensation sweep is not implemented yet; nothing paid");
    json!({
        "error": {
            "code": "not_implemented",
            "status": 501,
            "message": "the overdue-shipment compensation sweep is not available yet; nothing was paid"
        }
    })
}
