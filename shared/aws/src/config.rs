//! Typed configuration, loaded once at start-up from the environment the template sets.

use assistant_domain::model::limits::Limits;
use thiserror::Error;

/// The DynamoDB tables, by their template logical id and the variable that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub orders: String,
    pub conversations: String,
    pub shops: String,
}

/// (template logical id, environment variable) for every table. The one place these are written.
pub const TABLES: [(&str, &str); 3] = [
    ("OrdersTable", "ORDERS_TABLE"),
    ("ConversationsTable", "CONVERSATIONS_TABLE"),
    ("ShopsTable", "SHOPS_TABLE"),
];

#[derive(Debug, Error)]
#[error(
    "missing environment variable {0}: Lambda and the template set it; set it when running locally"
)]
pub struct MissingConfig(pub &'static str);

#[derive(Debug, Error)]
#[error("environment variable {name} = {value:?}: {reason}")]
pub struct InvalidConfig {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// The buyers' limits' variables: messages per minute, new conversations per shop per day.
/// Unset means the default ([`Limits::default`]).
pub const LIMIT_VARS: [&str; 2] = [
    "BUYER_MESSAGES_PER_MINUTE",
    "BUYER_CONVERSATIONS_PER_SHOP_PER_DAY",
];

/// The buyers' limits from the environment (see [`LIMIT_VARS`]).
pub fn limits_from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, InvalidConfig> {
    let defaults = Limits::default();
    let read = |name: &'static str, default: u32| -> Result<u32, InvalidConfig> {
        match get(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(InvalidConfig {
                    name,
                    value,
                    reason: "must be a whole number of at least 1".into(),
                }),
            },
        }
    };
    let messages = read(LIMIT_VARS[0], defaults.messages_per_minute)?;
    let conversations = read(LIMIT_VARS[1], defaults.conversations_per_shop_per_day)?;
    Limits::new(messages, conversations).map_err(|e| InvalidConfig {
        name: LIMIT_VARS[0],
        value: messages.to_string(),
        reason: e.to_string(),
    })
}

impl Tables {
    pub fn from_env() -> Result<Self, MissingConfig> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MissingConfig> {
        let var = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(MissingConfig(name))
        };
        Ok(Tables {
            orders: var(TABLES[0].1)?,
            conversations: var(TABLES[1].1)?,
            shops: var(TABLES[2].1)?,
        })
    }

    /// Names with a common prefix, as the tests and the local run use: "<prefix>-OrdersTable".
    pub fn prefixed(prefix: &str) -> Self {
        let name = |i: usize| format!("{prefix}-{}", TABLES[i].0);
        Tables {
            orders: name(0),
            conversations: name(1),
            shops: name(2),
        }
    }

    /// The physical name for a template logical id.
    pub fn name_of(&self, logical_id: &str) -> Option<&str> {
        match logical_id {
            "OrdersTable" => Some(&self.orders),
            "ConversationsTable" => Some(&self.conversations),
            "ShopsTable" => Some(&self.shops),
            _ => None,
        }
    }

    /// Environment pairs to hand to a process (cargo lambda watch, the demo).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        TABLES
            .iter()
            .map(|(logical, var)| (*var, self.name_of(logical).unwrap_or_default().to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_name_and_missing_ones_are_named() {
        let t = Tables::prefixed("x");
        for (logical, _) in TABLES {
            assert!(t.name_of(logical).is_some());
        }
        let err =
            Tables::from_lookup(|k| (k != "SHOPS_TABLE").then(|| "t".to_string())).unwrap_err();
        assert!(err.to_string().contains("SHOPS_TABLE"));
    }

    #[test]
    fn limits_default_when_unset_and_refuse_what_is_not_a_count() {
        assert_eq!(limits_from_lookup(|_| None).unwrap(), Limits::default());
        let set = |m: &'static str, c: &'static str| {
            move |k: &str| match k {
                "BUYER_MESSAGES_PER_MINUTE" => Some(m.to_string()),
                "BUYER_CONVERSATIONS_PER_SHOP_PER_DAY" => Some(c.to_string()),
                _ => None,
            }
        };
        assert_eq!(
            limits_from_lookup(set("600", " 5 ")).unwrap(),
            Limits::new(600, 5).unwrap()
        );
        for (m, c) in [("0", "5"), ("many", "5"), ("5", "-1")] {
            let err = limits_from_lookup(set(m, c)).unwrap_err();
            assert!(err.to_string().contains("BUYER_"), "{err}");
        }
    }
}
