//! Push (issue 17): a WebSocket connection opened with a short-lived, single-use ticket, and what
//! it follows. Plain types and rules; who may follow what is decided in [`crate::access`].
//!
//! - A **ticket** is minted for the caller of `POST /push/tickets` (their JWT identity), lives
//!   [`TICKET_TTL`] and is taken (removed) by the first `$connect` that presents it.
//! - A **connection** carries the identity its ticket had, until `$disconnect` or its
//!   [`CONNECTION_TTL`] (API Gateway closes a WebSocket after two hours).
//! - A **topic** is what a connection follows: one conversation, or one shop's queue.

use crate::error::{Error, Result};
use crate::model::conversation::Message;
use crate::model::identity::{Actor, Role};
use crate::model::ids::{ConversationId, MessageId, ShopId, UserId};
use crate::model::time::{Millis, HOUR, MINUTE};
use serde::{Deserialize, Serialize};

/// How long a ticket may wait for its `$connect`.
pub const TICKET_TTL: Millis = MINUTE;
/// How long a connection is kept: API Gateway's limit of two hours per WebSocket connection, and
/// ten minutes for a `$disconnect` that never came (a missed one is removed by DynamoDB's TTL).
pub const CONNECTION_TTL: Millis = 2 * HOUR + 10 * MINUTE;
/// The topics one connection may follow at once (a console follows its open conversation and its
/// queue; a buyer's app their open conversations).
pub const MAX_SUBSCRIPTIONS: usize = 20;
/// A ticket's length: 64 lowercase hexadecimal digits (256 random bits from two v4 UUIDs' 244).
pub const TICKET_LEN: usize = 64;

/// The identity a ticket and its connection carry: the JWT claims that minted the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub sub: UserId,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<ShopId>,
}

impl Identity {
    pub fn of(actor: &Actor) -> Self {
        let shop_id = match actor {
            Actor::Agent { shop, .. } | Actor::ShopAdmin { shop, .. } => Some(shop.clone()),
            Actor::Buyer(_) | Actor::Platform(_) => None,
        };
        Identity {
            sub: actor.user().clone(),
            role: actor.role(),
            shop_id,
        }
    }

    /// The actor again, checked as the claims were.
    pub fn actor(&self) -> Result<Actor> {
        let role = match self.role {
            Role::Buyer => "buyer",
            Role::Agent => "agent",
            Role::ShopAdmin => "shop_admin",
            Role::Platform => "platform",
        };
        Actor::from_claims(
            Some(self.sub.as_str()),
            Some(role),
            self.shop_id.as_ref().map(ShopId::as_str),
        )
    }
}

/// A ticket as stored: its value, whose it is, and until when it may be taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub ticket: String,
    pub identity: Identity,
    pub expires_at: Millis,
}

impl Ticket {
    /// A fresh ticket for the actor, valid for [`TICKET_TTL`] from `now`.
    pub fn mint(actor: &Actor, now: Millis) -> Self {
        let ticket = format!(
            "{}{}",
            crate::model::ids::new_id(),
            crate::model::ids::new_id()
        );
        Ticket {
            ticket,
            identity: Identity::of(actor),
            expires_at: now + TICKET_TTL,
        }
    }

    /// Whether a presented value has a ticket's shape (anything else is never looked up).
    pub fn well_formed(raw: &str) -> bool {
        raw.len() == TICKET_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    /// Whether it may still be taken at `now`.
    pub fn valid_at(&self, now: Millis) -> bool {
        now < self.expires_at
    }
}

/// An API Gateway WebSocket connection id (`L0SM9cOFvHcCIhw=`): letters, digits and `=+/_-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectionId(String);

impl ConnectionId {
    pub const RULE: &'static str = "1-128 characters of letters, digits or '=+/_-'";

    pub fn parse(raw: impl Into<String>) -> Result<Self> {
        let raw: String = raw.into();
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=+/_-".contains(&b));
        if ok {
            Ok(ConnectionId(raw))
        } else {
            Err(Error::invalid(
                "connection_id",
                format!("must be {}", Self::RULE),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectionId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(value)
    }
}

impl From<ConnectionId> for String {
    fn from(value: ConnectionId) -> String {
        value.0
    }
}

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a connection follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Every change of one conversation.
    Conversation(ConversationId),
    /// A shop's queue of waiting buyers.
    Queue(ShopId),
}

/// A connection that follows a topic, with the identity it carries (the fan-out sends each its
/// role's view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub connection_id: ConnectionId,
    pub identity: Identity,
}

/// A message's place in its conversation (its sort position: when it was sent, then its id),
/// written `{sent_at:013}.{message_id}`: pushed with every message, and given back as
/// `subscribe`'s `after` by a client that reconnects, which then receives every message after it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cursor {
    sent_at: Millis,
    message_id: MessageId,
}

impl Cursor {
    pub const RULE: &'static str =
        "a cursor a push or subscribe answer gave: 13 digits, '.', a message id";

    /// The position of a message.
    pub fn of(message: &Message) -> Self {
        Self::of_position(message.sent_at, &message.message_id)
    }

    /// The position of the message sent at `sent_at` with this id.
    pub fn of_position(sent_at: Millis, message_id: &MessageId) -> Self {
        Cursor {
            sent_at,
            message_id: message_id.clone(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        let bad = || Error::invalid("after", format!("must be {}", Self::RULE));
        let (at, id) = raw.split_once('.').ok_or_else(bad)?;
        if at.len() != 13 || !at.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(Cursor {
            sent_at: at.parse().map_err(|_| bad())?,
            message_id: MessageId::parse(id).map_err(|_| bad())?,
        })
    }

    /// Whether the message comes after this position.
    pub fn before(&self, message: &Message) -> bool {
        *self < Cursor::of(message)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:013}.{}", self.sent_at, self.message_id.as_str())
    }
}

impl TryFrom<String> for Cursor {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<Cursor> for String {
    fn from(value: Cursor) -> String {
        value.to_string()
    }
}

/// A connection as stored: its identity and the topics it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub connection_id: ConnectionId,
    pub identity: Identity,
    pub connected_at: Millis,
    /// When the store may forget it (DynamoDB's TTL), whether or not `$disconnect` came.
    pub expires_at: Millis,
    pub topics: Vec<Topic>,
}

impl Connection {
    /// A new connection opened with this ticket's identity at `now`.
    pub fn open(connection_id: ConnectionId, ticket: &Ticket, now: Millis) -> Self {
        Connection {
            connection_id,
            identity: ticket.identity.clone(),
            connected_at: now,
            expires_at: now + CONNECTION_TTL,
            topics: Vec::new(),
        }
    }

    /// Whether it still counts at `now` (the TTL deletes within days, not at once).
    pub fn live_at(&self, now: Millis) -> bool {
        now < self.expires_at
    }
}

/// A `subscribe` message: `{"action": "subscribe", "conversation_id"}` or
/// `{"action": "subscribe", "queue": shop_id}`, exactly one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeMessage {
    pub action: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    /// For a conversation: the cursor of the last message the client has; the answer carries
    /// every message after it (a reconnecting client loses nothing).
    #[serde(default)]
    pub after: Option<String>,
}

impl SubscribeMessage {
    /// The catch-up cursor, if one was given (a conversation's only; 400 otherwise).
    pub fn cursor(&self) -> Result<Option<Cursor>> {
        match (&self.after, &self.queue) {
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(Error::invalid(
                "after",
                "catches up a conversation's messages; a queue has none",
            )),
            (Some(raw), None) => Cursor::parse(raw).map(Some),
        }
    }

    /// The topic asked for, or a 400 naming the field.
    pub fn topic(&self) -> Result<Topic> {
        if self.action != "subscribe" {
            return Err(Error::invalid("action", "must be \"subscribe\""));
        }
        match (&self.conversation_id, &self.queue) {
            (Some(c), None) => Ok(Topic::Conversation(ConversationId::parse(c.as_str())?)),
            (None, Some(q)) => Ok(Topic::Queue(ShopId::parse(q.as_str()).map_err(|_| {
                Error::invalid("queue", format!("must be a shop id: {}", ShopId::RULE))
            })?)),
            (Some(_), Some(_)) => Err(Error::invalid(
                "body",
                "name either conversation_id or queue, not both",
            )),
            (None, None) => Err(Error::invalid(
                "body",
                "name what to follow: conversation_id or queue",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(sub: &str, role: &str, shop: Option<&str>) -> Actor {
        Actor::from_claims(Some(sub), Some(role), shop).unwrap()
    }

    #[test]
    fn a_ticket_is_long_random_and_lives_a_minute() {
        let a = actor("buyer-1", "buyer", None);
        let t = Ticket::mint(&a, 1_000);
        assert!(Ticket::well_formed(&t.ticket), "{}", t.ticket);
        assert_ne!(t.ticket, Ticket::mint(&a, 1_000).ticket);
        assert!(t.valid_at(1_000 + TICKET_TTL - 1));
        assert!(!t.valid_at(1_000 + TICKET_TTL));
        for bad in ["", "abc", &"A".repeat(64), &"g".repeat(64), &"a".repeat(65)] {
            assert!(!Ticket::well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn an_identity_turns_back_into_its_actor() {
        for a in [
            actor("buyer-1", "buyer", None),
            actor("agent-1", "agent", Some("shop-1")),
            actor("admin-1", "shop_admin", Some("shop-1")),
            actor("ops", "platform", None),
        ] {
            assert_eq!(Identity::of(&a).actor().unwrap(), a);
        }
    }

    #[test]
    fn connection_ids_are_api_gateways() {
        assert!(ConnectionId::parse("L0SM9cOFvHcCIhw=").is_ok());
        assert!(ConnectionId::parse("").is_err());
        assert!(ConnectionId::parse("a#b").is_err());
        assert!(ConnectionId::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn a_cursor_orders_messages_as_they_are_stored() {
        let at = |t: Millis, id: &str| {
            let mut m = Message::new(
                &ConversationId::parse("c1").unwrap(),
                crate::model::conversation::Sender::System,
                crate::model::conversation::MessageBody::Text { text: "x".into() },
                t,
            );
            m.message_id = MessageId::parse(id).unwrap();
            m
        };
        let c = Cursor::of(&at(1_000, "m2"));
        assert_eq!(c.to_string(), "0000000001000.m2");
        assert_eq!(Cursor::parse(&c.to_string()).unwrap(), c);
        assert!(c.before(&at(1_000, "m3")));
        assert!(c.before(&at(1_001, "m1")));
        assert!(!c.before(&at(1_000, "m2")));
        assert!(!c.before(&at(999, "m9")));
        for bad in [
            "",
            "1000.m2",
            "0000000001000",
            "0000000001000.",
            "000000000100x.m2",
            "0000000001000.m#2",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_subscribe_message_names_one_topic() {
        let parse = |v: serde_json::Value| {
            serde_json::from_value::<SubscribeMessage>(v)
                .map_err(|e| e.to_string())
                .and_then(|m| m.topic().map_err(|e| e.to_string()))
        };
        assert_eq!(
            parse(serde_json::json!({"action": "subscribe", "conversation_id": "c1"})),
            Ok(Topic::Conversation(ConversationId::parse("c1").unwrap()))
        );
        assert_eq!(
            parse(serde_json::json!({"action": "subscribe", "queue": "s1"})),
            Ok(Topic::Queue(ShopId::parse("s1").unwrap()))
        );
        for bad in [
            serde_json::json!({"action": "subscribe"}),
            serde_json::json!({"action": "subscribe", "queue": "s1", "conversation_id": "c1"}),
            serde_json::json!({"action": "subscribe", "queue": "s#1"}),
            serde_json::json!({"action": "subscribe", "conversation_id": ""}),
            serde_json::json!({"action": "subscribe", "shop": "s1"}),
            serde_json::json!({"action": "follow", "queue": "s1"}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
