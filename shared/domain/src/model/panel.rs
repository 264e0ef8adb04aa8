//! What the agent's panel (智能助手提示) shows: built by [`crate::usecases::panel`], read by
//! staff over `GET …/panel` and pushed to the staff following a conversation.

use crate::intent::IntentId;
use crate::model::card::OrderSummary;
use crate::model::ids::ConversationId;
use crate::model::solution::Solution;
use serde::{Deserialize, Serialize};

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

impl Panel {
    /// The id of the solution the panel shows, if any.
    pub fn solution_id(&self) -> Option<&str> {
        self.solution.as_ref().map(|s| s.solution_id.as_str())
    }
}
