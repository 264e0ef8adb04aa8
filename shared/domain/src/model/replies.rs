//! A shop's own wording (编辑回复) and its chat robot (飞鸽机器人).
//!
//! With the robot on, a shop admin may rewrite the official reply of a solution and add at most
//! two more; the edit applies shop-wide from the next panel on. The robot's own answers, set up
//! by the shop in advance, apply only to intents the assistant does not cover: for covered
//! intents the assistant's solution always comes first, robot on or off.

use crate::error::{Error, Result};
use crate::intent::IntentId;
use crate::model::conversation::Shop;
use crate::model::ids::{ShopId, UserId};
use crate::model::solution::{covers, placeholders, SolutionTemplate, VARIABLES};
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Replies a shop may add to the official one.
pub const MAX_EXTRA_REPLIES: usize = 2;
/// Longest reply or robot answer, in characters.
pub const MAX_REPLY_CHARS: usize = 300;

/// A shop's edits for one intent: per solution, the replies in force (the rewritten official
/// one first, then the extras). One stored item per shop and intent, versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentReplies {
    pub shop_id: ShopId,
    pub intent: IntentId,
    /// 0 until the first edit; every change adds one.
    pub version: u64,
    pub solutions: BTreeMap<String, Vec<String>>,
    pub updated_at: Millis,
    pub updated_by: Option<UserId>,
}

impl IntentReplies {
    pub fn empty(shop_id: &ShopId, intent: IntentId) -> Self {
        IntentReplies {
            shop_id: shop_id.clone(),
            intent,
            version: 0,
            solutions: BTreeMap::new(),
            updated_at: 0,
            updated_by: None,
        }
    }
}

/// One change to a shop's replies, kept for the record (who, when, before, after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyChange {
    pub shop_id: ShopId,
    pub intent: IntentId,
    /// The version this change produced.
    pub version: u64,
    pub by: UserId,
    pub at: Millis,
    pub solution_id: String,
    /// The replies before; empty when they were the official ones.
    pub before: Vec<String>,
    /// The replies after; empty for a reset to the official ones.
    pub after: Vec<String>,
}

/// The robot's pre-configured answers, per intent the assistant does not cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotSettings {
    pub shop_id: ShopId,
    pub version: u64,
    pub answers: BTreeMap<IntentId, String>,
    pub updated_at: Millis,
    pub updated_by: Option<UserId>,
}

impl RobotSettings {
    pub fn empty(shop_id: &ShopId) -> Self {
        RobotSettings {
            shop_id: shop_id.clone(),
            version: 0,
            answers: BTreeMap::new(),
            updated_at: 0,
            updated_by: None,
        }
    }
}

/// Everything about a shop the panel and intake need, read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSetup {
    pub shop: Shop,
    pub replies: BTreeMap<IntentId, IntentReplies>,
    pub robot: RobotSettings,
}

/// What the panel offers for an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer<'a> {
    /// The assistant's solution, with the shop's replies when the robot is on and it edited them.
    Assistant { edits: Option<&'a [String]> },
    /// An intent the assistant does not cover: the robot's configured answer.
    Robot(&'a str),
    /// Nothing to offer.
    Nothing,
}

impl ShopSetup {
    pub fn bare(shop: Shop) -> Self {
        let robot = RobotSettings::empty(&shop.shop_id);
        ShopSetup {
            shop,
            replies: BTreeMap::new(),
            robot,
        }
    }

    /// The shop's replies for a solution, when they apply (robot on and edited).
    pub fn edits_for(&self, solution: &SolutionTemplate) -> Option<&[String]> {
        if !self.shop.robot_on {
            return None;
        }
        self.replies
            .get(&solution.intent)
            .and_then(|r| r.solutions.get(&solution.id()))
            .map(Vec::as_slice)
    }

    /// The priority rule: covered intents get the assistant's solution whether or not the robot
    /// is on; others get the robot's answer when the robot is on and has one.
    pub fn offer(&self, intent: IntentId, solution: Option<&SolutionTemplate>) -> Offer<'_> {
        if covers(intent) {
            return Offer::Assistant {
                edits: solution.and_then(|s| self.edits_for(s)),
            };
        }
        match self.robot.answers.get(&intent) {
            Some(answer) if self.shop.robot_on => Offer::Robot(answer),
            _ => Offer::Nothing,
        }
    }
}

/// Checks one reply or robot answer: trimmed, not empty, not too long, and only known
/// `{variables}` (robot answers may use none).
fn checked_text(field: &str, raw: &str, variables: &[&str]) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_REPLY_CHARS {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_REPLY_CHARS} characters (got {chars})"),
        ));
    }
    let opens = text.matches('{').count();
    let closes = text.matches('}').count();
    let names = placeholders(text);
    if opens != closes || names.len() != opens {
        return Err(Error::invalid(
            field,
            "has an unmatched '{' or '}': write variables as {name}",
        ));
    }
    if let Some(bad) = names.iter().find(|n| !variables.contains(n)) {
        let allowed = if variables.is_empty() {
            "none are allowed here".to_string()
        } else {
            format!("known: {}", variables.join(", "))
        };
        return Err(Error::invalid(
            field,
            format!("uses an unknown variable {{{bad}}} ({allowed})"),
        ));
    }
    Ok(text.to_string())
}

/// The replies a shop admin submits for a solution: the rewritten official reply first, then at
/// most two more.
pub fn validate_replies(replies: &[String]) -> Result<Vec<String>> {
    if replies.is_empty() {
        return Err(Error::invalid(
            "replies",
            "must hold the official reply's text (use reset to go back to the official one)",
        ));
    }
    if replies.len() > 1 + MAX_EXTRA_REPLIES {
        return Err(Error::invalid(
            "replies",
            format!(
                "may hold the official reply and at most {MAX_EXTRA_REPLIES} more (got {})",
                replies.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(replies.len());
    for (i, r) in replies.iter().enumerate() {
        let text = checked_text(&format!("replies[{i}]"), r, VARIABLES)?;
        if out.contains(&text) {
            return Err(Error::invalid(
                format!("replies[{i}]"),
                "repeats another reply",
            ));
        }
        out.push(text);
    }
    Ok(out)
}

/// The robot's answers a shop admin submits: only for intents the assistant does not cover.
pub fn validate_robot_answers(
    answers: &BTreeMap<String, String>,
) -> Result<BTreeMap<IntentId, String>> {
    let mut out = BTreeMap::new();
    for (raw, text) in answers {
        let field = format!("answers.{raw}");
        let intent = IntentId::parse(raw)
            .ok_or_else(|| Error::invalid(&field, "is not a known intent id"))?;
        if covers(intent) {
            return Err(Error::invalid(
                &field,
                "is covered by the assistant, whose solution always comes first; edit its replies instead",
            ));
        }
        out.insert(intent, checked_text(&field, text, &[])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::OrderNode;
    use crate::model::solution::lookup;

    fn setup(robot_on: bool) -> ShopSetup {
        let shop = Shop {
            shop_id: ShopId::parse("s1").unwrap(),
            name: "s".into(),
            agents: vec![],
            serving_rule: Default::default(),
            robot_on,
        };
        let mut s = ShopSetup::bare(shop);
        let mut r = IntentReplies::empty(&s.shop.shop_id, IntentId::UrgeShipment);
        r.solutions.insert(
            "urge_shipment.overdue".into(),
            vec!["店铺自己的话 {order_id}".into()],
        );
        s.replies.insert(IntentId::UrgeShipment, r);
        s.robot
            .answers
            .insert(IntentId::Invoice, "发票在订单详情里申请～".into());
        s
    }

    #[test]
    fn priority_all_ways_round() {
        let overdue = lookup(IntentId::UrgeShipment, OrderNode::Overdue).unwrap();
        let shipped = lookup(IntentId::UrgeShipment, OrderNode::Shipped).unwrap();
        // Covered, robot on: the assistant, with the shop's edits where it made them.
        let on = setup(true);
        assert_eq!(
            on.offer(IntentId::UrgeShipment, Some(overdue)),
            Offer::Assistant {
                edits: Some(&["店铺自己的话 {order_id}".to_string()][..])
            }
        );
        assert_eq!(
            on.offer(IntentId::UrgeShipment, Some(shipped)),
            Offer::Assistant { edits: None }
        );
        // Covered, robot off: the assistant's official solution; stored edits do not apply.
        let off = setup(false);
        assert_eq!(
            off.offer(IntentId::UrgeShipment, Some(overdue)),
            Offer::Assistant { edits: None }
        );
        // A robot answer for a covered intent would never win (and cannot be configured).
        let mut sneaky = setup(true);
        sneaky
            .robot
            .answers
            .insert(IntentId::Logistics, "机器人".into());
        assert!(matches!(
            sneaky.offer(IntentId::Logistics, None),
            Offer::Assistant { .. }
        ));
        // Not covered: the robot's answer only when the robot is on and has one.
        assert_eq!(
            on.offer(IntentId::Invoice, None),
            Offer::Robot("发票在订单详情里申请～")
        );
        assert_eq!(off.offer(IntentId::Invoice, None), Offer::Nothing);
        assert_eq!(on.offer(IntentId::ProductQuestion, None), Offer::Nothing);
    }

    #[test]
    fn replies_are_checked() {
        let ok = validate_replies(&[" 亲，{order_id}马上发 ".into(), "好的".into()]).unwrap();
        assert_eq!(ok[0], "亲，{order_id}马上发");
        let code = |r: &[&str]| {
            let v: Vec<String> = r.iter().map(|s| s.to_string()).collect();
            validate_replies(&v).unwrap_err().to_string()
        };
        assert!(code(&[]).contains("official"));
        assert!(code(&["a", "b", "c", "d"]).contains("at most 2 more"));
        assert!(code(&["  "]).contains("must not be empty"));
        assert!(code(&["{phone}"]).contains("unknown variable {phone}"));
        assert!(code(&["{order_id"]).contains("unmatched"));
        assert!(code(&["a}"]).contains("unmatched"));
        assert!(code(&["a", "a"]).contains("repeats"));
        let long = "好".repeat(MAX_REPLY_CHARS + 1);
        assert!(code(&[&long]).contains("at most 300"));
        assert!(validate_replies(&["好".repeat(MAX_REPLY_CHARS)]).is_ok());
    }

    #[test]
    fn robot_answers_only_for_uncovered_intents() {
        let mut a = BTreeMap::new();
        a.insert("invoice".to_string(), "发票～".to_string());
        assert_eq!(
            validate_robot_answers(&a).unwrap()[&IntentId::Invoice],
            "发票～"
        );
        a.insert("logistics".to_string(), "x".to_string());
        assert!(validate_robot_answers(&a)
            .unwrap_err()
            .to_string()
            .contains("covered"));
        let mut b = BTreeMap::new();
        b.insert("nope".to_string(), "x".to_string());
        assert!(validate_robot_answers(&b).is_err());
        let mut c = BTreeMap::new();
        c.insert("invoice".to_string(), "{order_id}".to_string());
        assert!(validate_robot_answers(&c).is_err());
    }
}
