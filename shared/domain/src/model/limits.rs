//! Abuse limits per buyer: how many messages a minute, how many new conversations a shop may get
//! from one buyer in a Beijing day. A limit is an allowance: a counter for one window, taken one at
//! a time and refused (429 with `Retry-After`) once used up; the store keeps it and drops it after
//! its window.

use crate::error::{Error, Result};
use crate::model::ids::{ShopId, UserId};
use crate::model::time::{Millis, DAY, HOUR, MINUTE};

/// The limits in force (the functions read them from their environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A buyer's messages per minute, over all conversations.
    pub messages_per_minute: u32,
    /// New conversations one buyer may open in one shop per Beijing day.
    pub conversations_per_shop_per_day: u32,
}

impl Default for Limits {
    /// Well above a person typing (one message every 2 s for a minute) and a day of shopping,
    /// well below a script burying a shop's queue.
    fn default() -> Self {
        Limits {
            messages_per_minute: 30,
            conversations_per_shop_per_day: 20,
        }
    }
}

impl Limits {
    /// Both limits must allow at least one.
    pub fn new(messages_per_minute: u32, conversations_per_shop_per_day: u32) -> Result<Self> {
        if messages_per_minute == 0 {
            return Err(Error::invalid("messages_per_minute", "must be at least 1"));
        }
        if conversations_per_shop_per_day == 0 {
            return Err(Error::invalid(
                "conversations_per_shop_per_day",
                "must be at least 1",
            ));
        }
        Ok(Limits {
            messages_per_minute,
            conversations_per_shop_per_day,
        })
    }
}

/// What an allowance counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counted {
    /// The buyer's messages.
    Messages,
    /// New conversations the buyer opened in this shop.
    Conversations(ShopId),
}

/// One buyer's allowance for one window: at most `max` uses in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub buyer: UserId,
    pub counted: Counted,
    pub start: Millis,
    pub end: Millis,
    pub max: u32,
}

/// Beijing is UTC+8: its day starts at 16:00 UTC.
const BEIJING_OFFSET: Millis = 8 * HOUR;

impl Allowance {
    /// The buyer's messages in the current minute.
    pub fn message(limits: &Limits, buyer: &UserId, now: Millis) -> Self {
        let start = now - now.rem_euclid(MINUTE);
        Allowance {
            buyer: buyer.clone(),
            counted: Counted::Messages,
            start,
            end: start + MINUTE,
            max: limits.messages_per_minute,
        }
    }

    /// The buyer's new conversations in this shop on the current Beijing day.
    pub fn conversation(limits: &Limits, buyer: &UserId, shop: &ShopId, now: Millis) -> Self {
        let start = now - (now + BEIJING_OFFSET).rem_euclid(DAY);
        Allowance {
            buyer: buyer.clone(),
            counted: Counted::Conversations(shop.clone()),
            start,
            end: start + DAY,
            max: limits.conversations_per_shop_per_day,
        }
    }

    /// Whole seconds until the window ends (at least 1): the `Retry-After` of a refusal.
    pub fn retry_after_seconds(&self, now: Millis) -> u64 {
        let ms = (self.end - now).max(1);
        ((ms + 999) / 1000) as u64
    }

    /// The refusal once this allowance is used up.
    pub fn refused(&self, now: Millis) -> Error {
        let what = match self.counted {
            Counted::Messages => {
                format!("消息发送过于频繁：每分钟最多 {} 条，请稍后再试", self.max)
            }
            Counted::Conversations(_) => format!(
                "今天在本店新开的会话已达上限（{} 个），请在原会话中继续咨询",
                self.max
            ),
        };
        Error::TooMany {
            what,
            retry_after_seconds: self.retry_after_seconds(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::utc;

    fn buyer() -> UserId {
        UserId::parse("buyer-1").unwrap()
    }

    #[test]
    fn the_message_window_is_the_current_minute() {
        let now = utc("2026-12-03T05:10:42.250Z");
        let a = Allowance::message(&Limits::default(), &buyer(), now);
        assert_eq!(a.start, utc("2026-12-03T05:10:00Z"));
        assert_eq!(a.end, utc("2026-12-03T05:11:00Z"));
        assert_eq!(a.max, 30);
        // 17.75 s left: the buyer is told 18.
        assert_eq!(a.retry_after_seconds(now), 18);
        assert_eq!(a.retry_after_seconds(a.end), 1);
    }

    #[test]
    fn the_conversation_window_is_the_beijing_day() {
        let shop = ShopId::parse("shop-1").unwrap();
        // 23:30 in Beijing on 3 December: the day began at 16:00 UTC on 2 December.
        let now = utc("2026-12-03T15:30:00Z");
        let a = Allowance::conversation(&Limits::default(), &buyer(), &shop, now);
        assert_eq!(a.start, utc("2026-12-02T16:00:00Z"));
        assert_eq!(a.end, utc("2026-12-03T16:00:00Z"));
        assert_eq!(a.retry_after_seconds(now), 1800);
        // 00:10 in Beijing on 4 December is a new day.
        let next = Allowance::conversation(&Limits::default(), &buyer(), &shop, a.end + 600_000);
        assert_eq!(next.start, a.end);
    }

    #[test]
    fn a_refusal_is_too_many_with_its_retry_after() {
        let now = utc("2026-12-03T05:10:42Z");
        let a = Allowance::message(&Limits::default(), &buyer(), now);
        match a.refused(now) {
            Error::TooMany {
                retry_after_seconds,
                what,
            } => {
                assert_eq!(retry_after_seconds, 18);
                assert!(what.contains("30"), "{what}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_limit_of_zero_is_refused() {
        assert!(Limits::new(0, 5).is_err());
        assert!(Limits::new(5, 0).is_err());
        assert_eq!(Limits::new(30, 20).unwrap(), Limits::default());
    }
}
