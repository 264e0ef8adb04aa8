//! Usage counts (采纳数据): how agents use the assistant's solutions, per shop and solution.

use crate::model::ids::ShopId;
use serde::{Deserialize, Serialize};

/// How an agent used a solution (recorded per shop and solution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolutionEvent {
    Shown,
    Copied,
    Sent,
    EditedSent,
    /// 我要反馈: an agent said the solution was wrong.
    Feedback,
}

impl SolutionEvent {
    pub const ALL: [SolutionEvent; 5] = [
        SolutionEvent::Shown,
        SolutionEvent::Copied,
        SolutionEvent::Sent,
        SolutionEvent::EditedSent,
        SolutionEvent::Feedback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SolutionEvent::Shown => "shown",
            SolutionEvent::Copied => "copied",
            SolutionEvent::Sent => "sent",
            SolutionEvent::EditedSent => "edited_sent",
            SolutionEvent::Feedback => "feedback",
        }
    }
}

/// One count to add, in the same write as the conversation change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatEvent {
    pub shop: ShopId,
    pub solution_id: String,
    pub event: SolutionEvent,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolutionStats {
    pub shown: u64,
    pub copied: u64,
    pub sent: u64,
    pub edited_sent: u64,
    pub feedback: u64,
}

/// The counts of one solution in one shop, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub shop: ShopId,
    /// A solution id ("urge_shipment.overdue"), or an intent id for feedback given without one.
    pub solution_id: String,
    pub stats: SolutionStats,
}
