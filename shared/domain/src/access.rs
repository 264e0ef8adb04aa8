//! The one access policy: who may do what, and whether a refusal is a 403 or a 404. No other
//! module decides either.
//!
//! Two rules, the same for every operation:
//! - a role that may never use an operation is refused with **403** (`Error::Forbidden`);
//! - a caller whose role may use it, reaching for someone else's conversation, order, feedback,
//!   settings or figures (another buyer's, another shop's), gets **404** (`Error::NotFound`), so
//!   that its existence is not revealed.
//!
//! Reach: a buyer reaches their own conversations; an agent or a shop admin reaches their shop's
//! conversations and data; the platform reaches every shop's data but no conversation.
//!
//! Pure functions over the actor and what was read: the use cases read, then ask here.

use crate::error::{Error, Result};
use crate::model::conversation::Conversation;
use crate::model::feedback::Feedback;
use crate::model::identity::Actor;
use crate::model::ids::{ShopId, UserId};
use crate::model::push::Topic;

/// The buyer, or 403 for any other role.
pub fn buyer(actor: &Actor) -> Result<&UserId> {
    match actor {
        Actor::Buyer(u) => Ok(u),
        _ => Err(Error::Forbidden("only a buyer may do this".into())),
    }
}

/// A shop's staff member (agent or admin) and their shop, or 403 for any other role.
pub fn staff(actor: &Actor) -> Result<(&UserId, &ShopId)> {
    match actor {
        Actor::Agent { user, shop } | Actor::ShopAdmin { user, shop } => Ok((user, shop)),
        _ => Err(Error::Forbidden(
            "only the shop's customer-service agents may do this".into(),
        )),
    }
}

/// A shop admin or the platform, or 403 (who may read feedback and figures).
fn admin_or_platform(actor: &Actor, what: &str) -> Result<()> {
    match actor {
        Actor::ShopAdmin { .. } | Actor::Platform(_) => Ok(()),
        _ => Err(Error::Forbidden(format!(
            "only shop admins and the platform may read {what}"
        ))),
    }
}

/// Whether the actor reaches this shop's data: its staff and the platform do.
fn reaches_shop(actor: &Actor, shop: &ShopId) -> bool {
    match actor {
        Actor::Platform(_) => true,
        Actor::Agent { shop: own, .. } | Actor::ShopAdmin { shop: own, .. } => own == shop,
        Actor::Buyer(_) => false,
    }
}

/// Whether this actor may see the conversation: its buyer, or staff of its shop.
pub fn sees_conversation(actor: &Actor, conversation: &Conversation) -> bool {
    match actor {
        Actor::Buyer(u) => *u == conversation.buyer_id,
        Actor::Agent { shop, .. } | Actor::ShopAdmin { shop, .. } => *shop == conversation.shop_id,
        Actor::Platform(_) => false,
    }
}

/// The conversation read, if the actor may see it; 404 when it is missing or someone else's.
pub fn conversation(actor: &Actor, found: Option<Conversation>) -> Result<Conversation> {
    match found {
        Some(c) if sees_conversation(actor, &c) => Ok(c),
        _ => Err(Error::NotFound("conversation")),
    }
}

/// A buyer writing into a conversation: their own one (in the shop they name, if they name one).
/// One that does not exist, another buyer's, or one in another shop is the same 404: nobody learns
/// whether someone else's id exists. A buyer never creates a conversation by writing into it
/// (`POST /conversations` opens one, under an id the server mints).
pub fn buyers_conversation(
    buyer: &UserId,
    shop: Option<&ShopId>,
    found: Option<Conversation>,
) -> Result<Conversation> {
    match found {
        Some(c) if c.buyer_id == *buyer && shop.is_none_or(|s| c.shop_id == *s) => Ok(c),
        _ => Err(Error::NotFound("conversation")),
    }
}

/// Staff writing to a buyer: 403 for other roles; a shop named in the request that is not their
/// own is a 404 (the conversation is not theirs to reach).
pub fn staff_writing<'a>(
    actor: &'a Actor,
    named_shop: Option<&ShopId>,
) -> Result<(&'a UserId, &'a ShopId)> {
    let (user, shop) = staff(actor)?;
    if named_shop.is_some_and(|s| s != shop) {
        return Err(Error::NotFound("conversation"));
    }
    Ok((user, shop))
}

/// A shop's queue of waiting conversations: its staff only (403 for other roles, 404 for another
/// shop's staff).
pub fn queue(actor: &Actor, shop: &ShopId) -> Result<()> {
    let (_, own) = staff(actor)?;
    if own != shop {
        return Err(Error::NotFound("shop"));
    }
    Ok(())
}

/// Adoption figures: a shop admin for their own shop; the platform for one shop or all (None).
/// Every shop's figures at once are the platform's only (403); another shop's are a 404.
pub fn adoption_scope<'a>(actor: &Actor, asked: Option<&'a ShopId>) -> Result<Option<&'a ShopId>> {
    admin_or_platform(actor, "adoption figures")?;
    match (actor, asked) {
        (Actor::Platform(_), _) => Ok(asked),
        (_, None) => Err(Error::Forbidden(
            "only the platform may read every shop's figures".into(),
        )),
        (_, Some(shop)) if reaches_shop(actor, shop) => Ok(Some(shop)),
        (_, Some(_)) => Err(Error::NotFound("shop")),
    }
}

/// The shop a caller may list feedback of: the platform any or all (None), a shop admin their own
/// (also when they name none); another shop's is a 404.
pub fn feedback_scope(actor: &Actor, asked: Option<ShopId>) -> Result<Option<ShopId>> {
    feedback_reader(actor)?;
    match (actor, asked) {
        (Actor::Platform(_), asked) => Ok(asked),
        (Actor::ShopAdmin { shop, .. }, None) => Ok(Some(shop.clone())),
        (_, Some(shop)) if reaches_shop(actor, &shop) => Ok(Some(shop)),
        _ => Err(Error::NotFound("shop")),
    }
}

/// Who may read feedback at all: shop admins and the platform (403 for other roles); checked
/// before a record is read.
pub fn feedback_reader(actor: &Actor) -> Result<()> {
    admin_or_platform(actor, "feedback")
}

/// A feedback record (and its screenshots) the caller may read: as for listing, and another
/// shop's record, or a missing one, is a 404.
pub fn feedback_record(actor: &Actor, found: Option<Feedback>) -> Result<Feedback> {
    feedback_reader(actor)?;
    found
        .filter(|f| reaches_shop(actor, &f.shop_id))
        .ok_or(Error::NotFound("feedback"))
}

/// A shop's replies and robot settings: its staff and the platform may read them (403 for a
/// buyer, 404 for another shop's staff).
pub fn read_shop_settings(actor: &Actor, shop: &ShopId) -> Result<()> {
    if matches!(actor, Actor::Buyer(_)) {
        return Err(Error::Forbidden(
            "only the shop's staff and the platform may read its replies".into(),
        ));
    }
    if !reaches_shop(actor, shop) {
        return Err(Error::NotFound("shop"));
    }
    Ok(())
}

/// Only the shop's own admin may change its replies and robot: 404 for another shop's staff,
/// 403 for other roles and for the shop's own agents.
pub fn edit_shop_settings<'a>(actor: &'a Actor, shop: &ShopId) -> Result<&'a UserId> {
    match actor {
        Actor::ShopAdmin { user, shop: own } if own == shop => Ok(user),
        Actor::Agent { shop: own, .. } | Actor::ShopAdmin { shop: own, .. } if own != shop => {
            Err(Error::NotFound("shop"))
        }
        _ => Err(Error::Forbidden(
            "only the shop's admin may edit its replies and robot".into(),
        )),
    }
}

/// The platform's payout report: the platform only (403).
pub fn payout_report(actor: &Actor) -> Result<()> {
    match actor {
        Actor::Platform(_) => Ok(()),
        _ => Err(Error::Forbidden(
            "only the platform may read payout reports".into(),
        )),
    }
}

/// Onboarding a shop and topping up its deposit: the platform only (403).
pub fn manage_shops(actor: &Actor) -> Result<&UserId> {
    match actor {
        Actor::Platform(user) => Ok(user),
        _ => Err(Error::Forbidden(
            "only the platform may onboard shops and top up deposits".into(),
        )),
    }
}

/// A shop's deposit ledger: the platform, and the shop's own admin (403 for other roles, 404 for
/// another shop's admin).
pub fn ledger(actor: &Actor, shop: &ShopId) -> Result<()> {
    admin_or_platform(actor, "deposit ledgers")?;
    if !reaches_shop(actor, shop) {
        return Err(Error::NotFound("shop"));
    }
    Ok(())
}

/// A push ticket (and so a WebSocket connection): buyers and shop staff, who have conversations
/// and queues to follow; the platform reaches no conversation, so 403.
pub fn push_ticket(actor: &Actor) -> Result<()> {
    match actor {
        Actor::Buyer(_) | Actor::Agent { .. } | Actor::ShopAdmin { .. } => Ok(()),
        Actor::Platform(_) => Err(Error::Forbidden(
            "only buyers and shop staff may open a push connection".into(),
        )),
    }
}

/// Following a topic on a push connection: exactly what the HTTP routes let the actor read. A
/// conversation as `GET …/messages` (its buyer or its shop's staff; anyone else's, or a missing
/// one, is a 404), a queue as `GET /shops/{shop}/queue` (the shop's staff; 403 for a buyer, 404 for
/// another shop's staff). `found` is the conversation read, for a conversation topic.
pub fn follow(actor: &Actor, topic: &Topic, found: Option<Conversation>) -> Result<()> {
    push_ticket(actor)?;
    match topic {
        Topic::Conversation(_) => conversation(actor, found).map(drop),
        Topic::Queue(shop) => queue(actor, shop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Moved from identity.rs.
    #[test]
    fn a_buyer_is_not_staff() {
        let b = Actor::from_claims(Some("b1"), Some("buyer"), Some("s1")).unwrap();
        assert_eq!(staff(&b).unwrap_err().code(), "forbidden");
        assert!(buyer(&b).is_ok());
    }

    // Moved from model/feedback.rs; another shop's listing is now a 404, as everywhere else.
    #[test]
    fn listing_is_scoped() {
        let admin = Actor::from_claims(Some("a"), Some("shop_admin"), Some("s1")).unwrap();
        let agent = Actor::from_claims(Some("b"), Some("agent"), Some("s1")).unwrap();
        let platform = Actor::from_claims(Some("p"), Some("platform"), None).unwrap();
        let s1 = ShopId::parse("s1").unwrap();
        let s2 = ShopId::parse("s2").unwrap();
        assert_eq!(feedback_scope(&admin, None).unwrap(), Some(s1.clone()));
        assert_eq!(feedback_scope(&admin, Some(s1.clone())).unwrap(), Some(s1));
        assert!(feedback_scope(&admin, Some(s2.clone())).is_err());
        assert!(feedback_scope(&agent, None).is_err());
        assert_eq!(feedback_scope(&platform, None).unwrap(), None);
        assert_eq!(
            feedback_scope(&platform, Some(s2.clone())).unwrap(),
            Some(s2)
        );
    }

    /// Writing into a conversation never creates one: a missing id, another buyer's and one in
    /// another shop answer alike.
    #[test]
    fn a_buyer_writes_only_into_their_own_existing_conversation() {
        use crate::model::conversation::Shop;
        use crate::model::ids::ConversationId;
        let (s1, s2) = (ShopId::parse("s1").unwrap(), ShopId::parse("s2").unwrap());
        let shop = Shop {
            shop_id: s1.clone(),
            name: "店".into(),
            agents: vec![],
            serving_rule: Default::default(),
            robot_on: false,
        };
        let (b1, b2) = (UserId::parse("b1").unwrap(), UserId::parse("b2").unwrap());
        let conv = Conversation::open(&ConversationId::mint(), &shop, &b1, 0);
        assert!(buyers_conversation(&b1, None, Some(conv.clone())).is_ok());
        assert!(buyers_conversation(&b1, Some(&s1), Some(conv.clone())).is_ok());
        let refusals = [
            buyers_conversation(&b1, None, None),
            buyers_conversation(&b2, None, Some(conv.clone())),
            buyers_conversation(&b1, Some(&s2), Some(conv)),
        ];
        for refused in refusals {
            assert!(matches!(refused, Err(Error::NotFound("conversation"))));
        }
    }

    /// One table for every operation: each rule against every kind of caller. The columns:
    /// the buyer (own conversation), another buyer, the shop's agent, the shop's admin, another
    /// shop's agent, another shop's admin, the platform. The target is shop1's conversation of
    /// buyer1, shop1's data, or shop1's feedback. "ok", or the HTTP status of the refusal.
    #[test]
    fn the_access_table() {
        use crate::model::conversation::Shop;
        use crate::model::ids::ConversationId;
        let a = |sub: &str, role: &str, shop: Option<&str>| {
            Actor::from_claims(Some(sub), Some(role), shop).unwrap()
        };
        let callers = [
            a("b1", "buyer", None),
            a("b2", "buyer", None),
            a("ag1", "agent", Some("s1")),
            a("ad1", "shop_admin", Some("s1")),
            a("ag2", "agent", Some("s2")),
            a("ad2", "shop_admin", Some("s2")),
            a("p", "platform", None),
        ];
        let s1 = ShopId::parse("s1").unwrap();
        let shop = Shop {
            shop_id: s1.clone(),
            name: "s1".into(),
            agents: vec![],
            serving_rule: Default::default(),
            robot_on: false,
        };
        let b1 = UserId::parse("b1").unwrap();
        let conv = Conversation::open(&ConversationId::parse("c1").unwrap(), &shop, &b1, 0);
        let feedback = Feedback {
            feedback_id: "f1".into(),
            shop_id: s1.clone(),
            author: UserId::parse("ag1").unwrap(),
            intent: crate::intent::IntentId::UrgeShipment,
            solution_id: None,
            conversation_id: None,
            description: "x".into(),
            created_at: 0,
            screenshots: vec![],
        };
        type Rule<'r> = (
            &'r str,
            Box<dyn Fn(&Actor) -> Result<()> + 'r>,
            [&'r str; 7],
        );
        let rules: Vec<Rule> = vec![
            // intake
            (
                "POST conversations (a buyer opens one in any shop)",
                Box::new(|x| buyer(x).map(drop)),
                ["ok", "ok", "403", "403", "403", "403", "403"],
            ),
            (
                "POST messages (buyer)",
                Box::new(|x| {
                    buyer(x)?;
                    buyers_conversation(x.user(), Some(&s1), Some(conv.clone())).map(drop)
                }),
                ["ok", "404", "403", "403", "403", "403", "403"],
            ),
            (
                "POST messages (staff)",
                Box::new(|x| {
                    staff_writing(x, Some(&s1))?;
                    conversation(x, Some(conv.clone())).map(drop)
                }),
                ["403", "403", "ok", "ok", "404", "404", "403"],
            ),
            (
                "GET messages, GET card",
                Box::new(|x| conversation(x, Some(conv.clone())).map(drop)),
                ["ok", "404", "ok", "ok", "404", "404", "404"],
            ),
            (
                "POST robot-rating, POST order-selection",
                Box::new(|x| {
                    buyer(x)?;
                    conversation(x, Some(conv.clone())).map(drop)
                }),
                ["ok", "404", "403", "403", "403", "403", "403"],
            ),
            (
                "GET queue",
                Box::new(|x| queue(x, &s1)),
                ["403", "403", "ok", "ok", "404", "404", "403"],
            ),
            // suggest
            (
                "GET panel, POST panel/events",
                Box::new(|x| {
                    staff(x)?;
                    conversation(x, Some(conv.clone())).map(drop)
                }),
                ["403", "403", "ok", "ok", "404", "404", "403"],
            ),
            (
                "GET shops/{shop}/adoption",
                Box::new(|x| adoption_scope(x, Some(&s1)).map(drop)),
                ["403", "403", "403", "ok", "403", "404", "ok"],
            ),
            (
                "GET adoption (every shop)",
                Box::new(|x| adoption_scope(x, None).map(drop)),
                ["403", "403", "403", "403", "403", "403", "ok"],
            ),
            // replies
            (
                "GET replies, GET robot",
                Box::new(|x| read_shop_settings(x, &s1)),
                ["403", "403", "ok", "ok", "404", "404", "ok"],
            ),
            (
                "PUT replies, PUT robot",
                Box::new(|x| edit_shop_settings(x, &s1).map(drop)),
                ["403", "403", "403", "ok", "404", "404", "403"],
            ),
            // feedback
            (
                "POST feedback",
                Box::new(|x| staff(x).map(drop)),
                ["403", "403", "ok", "ok", "ok", "ok", "403"],
            ),
            (
                "GET feedback?shop_id=s1",
                Box::new(|x| feedback_scope(x, Some(s1.clone())).map(drop)),
                ["403", "403", "403", "ok", "403", "404", "ok"],
            ),
            (
                "GET feedback/{id}/screenshots/{i}",
                Box::new(|x| {
                    feedback_reader(x)?;
                    feedback_record(x, Some(feedback.clone())).map(drop)
                }),
                ["403", "403", "403", "ok", "403", "404", "ok"],
            ),
            // compensation
            (
                "report payouts",
                Box::new(payout_report),
                ["403", "403", "403", "403", "403", "403", "ok"],
            ),
            // shops
            (
                "PUT shops/{shop}, POST shops/{shop}/deposit",
                Box::new(|x| manage_shops(x).map(drop)),
                ["403", "403", "403", "403", "403", "403", "ok"],
            ),
            (
                "GET shops/{shop}/ledger",
                Box::new(|x| ledger(x, &s1)),
                ["403", "403", "403", "ok", "403", "404", "ok"],
            ),
            // push
            (
                "POST push/tickets",
                Box::new(push_ticket),
                ["ok", "ok", "ok", "ok", "ok", "ok", "403"],
            ),
            (
                "subscribe conversation_id (shop1's, buyer1's)",
                Box::new(|x| {
                    let topic = Topic::Conversation(conv.conversation_id.clone());
                    follow(x, &topic, Some(conv.clone()))
                }),
                ["ok", "404", "ok", "ok", "404", "404", "403"],
            ),
            (
                "subscribe conversation_id (missing)",
                Box::new(|x| {
                    let topic = Topic::Conversation(conv.conversation_id.clone());
                    follow(x, &topic, None)
                }),
                ["404", "404", "404", "404", "404", "404", "403"],
            ),
            (
                "subscribe queue (shop1's)",
                Box::new(|x| follow(x, &Topic::Queue(s1.clone()), None)),
                ["403", "403", "ok", "ok", "404", "404", "403"],
            ),
        ];
        let outcome = |r: Result<()>| match r {
            Ok(()) => "ok",
            Err(Error::Forbidden(_)) => "403",
            Err(Error::NotFound(_)) => "404",
            Err(e) => panic!("an access rule answered {e:?}"),
        };
        let mut wrong = Vec::new();
        for (name, rule, expected) in &rules {
            let got: Vec<&str> = callers.iter().map(|c| outcome(rule(c))).collect();
            if got != expected {
                wrong.push(format!("{name}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
