//! Reply editing (编辑回复) and the robot's settings (飞鸽机器人): read and edit a shop's replies
//! for an intent, switch the robot and set its answers. The stored types and their checks are in
//! [`crate::model::replies`].

use crate::access;
use crate::error::{Error, Result};
use crate::intent::IntentId;
use crate::model::identity::Actor;
use crate::model::ids::{ShopId, UserId};
use crate::model::order::OrderNode;
use crate::model::replies::{
    validate_replies, validate_robot_answers, IntentReplies, ReplyChange, ShopSetup,
};
use crate::model::solution::{by_id, covers, solutions_of, VARIABLES};
use crate::model::time::Millis;
use crate::ports::ShopStore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many past changes a replies read lists.
pub const HISTORY_SHOWN: usize = 20;

/// One solution as the reply editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SolutionReplies {
    pub solution_id: String,
    pub node: OrderNode,
    /// The node in the agent's words (超时未发货 …).
    pub title: String,
    pub official: String,
    /// The replies in force: the official one, or the shop's.
    pub replies: Vec<String>,
    pub edited: bool,
}

/// A shop's replies for one intent, as `GET /shops/{shop_id}/replies/{intent}` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepliesView {
    pub shop_id: ShopId,
    pub intent: IntentId,
    pub robot_on: bool,
    pub version: u64,
    /// The variables a reply may use, written `{name}`.
    pub variables: Vec<&'static str>,
    pub solutions: Vec<SolutionReplies>,
    pub history: Vec<ReplyChange>,
}

/// What `PUT /shops/{shop_id}/replies/{intent}` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditReplies {
    pub expected_version: u64,
    pub solution_id: String,
    #[serde(default)]
    pub replies: Option<Vec<String>>,
    #[serde(default)]
    pub reset: bool,
}

/// The robot's settings, as `GET /shops/{shop_id}/robot` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RobotView {
    pub shop_id: ShopId,
    pub on: bool,
    pub answers: BTreeMap<IntentId, String>,
    pub version: u64,
}

/// What `PUT /shops/{shop_id}/robot` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditRobot {
    pub expected_version: u64,
    pub on: bool,
    #[serde(default)]
    pub answers: Option<BTreeMap<String, String>>,
}

fn covered_intent(raw: &str) -> Result<IntentId> {
    let intent =
        IntentId::parse(raw).ok_or_else(|| Error::invalid("intent", "is not a known intent id"))?;
    if !covers(intent) {
        return Err(Error::invalid(
            "intent",
            "has no assistant solution to edit (set the robot's answer for it instead)",
        ));
    }
    Ok(intent)
}

async fn setup_of<S: ShopStore>(store: &S, shop: &ShopId) -> Result<ShopSetup> {
    store.shop_setup(shop).await?.ok_or(Error::NotFound("shop"))
}

fn replies_view(setup: &ShopSetup, intent: IntentId, history: Vec<ReplyChange>) -> RepliesView {
    let stored = setup.replies.get(&intent);
    RepliesView {
        shop_id: setup.shop.shop_id.clone(),
        intent,
        robot_on: setup.shop.robot_on,
        version: stored.map_or(0, |r| r.version),
        variables: VARIABLES.to_vec(),
        solutions: solutions_of(intent)
            .map(|t| {
                let official = t.replies[0].text.to_string();
                let edits = stored.and_then(|r| r.solutions.get(&t.id()));
                SolutionReplies {
                    solution_id: t.id(),
                    node: t.node,
                    title: t.node.label().to_string(),
                    official: official.clone(),
                    replies: edits
                        .cloned()
                        .unwrap_or_else(|| t.replies.iter().map(|r| r.text.to_string()).collect()),
                    edited: edits.is_some(),
                }
            })
            .collect(),
        history,
    }
}

pub async fn get_replies<S: ShopStore>(
    store: &S,
    actor: &Actor,
    shop: &ShopId,
    intent: &str,
) -> Result<RepliesView> {
    access::read_shop_settings(actor, shop)?;
    let intent = covered_intent(intent)?;
    let setup = setup_of(store, shop).await?;
    let history = store.reply_history(shop, intent, HISTORY_SHOWN).await?;
    Ok(replies_view(&setup, intent, history))
}

/// Edits (or resets) a solution's replies shop-wide. Refused while the robot is off; a stale
/// `expected_version` is a 409, never a silent overwrite.
pub async fn edit_replies<S: ShopStore>(
    store: &S,
    actor: &Actor,
    shop: &ShopId,
    intent: &str,
    input: EditReplies,
    now: Millis,
) -> Result<RepliesView> {
    let by = access::edit_shop_settings(actor, shop)?.clone();
    let intent = covered_intent(intent)?;
    let template = by_id(&input.solution_id)
        .filter(|t| t.intent == intent)
        .ok_or_else(|| Error::invalid("solution_id", "is not a solution of this intent"))?;
    let after = match (input.reset, &input.replies) {
        (true, None) => Vec::new(),
        (false, Some(r)) => validate_replies(r)?,
        _ => {
            return Err(Error::invalid(
                "replies",
                "give either replies or reset: true",
            ))
        }
    };
    let setup = setup_of(store, shop).await?;
    if !setup.shop.robot_on {
        return Err(Error::RobotOff);
    }
    let mut replies = setup
        .replies
        .get(&intent)
        .cloned()
        .unwrap_or_else(|| IntentReplies::empty(shop, intent));
    if replies.version != input.expected_version {
        return Err(Error::Conflict(format!(
            "the replies were changed by someone else (now version {}); reload and edit again",
            replies.version
        )));
    }
    let change = apply(&mut replies, template.id(), after, by, now);
    store.save_replies(&replies, &change).await?;
    let mut setup = setup;
    setup.replies.insert(intent, replies);
    let history = store.reply_history(shop, intent, HISTORY_SHOWN).await?;
    Ok(replies_view(&setup, intent, history))
}

/// Puts the new replies of one solution in force (none: back to the official ones), as the
/// next version, and returns the record of the change.
fn apply(
    replies: &mut IntentReplies,
    solution_id: String,
    after: Vec<String>,
    by: UserId,
    now: Millis,
) -> ReplyChange {
    let before = replies
        .solutions
        .get(&solution_id)
        .cloned()
        .unwrap_or_default();
    if after.is_empty() {
        replies.solutions.remove(&solution_id);
    } else {
        replies.solutions.insert(solution_id.clone(), after.clone());
    }
    replies.version += 1;
    replies.updated_at = now;
    replies.updated_by = Some(by.clone());
    ReplyChange {
        shop_id: replies.shop_id.clone(),
        intent: replies.intent,
        version: replies.version,
        by,
        at: now,
        solution_id,
        before,
        after,
    }
}

fn robot_view(setup: &ShopSetup) -> RobotView {
    RobotView {
        shop_id: setup.shop.shop_id.clone(),
        on: setup.shop.robot_on,
        answers: setup.robot.answers.clone(),
        version: setup.robot.version,
    }
}

pub async fn get_robot<S: ShopStore>(store: &S, actor: &Actor, shop: &ShopId) -> Result<RobotView> {
    access::read_shop_settings(actor, shop)?;
    Ok(robot_view(&setup_of(store, shop).await?))
}

/// Switches the robot on or off and, optionally, replaces its answers.
pub async fn edit_robot<S: ShopStore>(
    store: &S,
    actor: &Actor,
    shop: &ShopId,
    input: EditRobot,
    now: Millis,
) -> Result<RobotView> {
    let by = access::edit_shop_settings(actor, shop)?.clone();
    let answers = input
        .answers
        .as_ref()
        .map(validate_robot_answers)
        .transpose()?;
    let mut setup = setup_of(store, shop).await?;
    if setup.robot.version != input.expected_version {
        return Err(Error::Conflict(format!(
            "the robot settings were changed by someone else (now version {}); reload and edit again",
            setup.robot.version
        )));
    }
    if let Some(a) = answers {
        setup.robot.answers = a;
    }
    setup.robot.version += 1;
    setup.robot.updated_at = now;
    setup.robot.updated_by = Some(by);
    setup.shop.robot_on = input.on;
    store.save_robot(input.on, &setup.robot).await?;
    Ok(robot_view(&setup))
}
