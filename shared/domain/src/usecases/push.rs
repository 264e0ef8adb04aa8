//! Push connections (issue 17, item 1): a ticket minted for a JWT identity, taken once by the
//! WebSocket `$connect`, the topics the connection follows (checked by [`crate::access::follow`],
//! the same rules as the HTTP routes), and `$disconnect`.

use crate::access;
use crate::error::{Error, Result};
use crate::model::conversation::{Conversation, Message};
use crate::model::identity::Actor;
use crate::model::push::{
    Connection, ConnectionId, Cursor, SubscribeMessage, Ticket, Topic, MAX_SUBSCRIPTIONS,
    TICKET_TTL,
};
use crate::model::time::Millis;
use crate::ports::{ConversationStore, PushStore, ShopStore};
use crate::usecases::fanout::{side, Side};
use crate::usecases::step::retry_on_conflict;
use crate::usecases::support::MESSAGE_PAGE;
use crate::usecases::view::{buyer_view, BuyerMessage, View};
use serde::Serialize;

/// What `POST /push/tickets` answers: the ticket to present as `?ticket=` within `expires_in`
/// seconds.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub ticket: String,
    pub expires_at: Millis,
    pub expires_in: i64,
}

/// Mints a ticket for the caller (buyers and shop staff; 403 for the platform).
pub async fn mint_ticket<S: PushStore>(
    store: &S,
    actor: &Actor,
    now: Millis,
) -> Result<TicketView> {
    access::push_ticket(actor)?;
    let ticket = Ticket::mint(actor, now);
    store.put_ticket(&ticket).await?;
    Ok(TicketView {
        ticket: ticket.ticket,
        expires_at: ticket.expires_at,
        expires_in: TICKET_TTL / 1000,
    })
}

fn no_ticket(why: &str) -> Error {
    Error::Unauthenticated(format!(
        "{why}: connect with ?ticket= from POST /push/tickets (valid {} s, once)",
        TICKET_TTL / 1000
    ))
}

/// `$connect`: takes the ticket (once, unexpired) and stores the connection with its identity.
/// No ticket, a malformed one, an unknown, used or expired one: 401, and nothing stored.
pub async fn connect<S: PushStore>(
    store: &S,
    connection_id: &ConnectionId,
    ticket: Option<&str>,
    now: Millis,
) -> Result<Connection> {
    let raw = ticket.ok_or_else(|| no_ticket("a ticket is required"))?;
    if !Ticket::well_formed(raw) {
        return Err(no_ticket("the ticket is not one"));
    }
    let ticket = store
        .take_ticket(raw)
        .await?
        .filter(|t| t.valid_at(now))
        .ok_or_else(|| no_ticket("the ticket is unknown, used or expired"))?;
    // The identity is checked again as the claims were (a stored one cannot be forged, but may
    // predate a rule).
    let actor = ticket.identity.actor()?;
    access::push_ticket(&actor)?;
    let connection = Connection::open(connection_id.clone(), &ticket, now);
    store.put_connection(&connection).await?;
    Ok(connection)
}

/// What a `subscribe` message answers.
#[derive(Debug, Clone, Serialize)]
pub struct Subscribed {
    pub subscribed: Topic,
    /// False when the connection already followed it (nothing written).
    pub new: bool,
    /// With `after`: the conversation's messages after that cursor, in the identity's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed: Option<CatchUp>,
}

/// The messages a reconnecting client missed: every one after its cursor, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct CatchUp {
    pub messages: View<Vec<BuyerMessage>, Vec<Message>>,
    /// The last message's place (the cursor given, when nothing came after it).
    pub cursor: Cursor,
    /// False when more messages came after the cursor than one read holds
    /// ([`MESSAGE_PAGE`]): the client reads `GET …/messages` instead.
    pub complete: bool,
}

/// The messages after `after` in the conversation, as `side` sees them.
async fn catch_up<S: ConversationStore + ShopStore>(
    store: &S,
    conversation: &Conversation,
    side: Side,
    after: Cursor,
) -> Result<CatchUp> {
    let read = store
        .messages(&conversation.conversation_id, MESSAGE_PAGE)
        .await?;
    // The read is the newest page: if it is full and its oldest is still after the cursor,
    // older missed messages may lie beyond it.
    let complete = read.len() < MESSAGE_PAGE || read.first().is_none_or(|m| !after.before(m));
    let missed: Vec<Message> = read.into_iter().filter(|m| after.before(m)).collect();
    let (messages, last) = match side {
        Side::Staff => {
            let last = missed.last().map(Cursor::of);
            (View::Staff(missed), last)
        }
        Side::Buyer => {
            let shop = store.shop(&conversation.shop_id).await?;
            let seen = buyer_view(shop.as_ref(), &missed);
            let last = seen
                .last()
                .map(|m| Cursor::of_position(m.sent_at, &m.message_id));
            (View::Buyer(seen), last)
        }
    };
    Ok(CatchUp {
        messages,
        cursor: last.unwrap_or(after),
        complete,
    })
}

/// `subscribe`: the topic named, if the connection's identity may see it; 401 for a connection
/// not (or no longer) stored, 400 for a bad message, 403/404 as the HTTP routes answer, 409 past
/// [`MAX_SUBSCRIPTIONS`]. With `after` (a conversation's cursor), the answer carries the messages
/// after it: subscribed first, then read, so that nothing falls between the two.
pub async fn subscribe<S: PushStore + ConversationStore + ShopStore>(
    store: &S,
    connection_id: &ConnectionId,
    message: &SubscribeMessage,
    now: Millis,
) -> Result<Subscribed> {
    let topic = message.topic()?;
    let after = message.cursor()?;
    // A full connection is a refusal of its own, not a lost race to retry: the inner result.
    let outcome = retry_on_conflict(|| async {
        let connection = store
            .connection(connection_id)
            .await?
            .filter(|c| c.live_at(now))
            .ok_or_else(|| {
                Error::Unauthenticated("this connection is not open; connect again".into())
            })?;
        let actor = connection.identity.actor()?;
        let found = match &topic {
            Topic::Conversation(id) => store.conversation(id).await?,
            Topic::Queue(_) => None,
        };
        access::follow(&actor, &topic, found.clone())?;
        let seen = found.map(|c| (side(&connection.identity, &c.shop_id, &c.buyer_id), c));
        if connection.topics.contains(&topic) {
            return Ok(Ok((
                Subscribed {
                    subscribed: topic.clone(),
                    new: false,
                    missed: None,
                },
                seen,
            )));
        }
        if connection.topics.len() >= MAX_SUBSCRIPTIONS {
            return Ok(Err(Error::Conflict(format!(
                "a connection follows at most {MAX_SUBSCRIPTIONS} topics"
            ))));
        }
        store.subscribe(&connection, &topic).await?;
        Ok(Ok((
            Subscribed {
                subscribed: topic.clone(),
                new: true,
                missed: None,
            },
            seen,
        )))
    })
    .await?;
    let (mut subscribed, seen) = outcome?;
    if let (Some(after), Some((Some(side), conversation))) = (after, seen) {
        subscribed.missed = Some(catch_up(store, &conversation, side, after).await?);
    }
    Ok(subscribed)
}

/// `$disconnect`: the connection and its subscriptions are removed (also when already gone).
pub async fn disconnect<S: PushStore>(store: &S, connection_id: &ConnectionId) -> Result<()> {
    store.disconnect(connection_id).await
}
