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
use crate::model::panel::Panel;
use crate::model::time::Millis;
use crate::model::usage::{SolutionEvent, StatEvent};
use crate::ports::{
    Announce, ConversationChange, ConversationStore, News, QueueNews, WaitingConversation,
};
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
    /// The conversation as read: what the step's news is measured against.
    read: Conversation,
    conversation: Conversation,
    messages: Vec<Message>,
    stats: Vec<StatEvent>,
    compensations: Vec<DueCompensation>,
    /// The agent's panel this step built, told to the staff following the conversation.
    panel: Option<Panel>,
    now: Millis,
}

impl Step {
    /// A step over the conversation as read (or just opened, version 0), at `now`.
    pub fn new(conversation: Conversation, now: Millis) -> Self {
        Step {
            read: conversation.clone(),
            conversation,
            messages: Vec::new(),
            stats: Vec::new(),
            compensations: Vec::new(),
            panel: None,
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
    fn shown(&mut self, solution_id: Option<&str>) -> bool {
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

    /// The panel as this step leaves it (built over [`Step::conversation`]): its solution is
    /// counted shown ([`Step::shown`]), and the staff following the conversation receive it with
    /// the step's news, so that no follower reads it back. True when its solution is new to
    /// the conversation.
    pub fn shows(&mut self, panel: &Panel) -> bool {
        self.panel = Some(panel.clone());
        self.shown(panel.solution_id())
    }

    /// A compensation this step earned (written only if the order has none yet).
    pub fn owes(&mut self, due: Option<DueCompensation>) {
        self.compensations.extend(due);
    }

    /// What the step tells the conversation's followers once written (as `version`): its
    /// messages, whether the panel's inputs moved (the question, the order, the card, the
    /// solution shown, the handoff), with the panel when the step built it, and the queue
    /// entry's change. A new solution shown is news: the order moved to another node since the
    /// panel was last told (an order event, or its promised time passed).
    fn news(&self, version: u64) -> News {
        let (was, now) = (&self.read, &self.conversation);
        let panel_changed = was.last_intent != now.last_intent
            || was.confirmed_order != now.confirmed_order
            || was.open_card.as_ref().map(|c| &c.card_id)
                != now.open_card.as_ref().map(|c| &c.card_id)
            || was.shown_solution != now.shown_solution
            || was.handed_off != now.handed_off
            || was.version == 0;
        let queue = match (WaitingConversation::of(was), WaitingConversation::of(now)) {
            (before, Some(after)) if before.as_ref() != Some(&after) => QueueNews::Waits(after),
            (Some(_), None) => QueueNews::Served,
            _ => QueueNews::Unchanged,
        };
        News {
            conversation_id: now.conversation_id.clone(),
            shop_id: now.shop_id.clone(),
            buyer_id: now.buyer_id.clone(),
            messages: self.messages.clone(),
            panel_changed,
            panel: self.panel.clone().filter(|_| panel_changed),
            version,
            queue,
            at: self.now,
        }
    }

    /// Writes the step: the next version over the one read (or a new conversation), with its
    /// messages, counts and compensations, all or nothing; `Error::Conflict` if someone else
    /// changed the conversation first. Returns the conversation as written. Once written, the
    /// change is announced to its followers ([`Announce`]): after the write, never failing it.
    pub async fn commit<S: ConversationStore + Announce>(self, store: &S) -> Result<Conversation> {
        let news = self.news(self.conversation.version + 1);
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
        if !news.is_empty() {
            // Boxed in its own frame: the fan-out's future never sits in every writer's (a
            // debug build's test thread is small).
            Box::pin(store.announce(news)).await;
        }
        Ok(conversation)
    }
}
