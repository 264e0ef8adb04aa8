//! A demo shop with agents, buyers and orders in every node, relative to `now`: the testkit's
//! fixtures (one copy, shared with the tests), and who may sign in to the local stack.

pub use assistant_testkit::fixtures::{
    main_buyer_orders, node_buyers, order_in, seed, ADMIN, AGENTS, MAIN_BUYER, OTHER_SHOP,
    OTHER_SHOP_AGENT, PLATFORM_OPERATOR, SHOP,
};

/// Who may sign in to the local stack: the JWT claims of every seeded person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub sub: String,
    pub role: &'static str,
    pub shop_id: Option<&'static str>,
}

/// Every seeded identity: the buyers (the main one first), the demo shop's agents and admin, the
/// other shop's agent and a platform operator.
pub fn identities() -> Vec<Identity> {
    let person = |sub: &str, role, shop_id| Identity {
        sub: sub.to_string(),
        role,
        shop_id,
    };
    let mut out = vec![person(MAIN_BUYER, "buyer", None)];
    for (_, order) in node_buyers(0) {
        out.push(person(order.buyer_id.as_str(), "buyer", None));
    }
    for agent in AGENTS {
        out.push(person(agent, "agent", Some(SHOP)));
    }
    out.push(person(ADMIN, "shop_admin", Some(SHOP)));
    out.push(person(OTHER_SHOP_AGENT, "agent", Some(OTHER_SHOP)));
    out.push(person(PLATFORM_OPERATOR, "platform", None));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_the_seeded_people_once_each() {
        let ids = identities();
        let mut subs: Vec<&str> = ids.iter().map(|i| i.sub.as_str()).collect();
        subs.sort_unstable();
        subs.dedup();
        assert_eq!(subs.len(), ids.len(), "no identity twice");
        assert_eq!(ids[0].sub, MAIN_BUYER);
        assert!(ids
            .iter()
            .all(|i| (i.role == "buyer" || i.role == "platform") == i.shop_id.is_none()));
        assert!(ids
            .iter()
            .any(|i| i.sub == ADMIN && i.role == "shop_admin" && i.shop_id == Some(SHOP)));
        assert_eq!(ids.iter().filter(|i| i.role == "buyer").count(), 8);
    }
}
