//! A conversation step (`Step`): the one way a conversation changes. A use case opens a step over
//! the conversation it read, says what happened in the domain's words (the buyer said, an agent
//! answered, a card went out, the buyer now waits, a handoff, a count, a compensation), and
//! commits it: one versioned, all-or-nothing write. [`retry_on_conflict`] wraps every writing use
//! case, so a lost race re-reads and runs the step again.

use crate::error::{Error, Result};
use crate::model::card::PredictionCard;
use crate::model::compensation::DueCompensation;
use crate::model::conversation::{Conversation, LastIntent, Message};
use crate::model::ids::{OrderId, UserId};
use crate::model::time::Millis;
use crate::model::usage::{SolutionEvent, StatEvent};
use crate::ports::{ConversationChange, ConversationStore};
use std::future::Future;

/// How often a use case re-reads and retries when another writer changed the conversation first.
pub(crate) const COMMIT_ATTEMPTS: usize = 3;

/// Runs `attempt` again (it re-reads) while it ends in a conflict, at most [`COMMIT_ATTEMPTS`]
/// times; the last conflict is the answer (409).
pub(crate) async fn retry_on_conflict<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(Error::Conflict(_)) if tries < COMMIT_ATTEMPTS => continue,
            other => return other,
        }
    }
}

/// Everything one step changes in a conversation, committed together.
#[derive(Debug)]
pub(crate) struct Step {
    conversation: Conversation,
    messages: Vec<Message>,
    stats: Vec<StatEvent>,
    compensations: Vec<DueCompensation>,
    now: Millis,
}

impl Step {
    /// A step over the conversation as read (or just opened, version 0), at `now`.
    pub fn new(conversation: Conversation, now: Millis) -> Self {
        Step {
            conversation,
            messages: Vec::new(),
            stats: Vec::new(),
            compensations: Vec::new(),
            now,
        }
    }

    /// The conversation as this step has changed it so far.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    /// A message of this step (the buyer's words, a card, the robot's answer, a notice).
    pub fn says(&mut self, message: Message) {
        self.messages.push(message);
    }

    /// The buyer asked a confident question: it becomes the conversation's question.
    pub fn asks(&mut self, question: LastIntent) {
        self.conversation.last_intent = Some(question);
    }

    /// The prediction card went out with `message`; it waits for the buyer's answer.
    pub fn card_sent(&mut self, card: PredictionCard, message: Message) {
        self.conversation.open_card = Some(card);
        self.says(message);
    }

    /// The question is settled against `order`: its compensation is judged for that order
    /// only, whatever is named after. Unsettled until then; settled once.
    pub fn settles(&mut self, order: &OrderId) {
        if let Some(question) = &mut self.conversation.last_intent {
            question.settled.get_or_insert_with(|| order.clone());
        }
    }

    /// The buyer named the order (answered the card or sent an order card).
    pub fn order_named(&mut self, order: OrderId) {
        self.conversation.confirmed_order = Some(order);
        self.conversation.open_card = None;
    }

    /// The buyer now waits for a person, from now, unless they already do; the queue shows
    /// `preview` from then on.
    pub fn buyer_waits(&mut self, preview: Option<String>) {
        if self.conversation.waiting_since.is_none() {
            self.conversation.waiting_since = Some(self.now);
            self.conversation.preview = preview;
        }
    }

    /// An agent answered with `message`: they serve the conversation, and the buyer stops waiting.
    pub fn agent_answered(&mut self, agent: &UserId, message: Message) {
        self.conversation.serving_agent = Some(agent.clone());
        self.conversation.waiting_since = None;
        self.says(message);
    }

    /// The buyer asked for a person (转人工): the robot stays out from now on.
    pub fn hand_off(&mut self, notice: Message) {
        self.conversation.handed_off = true;
        self.says(notice);
    }

    /// A usage count, written with the change.
    pub fn count(&mut self, stat: StatEvent) {
        self.stats.push(stat);
    }

    /// The "shown" count a panel's solution earns: once per solution put in front of the agents
    /// of a conversation, however often the panel is fetched. False when there is nothing new.
    pub fn shown(&mut self, solution_id: Option<&str>) -> bool {
        let Some(solution_id) = solution_id else {
            return false;
        };
        if self.conversation.shown_solution.as_deref() == Some(solution_id) {
            return false;
        }
        self.conversation.shown_solution = Some(solution_id.to_string());
        self.count(StatEvent {
            shop: self.conversation.shop_id.clone(),
            solution_id: solution_id.to_string(),
            event: SolutionEvent::Shown,
        });
        true
    }

    /// A compensation this step earned (written only if the order has none yet).
    pub fn owes(&mut self, due: Option<DueCompensation>) {
        self.compensations.extend(due);
    }

    /// Writes the step: the next version over the one read (or a new conversation), with its
    /// messages, counts and compensations, all or nothing; `Error::Conflict` if someone else
    /// changed the conversation first. Returns the conversation as written.
    pub async fn commit<S: ConversationStore>(self, store: &S) -> Result<Conversation> {
        let mut conversation = self.conversation;
        let expected_version = (conversation.version > 0).then_some(conversation.version);
        conversation.version += 1;
        conversation.updated_at = self.now;
        store
            .commit(ConversationChange {
                conversation: conversation.clone(),
                expected_version,
                messages: self.messages,
                stats: self.stats,
                compensations: self.compensations,
            })
            .await?;
        Ok(conversation)
    }
}
