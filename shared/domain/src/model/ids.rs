//! Validated identifiers. Parse at the edge, then carry the typed value.
//!
//! Ids become parts of DynamoDB keys joined with `#`, so none may contain `#`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr, $rule:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The rule, as told to a client whose value breaks it.
            pub const RULE: &'static str = $rule;

            pub fn parse(raw: impl Into<String>) -> Result<Self> {
                let raw: String = raw.into();
                let check: fn(&str) -> bool = $check;
                if check(&raw) {
                    Ok(Self(raw))
                } else {
                    Err(Error::invalid($field, format!("must be {}", $rule)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

id_type!(
    /// A shop (店铺).
    ShopId, "shop_id", |s| slug(s, 64), "1-64 characters of letters, digits, '-' or '_'"
);
id_type!(
    /// A person: buyer, agent, admin or operator; the JWT `sub`.
    UserId, "sub", |s| !s.is_empty() && s.len() <= 128 && !s.contains('#') && !s.chars().any(char::is_control),
    "1-128 characters without '#' or control characters"
);
id_type!(
    /// A chat conversation (会话). Minted by the server when a buyer opens one
    /// ([`ConversationId::mint`]); a client never chooses it.
    ConversationId, "conversation_id", |s| slug(s, 64), "1-64 characters of letters, digits, '-' or '_'"
);
id_type!(
    /// An order number (订单号): digits only.
    OrderId, "order_id", |s| (6..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()),
    "6-24 digits"
);
id_type!(
    /// A prediction card (订单预测卡片), or any id we mint ourselves.
    CardId, "card_id", |s| slug(s, 64), "1-64 characters of letters, digits, '-' or '_'"
);
id_type!(
    /// A message in a conversation.
    MessageId, "message_id", |s| slug(s, 64), "1-64 characters of letters, digits, '-' or '_'"
);

/// A fresh random id for things we create (messages, cards).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl MessageId {
    pub fn generate() -> Self {
        Self(new_id())
    }
}

impl ConversationId {
    /// A new conversation's id: `c` and 32 hex digits of a version-4 UUID (122 random bits from
    /// the operating system's generator), so nobody can guess, probe or take another's id.
    pub fn mint() -> Self {
        Self(format!("c{}", new_id()))
    }

    /// The id of the conversation `buyer` opens with the retry key `key` (`Idempotency-Key`): the
    /// same for every retry of that request, so a retry meets the conversation its lost answer
    /// opened. The buyer's account is hashed in (a version-5 UUID): another buyer's same key is
    /// another id, and only this buyer can ever open or reach this one, so knowing it gives nobody
    /// anything.
    pub fn for_retry(buyer: &UserId, key: &str) -> Self {
        // The project's own namespace for these names.
        const NAMESPACE: uuid::Uuid =
            uuid::Uuid::from_u128(0x5d1f_3a0e_8b2c_4e71_9a46_c0f2_7b18_e963);
        let name = format!("{buyer}\u{0}{key}");
        let id = uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes());
        Self(format!("c{}", id.simple()))
    }
}

impl CardId {
    pub fn generate() -> Self {
        Self(new_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_are_digits_of_sane_length() {
        assert!(OrderId::parse("6912345678901234567").is_ok());
        assert!(OrderId::parse("12345").is_err());
        assert!(OrderId::parse("12345a789").is_err());
        assert!(OrderId::parse("1".repeat(25)).is_err());
    }

    #[test]
    fn no_id_may_carry_the_key_separator() {
        assert!(ShopId::parse("shop#1").is_err());
        assert!(UserId::parse("buyer#1").is_err());
        assert!(ConversationId::parse("").is_err());
        assert!(UserId::parse("买家-1").is_ok());
    }

    #[test]
    fn minted_conversation_ids_are_fresh_and_keep_the_rule() {
        let (a, b) = (ConversationId::mint(), ConversationId::mint());
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.as_str().len(), 33, "{id}");
            assert!(id.as_str().starts_with('c'), "{id}");
            assert!(
                id.as_str()[1..].bytes().all(|b| b.is_ascii_hexdigit()),
                "{id}"
            );
            assert_eq!(&ConversationId::parse(id.as_str()).unwrap(), id);
        }
    }

    #[test]
    fn a_retry_keys_id_is_stable_and_the_buyers_own() {
        let (zhang, li) = (
            UserId::parse("buyer-zhang").unwrap(),
            UserId::parse("buyer-li").unwrap(),
        );
        let id = ConversationId::for_retry(&zhang, "k-1");
        assert_eq!(id, ConversationId::for_retry(&zhang, "k-1"));
        assert_ne!(id, ConversationId::for_retry(&zhang, "k-2"));
        assert_ne!(id, ConversationId::for_retry(&li, "k-1"));
        assert_eq!(id.as_str().len(), 33);
        assert!(ConversationId::parse(id.as_str()).is_ok());
    }

    #[test]
    fn bad_ids_name_the_field_and_the_rule() {
        let err = ShopId::parse("a b").unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().starts_with("shop_id: must be 1-64"));
    }

    #[test]
    fn ids_deserialize_through_the_same_rule() {
        assert!(serde_json::from_str::<OrderId>("\"123456\"").is_ok());
        assert!(serde_json::from_str::<OrderId>("\"12x456\"").is_err());
    }
}
