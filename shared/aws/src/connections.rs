//! API Gateway's `@connections` API (the WebSocket API's management endpoint): the [`Pusher`] the
//! functions post through, and the [`Announce`] of [`DynamoStore`] (the domain's fan-out over the
//! stored subscriptions, its failures logged and dropped: a push never fails the write; in a
//! function it runs after the answer, so it never slows it either: [`crate::after_response`]).
//!
//! The endpoint is the stage's own URL, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
//! (the SDK appends `/@connections/{id}`), given by [`CONNECTIONS_URL_VAR`]; locally the stack's
//! gateway serves it. Unset, the function announces nothing.

use crate::DynamoStore;
use assistant_domain::error::{Error, Result};
use assistant_domain::model::push::ConnectionId;
use assistant_domain::ports::{Announce, News, Posted, Pusher};
use assistant_domain::usecases::fan_out;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use std::time::Duration;

/// The variable naming the WebSocket stage's URL (template.yaml sets it to the `PushApi`'s).
pub const CONNECTIONS_URL_VAR: &str = "PUSH_CONNECTIONS_URL";

/// Posts to WebSocket connections through API Gateway's management API.
#[derive(Clone, Debug)]
pub struct ConnectionsApi {
    client: aws_sdk_apigatewaymanagement::Client,
}

/// A post waits little: a push that is slow is dropped, never the write's answer held up.
fn timeouts() -> aws_sdk_apigatewaymanagement::config::timeout::TimeoutConfig {
    aws_sdk_apigatewaymanagement::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_millis(1500))
        .build()
}

impl ConnectionsApi {
    /// The client for the stage at `url`, signed with the function's credentials.
    pub fn new(env: &crate::LambdaEnv<'_>, url: &str) -> Self {
        use aws_sdk_apigatewaymanagement::config::{retry::RetryConfig, BehaviorVersion, Region};
        let config = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(env.region.clone()))
            .credentials_provider(env.credentials.clone())
            .endpoint_url(url.trim_end_matches('/'))
            .http_client(crate::https_client(Some(url)))
            .timeout_config(timeouts())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(2)
                    .with_initial_backoff(Duration::from_millis(20)),
            )
            .build();
        ConnectionsApi {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
        }
    }

    /// The client from the Lambda environment, if [`CONNECTIONS_URL_VAR`] is set.
    pub fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, crate::config::MissingConfig> {
        let Some(url) = get(CONNECTIONS_URL_VAR).filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let env = crate::LambdaEnv::read(get)?;
        Ok(Some(ConnectionsApi::new(&env, url.trim())))
    }
}

impl Pusher for ConnectionsApi {
    async fn post(&self, connection: &ConnectionId, payload: &str) -> Result<Posted> {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(payload.as_bytes()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Posted::Delivered),
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                let gone = err
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception());
                if gone || status == Some(410) {
                    Ok(Posted::Gone)
                } else {
                    Err(Error::Unavailable(Box::new(err)))
                }
            }
        }
    }
}

impl Announce for DynamoStore {
    /// In a function, the fan-out is spawned to run beside the handler and after its answer
    /// ([`crate::after_response`]); elsewhere it runs before `announce` returns.
    async fn announce(&self, news: News) {
        if self.connections().is_none() {
            return;
        }
        match self.after_response() {
            Some(after) => {
                let store = self.clone();
                after.spawn(async move { store.push_now(&news).await });
            }
            None => self.push_now(&news).await,
        }
    }
}

impl DynamoStore {
    /// The fan-out of `news`, its failures logged and dropped.
    async fn push_now(&self, news: &News) {
        let Some(api) = self.connections() else {
            return;
        };
        let started = std::time::Instant::now();
        let delivery = fan_out(self, api, news).await;
        for (connection, error) in &delivery.failed {
            let connection = connection.as_ref().map(ConnectionId::as_str);
            tracing::warn!(?connection, error = %error, source = ?std::error::Error::source(error), "push failed; dropped");
        }
        tracing::info!(
            conversation = %news.conversation_id,
            delivered = delivery.delivered,
            gone = delivery.gone.len(),
            failed = delivery.failed.len(),
            millis = started.elapsed().as_millis() as u64,
            "pushed"
        );
    }
}
