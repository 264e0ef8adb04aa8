//! The twin of API Gateway's `@connections` API: a [`MemoryPusher`] records what was posted to
//! which connection, answers [`Posted::Gone`] for connections marked gone and fails for those
//! marked failing; [`MemoryStore`] announces its committed changes through it with the domain's
//! own fan-out ([`fan_out`]), as the DynamoDB adapter does through the real API.

use crate::MemoryStore;
use assistant_domain::error::{Error, Result};
use assistant_domain::model::push::ConnectionId;
use assistant_domain::ports::{Announce, News, Posted, Pusher};
use assistant_domain::usecases::fan_out;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Posts {
    /// Every delivered post, in order: the connection and the payload as JSON.
    delivered: Vec<(ConnectionId, serde_json::Value)>,
    gone: BTreeSet<ConnectionId>,
    failing: BTreeSet<ConnectionId>,
    /// What fan-outs could not do (as the adapter logs it).
    failures: Vec<String>,
}

/// Records posts; cheap to clone (clones share what they record).
#[derive(Debug, Clone, Default)]
pub struct MemoryPusher {
    posts: Arc<Mutex<Posts>>,
}

impl MemoryPusher {
    fn with<T>(&self, f: impl FnOnce(&mut Posts) -> T) -> T {
        let mut posts = self.posts.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut posts)
    }

    /// From now on, a post to `connection` answers 410 (the client went away).
    pub fn gone(&self, connection: &ConnectionId) {
        self.with(|p| p.gone.insert(connection.clone()));
    }

    /// From now on, a post to `connection` fails (the API is unavailable).
    pub fn failing(&self, connection: &ConnectionId) {
        self.with(|p| p.failing.insert(connection.clone()));
    }

    /// The payloads delivered to `connection`, oldest first.
    pub fn posted_to(&self, connection: &ConnectionId) -> Vec<serde_json::Value> {
        self.with(|p| {
            p.delivered
                .iter()
                .filter(|(c, _)| c == connection)
                .map(|(_, v)| v.clone())
                .collect()
        })
    }

    /// Every delivered post, oldest first.
    pub fn all(&self) -> Vec<(ConnectionId, serde_json::Value)> {
        self.with(|p| p.delivered.clone())
    }

    /// What the fan-outs reported as failed.
    pub fn failures(&self) -> Vec<String> {
        self.with(|p| p.failures.clone())
    }

    /// Forgets what was posted.
    pub fn clear(&self) {
        self.with(|p| p.delivered.clear());
    }
}

impl Pusher for MemoryPusher {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> Result<Posted> {
        self.with(|p| {
            if p.gone.contains(connection) {
                return Ok(Posted::Gone);
            }
            if p.failing.contains(connection) {
                return Err(Error::Unavailable(
                    "injected: @connections unavailable".into(),
                ));
            }
            let value = serde_json::from_str(payload).map_err(|e| Error::Internal(Box::new(e)))?;
            p.delivered.push((connection.clone(), value));
            Ok(Posted::Delivered)
        })
    }
}

impl Announce for MemoryStore {
    async fn announce(&self, news: News) {
        let Some(pusher) = self.pusher() else {
            return;
        };
        let delivery = fan_out(self, pusher, &news).await;
        pusher.with(|p| {
            for (connection, error) in &delivery.failed {
                p.failures.push(format!("{connection:?}: {error}"));
            }
        });
    }
}
