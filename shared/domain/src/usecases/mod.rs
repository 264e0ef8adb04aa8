//! The use cases, one file each. Every one takes its store and the caller, asks [`crate::access`]
//! who may do it, reads through [`crate::ports`], decides with the rules of [`crate::model`], and
//! writes one atomic change. The handlers call the functions re-exported here.
//!
//! Dependencies point one way: `support`, `step` and `panel` are used by the others; `support` and
//! `step` use none of the rest, `panel` only those two. A conversation changes only through a
//! `Step`, and every writing use case runs in one `retry_on_conflict`. `view` uses the others and
//! only the push side uses it (`fanout`, `push`): it turns their answers into what each role
//! receives. `order_events` uses `panel` and `fanout`'s side check (an order moved on: the panels
//! of its conversations, shown to the staff who follow them). A committed step announces itself
//! through the store's `Announce` port, which the adapters implement with `fanout` (so no use case
//! calls `fan_out`).

pub mod adoption;
pub mod compensation;
pub mod fanout;
pub mod feedback;
pub mod intake;
pub mod order_card;
pub mod order_events;
pub mod panel;
pub mod push;
pub mod queue;
pub mod replies;
pub mod report;
pub mod robot;
pub mod shops;
pub mod staff_reply;
mod step;
mod support;
pub mod use_solution;
pub mod view;

pub use crate::model::panel::{IntentView, Panel, PanelState};
pub use adoption::{adoption, solution_stats, Adoption, AdoptionRow};
pub use compensation::{sweep, Backoff, SweepError, PAY_ATTEMPTS, SWEEP_PAGE};
pub use fanout::{fan_out, ConversationPush, Delivery, PushKind, QueuePush, PARALLEL_POSTS};
pub use feedback::{list_feedback, post_feedback, screenshot, FeedbackQuery};
pub use intake::{
    list_messages, open_conversation, open_conversation_once, post_buyer_message, IntakeOutcome,
    OpenConversation, Opening, PostMessage, FOLLOW_UP_WINDOW,
};
pub use order_card::{open_card, select_order, SelectOrder, SelectionOutcome, SelectionVia};
pub use order_events::{
    apply_order_event, show_moved_panels, KnownShops, MovedPanels, ORDER_CONVERSATIONS,
};
pub use panel::panel;
pub use push::{connect, disconnect, mint_ticket, subscribe, CatchUp, Subscribed, TicketView};
pub use queue::{queue, Queue, Waiting, QUEUE_LIMIT};
pub use replies::{
    edit_replies, edit_robot, get_replies, get_robot, EditReplies, EditRobot, RepliesView,
    RobotView, SolutionReplies, HISTORY_SHOWN,
};
pub use report::payout_report;
pub use robot::{rate_robot, RateRobot, Rating, RatingOutcome, HANDOFF_NOTICE};
pub use shops::{
    ledger, onboard_shop, top_up, AgentView, Onboarded, ShopView, TopUpResult, DEFAULT_LEDGER_PAGE,
    MAX_LEDGER_PAGE, TOP_UP_ATTEMPTS,
};
pub use staff_reply::{post_staff_message, StaffOutcome};
pub use support::MESSAGE_PAGE;
pub use use_solution::{action_message, use_solution, UseKind, UseOutcome, UseSolution};
pub use view::{
    BuyerBody, BuyerCard, BuyerIntake, BuyerMessage, BuyerMessages, BuyerOpened, BuyerRating,
    BuyerReopened, BuyerSelection, BuyerSender, OpenAnswer, StaffMessages, View,
};
