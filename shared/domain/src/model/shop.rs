//! What the platform's operators (平台运营) say of a shop: its name, its customer-service agents
//! (客服) with the names buyers see, and the serving-agent rule that picks the agent of a new
//! conversation. The shop itself ([`crate::model::conversation::Shop`]) carries them.
//!
//! An onboarding request is checked whole here ([`ShopProfile::parse`]) before anything is
//! stored: every refusal names its field.

use crate::error::{Error, Result};
use crate::model::ids::{ShopId, UserId};
use serde::{Deserialize, Serialize};

/// The longest shop name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// The longest display name of an agent, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 20;
/// The most agents a shop may list.
pub const MAX_AGENTS: usize = 100;

/// One of the shop's customer-service agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredAgent")]
pub struct Agent {
    /// The agent's login (the JWT `sub`); never shown to a buyer.
    pub agent_id: UserId,
    /// What buyers see the agent as ("小鹿家居旗舰店客服" when the shop names none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl Agent {
    pub fn new(agent_id: UserId, display_name: Option<&str>) -> Self {
        Agent {
            agent_id,
            display_name: display_name.map(str::to_string),
        }
    }
}

/// An agent as stored: shops written before agents had display names list bare ids.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredAgent {
    Named {
        agent_id: UserId,
        #[serde(default)]
        display_name: Option<String>,
    },
    Bare(UserId),
}

impl From<StoredAgent> for Agent {
    fn from(stored: StoredAgent) -> Self {
        match stored {
            StoredAgent::Named {
                agent_id,
                display_name,
            } => Agent {
                agent_id,
                display_name,
            },
            StoredAgent::Bare(agent_id) => Agent {
                agent_id,
                display_name: None,
            },
        }
    }
}

/// Which agent serves a new conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "serving", rename_all = "snake_case")]
pub enum ServingRule {
    /// Buyers are spread over the agents by a stable hash of the buyer id: a buyer comes back to
    /// the same agent in every conversation (while the agent list stays the same).
    #[default]
    ByBuyer,
    /// Every conversation goes to this one agent.
    Fixed { agent_id: UserId },
}

/// The agent `rule` picks for `buyer` among `agents`; None when the shop has none.
pub fn serving_agent<'a>(
    agents: &'a [Agent],
    rule: &ServingRule,
    buyer: &UserId,
) -> Option<&'a Agent> {
    if let ServingRule::Fixed { agent_id } = rule {
        if let Some(agent) = agents.iter().find(|a| a.agent_id == *agent_id) {
            return Some(agent);
        }
    }
    if agents.is_empty() {
        return None;
    }
    // FNV-1a: stable across processes and releases, unlike the std hasher.
    let hash = buyer
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
    agents.get((hash % agents.len() as u64) as usize)
}

/// The name buyers see an agent of `shop_name` as, when the shop gave it none.
pub fn default_display_name(shop_name: &str) -> String {
    format!("{shop_name}客服")
}

/// The body of `PUT /shops/{shop_id}`, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutShop {
    pub name: String,
    pub agents: Vec<AgentInput>,
    #[serde(default, deserialize_with = "present")]
    pub serving_rule: Option<ServingInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    pub agent_id: String,
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingInput {
    pub serving: String,
    #[serde(default, deserialize_with = "present")]
    pub agent_id: Option<String>,
}

/// An optional field that, when given, must be a value: `null` is refused, not read as absent.
fn present<'de, D, T>(deserializer: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// What the platform sets of a shop, checked: everything but its deposit and its robot switch
/// (the shop's own admin turns the robot on; the deposit moves by top-ups and payouts only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopProfile {
    pub shop_id: ShopId,
    pub name: String,
    pub agents: Vec<Agent>,
    pub serving_rule: ServingRule,
}

/// A text field: trimmed, 1 to `max` characters, no control characters.
fn short_text(field: &str, raw: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(text.to_string())
}

impl ShopProfile {
    /// Checks a whole onboarding request; the first refusal names its field.
    pub fn parse(shop_id: ShopId, input: PutShop) -> Result<Self> {
        let name = short_text("name", &input.name, MAX_NAME_CHARS)?;
        if input.agents.is_empty() {
            return Err(Error::invalid(
                "agents",
                "must list at least one agent (a shop needs someone to serve its buyers)",
            ));
        }
        if input.agents.len() > MAX_AGENTS {
            return Err(Error::invalid(
                "agents",
                format!("must list at most {MAX_AGENTS} agents"),
            ));
        }
        let mut agents: Vec<Agent> = Vec::with_capacity(input.agents.len());
        for (i, a) in input.agents.iter().enumerate() {
            let field = |f: &str| format!("agents[{i}].{f}");
            let agent_id = UserId::parse(a.agent_id.clone()).map_err(|_| {
                Error::invalid(field("agent_id"), format!("must be {}", UserId::RULE))
            })?;
            if agents.iter().any(|known| known.agent_id == agent_id) {
                return Err(Error::invalid(field("agent_id"), "is listed twice"));
            }
            let display_name = a
                .display_name
                .as_deref()
                .map(|d| short_text(&field("display_name"), d, MAX_DISPLAY_NAME_CHARS))
                .transpose()?;
            agents.push(Agent {
                agent_id,
                display_name,
            });
        }
        let serving_rule = match input.serving_rule {
            None => ServingRule::ByBuyer,
            Some(rule) => serving_rule(rule, &agents)?,
        };
        Ok(ShopProfile {
            shop_id,
            name,
            agents,
            serving_rule,
        })
    }
}

fn serving_rule(input: ServingInput, agents: &[Agent]) -> Result<ServingRule> {
    match (input.serving.as_str(), input.agent_id) {
        ("by_buyer", None) => Ok(ServingRule::ByBuyer),
        ("by_buyer", Some(_)) => Err(Error::invalid(
            "serving_rule.agent_id",
            "is only for the \"fixed\" rule",
        )),
        ("fixed", None) => Err(Error::invalid(
            "serving_rule.agent_id",
            "is required for the \"fixed\" rule",
        )),
        ("fixed", Some(raw)) => {
            let agent_id = UserId::parse(raw).map_err(|_| {
                Error::invalid("serving_rule.agent_id", format!("must be {}", UserId::RULE))
            })?;
            if !agents.iter().any(|a| a.agent_id == agent_id) {
                return Err(Error::invalid(
                    "serving_rule.agent_id",
                    "must be one of the shop's agents",
                ));
            }
            Ok(ServingRule::Fixed { agent_id })
        }
        _ => Err(Error::invalid(
            "serving_rule.serving",
            "must be \"by_buyer\" or \"fixed\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn input(body: serde_json::Value) -> Result<ShopProfile> {
        let put: PutShop =
            serde_json::from_value(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        ShopProfile::parse(ShopId::parse("s1").unwrap(), put)
    }

    fn field_of(r: Result<ShopProfile>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_whole_profile_parses_trimmed() {
        let p = input(serde_json::json!({
            "name": " 小鹿家居旗舰店 ",
            "agents": [{"agent_id": "a1", "display_name": " 小美 "}, {"agent_id": "a2"}],
            "serving_rule": {"serving": "fixed", "agent_id": "a2"}
        }))
        .unwrap();
        assert_eq!(p.name, "小鹿家居旗舰店");
        assert_eq!(p.agents[0].display_name.as_deref(), Some("小美"));
        assert_eq!(p.agents[1].display_name, None);
        assert_eq!(
            p.serving_rule,
            ServingRule::Fixed {
                agent_id: user("a2")
            }
        );
        let plain =
            input(serde_json::json!({"name": "店", "agents": [{"agent_id": "a1"}]})).unwrap();
        assert_eq!(plain.serving_rule, ServingRule::ByBuyer);
    }

    #[test]
    fn every_refusal_names_its_field() {
        let agents = serde_json::json!([{"agent_id": "a1"}]);
        let cases = [
            (serde_json::json!({"name": "  ", "agents": agents}), "name"),
            (
                serde_json::json!({"name": "店".repeat(51), "agents": agents}),
                "name",
            ),
            (
                serde_json::json!({"name": "a\u{7}b", "agents": agents}),
                "name",
            ),
            (serde_json::json!({"name": "店", "agents": []}), "agents"),
            (
                serde_json::json!({"name": "店", "agents": [{"agent_id": "a#1"}]}),
                "agents[0].agent_id",
            ),
            (
                serde_json::json!({"name": "店", "agents": [{"agent_id": "a1"}, {"agent_id": "a1"}]}),
                "agents[1].agent_id",
            ),
            (
                serde_json::json!({"name": "店", "agents": [{"agent_id": "a1", "display_name": ""}]}),
                "agents[0].display_name",
            ),
            (
                serde_json::json!({"name": "店", "agents": [{"agent_id": "a1", "display_name": "名".repeat(21)}]}),
                "agents[0].display_name",
            ),
            (
                serde_json::json!({"name": "店", "agents": agents, "serving_rule": {"serving": "random"}}),
                "serving_rule.serving",
            ),
            (
                serde_json::json!({"name": "店", "agents": agents, "serving_rule": {"serving": "fixed"}}),
                "serving_rule.agent_id",
            ),
            (
                serde_json::json!({"name": "店", "agents": agents, "serving_rule": {"serving": "fixed", "agent_id": "a9"}}),
                "serving_rule.agent_id",
            ),
            (
                serde_json::json!({"name": "店", "agents": agents, "serving_rule": {"serving": "by_buyer", "agent_id": "a1"}}),
                "serving_rule.agent_id",
            ),
            (
                serde_json::json!({"name": "店", "agents": agents, "deposit": 5}),
                "body",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(input(body.clone())), field, "{body}");
        }
        let many: Vec<_> = (0..=MAX_AGENTS)
            .map(|i| serde_json::json!({"agent_id": format!("a{i}")}))
            .collect();
        assert_eq!(
            field_of(input(serde_json::json!({"name": "店", "agents": many}))),
            "agents"
        );
    }

    #[test]
    fn buyers_are_spread_by_their_id_and_keep_their_agent() {
        let agents = vec![
            Agent::new(user("a"), None),
            Agent::new(user("b"), Some("阿豪")),
        ];
        let rule = ServingRule::ByBuyer;
        let zhang = user("buyer-zhang");
        let first = serving_agent(&agents, &rule, &zhang).unwrap();
        assert_eq!(serving_agent(&agents, &rule, &zhang).unwrap(), first);
        let picked: std::collections::HashSet<_> = (0..20)
            .map(|i| {
                serving_agent(&agents, &rule, &user(&format!("buyer{i}")))
                    .unwrap()
                    .agent_id
                    .clone()
            })
            .collect();
        assert_eq!(picked.len(), 2, "both agents serve someone");
        let fixed = ServingRule::Fixed {
            agent_id: user("b"),
        };
        for i in 0..20 {
            let b = user(&format!("buyer{i}"));
            assert_eq!(
                serving_agent(&agents, &fixed, &b).unwrap().agent_id,
                user("b")
            );
        }
        assert_eq!(serving_agent(&[], &rule, &zhang), None);
    }

    #[test]
    fn old_stored_agents_read_as_agents_without_a_display_name() {
        let old: Vec<Agent> = serde_json::from_value(
            serde_json::json!(["a1", {"agent_id": "a2", "display_name": "小美"}]),
        )
        .unwrap();
        assert_eq!(old[0], Agent::new(user("a1"), None));
        assert_eq!(old[1], Agent::new(user("a2"), Some("小美")));
        let rule: ServingRule =
            serde_json::from_value(serde_json::json!({"serving": "fixed", "agent_id": "a1"}))
                .unwrap();
        assert_eq!(
            rule,
            ServingRule::Fixed {
                agent_id: user("a1")
            }
        );
        assert_eq!(
            serde_json::to_value(ServingRule::ByBuyer).unwrap(),
            serde_json::json!({"serving": "by_buyer"})
        );
    }
}
