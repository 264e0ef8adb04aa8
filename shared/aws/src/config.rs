//! Typed configuration, loaded once at start-up from the environment the template sets.

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
}
