//! What must never reach a buyer, checked over a whole JSON answer: the keys of the intent
//! engine's verdicts, the agent's panel, solution and action ids, internal notes and staff
//! identities, and any staff account's id as a value.

use serde_json::Value;

/// Keys a buyer's answer never carries, at any depth.
pub const FORBIDDEN_FOR_BUYERS: &[&str] = &[
    "classification",
    "intent",
    "evidence",
    "confidence",
    "confident",
    "panel",
    "solution",
    "solution_id",
    "action_id",
    "actions",
    "replies",
    "robot_answer",
    "note",
    "internal",
    "visible_to_buyer",
    "sent_as",
    "sender_id",
    "reason",
    "payout_trigger",
];

/// Message body types a buyer never receives (internal notes).
pub const INTERNAL_BODIES: &[&str] = &[
    "warehouse_reminder",
    "shipping_delay_report",
    "shipment_hold",
    "courier_intercept",
];

/// Every place in `value` a buyer must not see: a forbidden key, an internal note, or a string
/// equal to one of `staff` (the staff accounts' ids). Each as a JSON path; empty when clean.
pub fn leaks(value: &Value, staff: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, "$", staff, &mut found);
    found.sort();
    found
}

fn walk(value: &Value, path: &str, staff: &[&str], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{path}.{k}");
                if FORBIDDEN_FOR_BUYERS.contains(&k.as_str()) {
                    found.push(here.clone());
                }
                if k == "type" && v.as_str().is_some_and(|t| INTERNAL_BODIES.contains(&t)) {
                    found.push(format!("{here}={v}"));
                }
                walk(v, &here, staff, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), staff, found);
            }
        }
        Value::String(s) if staff.contains(&s.as_str()) => found.push(format!("{path}={s}")),
        _ => {}
    }
}

/// Whether `key` occurs anywhere in `value`.
pub fn has_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == key || has_key(v, key)),
        Value::Array(items) => items.iter().any(|v| has_key(v, key)),
        _ => false,
    }
}

/// A staff's list of the demo's overdue conversation: everything they saw before the views, the
/// verdict, the internal notes, the solution used and the card's account among them.
pub fn assert_staff_messages(body: &Value) {
    let all = body["messages"].as_array().expect("a message list");
    assert!(all
        .iter()
        .any(|m| m["classification"]["intent"] == "urge_shipment"));
    assert!(all.iter().any(|m| m["visible_to_buyer"] == false));
    assert!(all
        .iter()
        .any(|m| m["solution_id"] == "urge_shipment.overdue"));
    assert!(has_key(body, "sent_as"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaks_are_found_at_any_depth_and_clean_answers_pass() {
        let dirty = json!({
            "message": {"body": {"type": "text", "text": "hi"}, "classification": null},
            "items": [{"card": {"sent_as": "agent1"}}, {"body": {"type": "shipment_hold"}}],
            "who": "agent1"
        });
        let found = leaks(&dirty, &["agent1"]);
        assert_eq!(
            found,
            vec![
                "$.items[0].card.sent_as",
                "$.items[0].card.sent_as=agent1",
                "$.items[1].body.type=\"shipment_hold\"",
                "$.message.classification",
                "$.who=agent1",
            ]
        );
        let clean = json!({"message": {"sender": {"role": "agent", "name": "小美家纺客服"}}});
        assert!(leaks(&clean, &["agent1"]).is_empty());
        assert!(has_key(&dirty, "sent_as") && !has_key(&clean, "sent_as"));
    }
}
