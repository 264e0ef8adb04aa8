//! Push connections (issue 17, item 1): a ticket minted for a JWT identity, taken once by the
//! WebSocket `$connect`, the topics the connection follows (checked by [`crate::access::follow`],
//! the same rules as the HTTP routes), and `$disconnect`.

use crate::access;
use crate::error::{Error, Result};
use crate::model::identity::Actor;
use crate::model::push::{
    Connection, ConnectionId, SubscribeMessage, Ticket, Topic, MAX_SUBSCRIPTIONS, TICKET_TTL,
};
use crate::model::time::Millis;
use crate::ports::{ConversationStore, PushStore};
use crate::usecases::step::retry_on_conflict;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscribed {
    pub subscribed: Topic,
    /// False when the connection already followed it (nothing written).
    pub new: bool,
}

/// `subscribe`: the topic named, if the connection's identity may see it; 401 for a connection
/// not (or no longer) stored, 400 for a bad message, 403/404 as the HTTP routes answer, 409 past
/// [`MAX_SUBSCRIPTIONS`].
pub async fn subscribe<S: PushStore + ConversationStore>(
    store: &S,
    connection_id: &ConnectionId,
    message: &SubscribeMessage,
    now: Millis,
) -> Result<Subscribed> {
    let topic = message.topic()?;
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
        access::follow(&actor, &topic, found)?;
        if connection.topics.contains(&topic) {
            return Ok(Ok(Subscribed {
                subscribed: topic.clone(),
                new: false,
            }));
        }
        if connection.topics.len() >= MAX_SUBSCRIPTIONS {
            return Ok(Err(Error::Conflict(format!(
                "a connection follows at most {MAX_SUBSCRIPTIONS} topics"
            ))));
        }
        store.subscribe(&connection, &topic).await?;
        Ok(Ok(Subscribed {
            subscribed: topic.clone(),
            new: true,
        }))
    })
    .await?;
    outcome
}

/// `$disconnect`: the connection and its subscriptions are removed (also when already gone).
pub async fn disconnect<S: PushStore>(store: &S, connection_id: &ConnectionId) -> Result<()> {
    store.disconnect(connection_id).await
}
