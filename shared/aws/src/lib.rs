//! The only place with AWS types: the DynamoDB store behind the domain's traits, the table schema
//! read from template.yaml, the API Gateway event mapping, the one error -> HTTP mapping and the
//! route registry; the WebSocket API's routes and events.

pub mod after_response;
pub mod config;
pub mod connections;
pub mod dynamo;
pub mod http;
pub mod lambda;
pub mod routes;
pub mod s3;
pub mod schema;
pub mod websocket;

pub use config::Tables;
pub use dynamo::DynamoStore;

/// JSON logs for CloudWatch; `RUST_LOG` filters (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Per-attempt and whole-call limits for every DynamoDB request. A request path makes a few calls
/// and the function's timeout is 10 s (template.yaml), so a hung connection must give up in time
/// for the handler to answer 503 rather than be killed by the runtime.
pub fn sdk_timeouts() -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

/// Throttling, timeouts and dropped connections are retried by the SDK (standard mode, jittered
/// backoff) before they surface as `Error::Unavailable` and a 503.
pub fn sdk_retries() -> aws_sdk_dynamodb::config::retry::RetryConfig {
    aws_sdk_dynamodb::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(std::time::Duration::from_millis(50))
}

/// The DynamoDB client a function uses, from the environment Lambda sets: `AWS_REGION` and the
/// execution role's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
/// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) points it at DynamoDB Local.
///
/// Built without aws-config on purpose: Lambda always hands the role's credentials in the
/// environment, and the full provider chain (profiles, SSO, STS, IMDS) cost megabytes of binary
/// and cold-start work that a function never uses (BENCHMARKS.md, "Cold start and binary size").
pub fn dynamodb_client() -> Result<aws_sdk_dynamodb::Client, config::MissingConfig> {
    dynamodb_client_from(|k| std::env::var(k).ok())
}

/// What every SDK client of a function reads from the environment Lambda sets.
pub struct LambdaEnv<'a> {
    pub region: String,
    pub credentials: aws_sdk_dynamodb::config::Credentials,
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> LambdaEnv<'a> {
    pub fn read(get: &'a dyn Fn(&str) -> Option<String>) -> Result<Self, config::MissingConfig> {
        use aws_sdk_dynamodb::config::Credentials;
        use config::MissingConfig;
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or(MissingConfig("AWS_REGION"))?;
        let key = var("AWS_ACCESS_KEY_ID").ok_or(MissingConfig("AWS_ACCESS_KEY_ID"))?;
        let secret = var("AWS_SECRET_ACCESS_KEY").ok_or(MissingConfig("AWS_SECRET_ACCESS_KEY"))?;
        let credentials =
            Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment");
        Ok(LambdaEnv {
            region,
            credentials,
            get,
        })
    }

    /// The service's endpoint override (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`).
    pub fn endpoint(&self, service_variable: &str) -> Option<String> {
        let var = |name: &str| (self.get)(name).filter(|v| !v.is_empty());
        var(service_variable).or_else(|| var("AWS_ENDPOINT_URL"))
    }
}

/// The root certificates AWS service endpoints chain to (Amazon Trust Services: Amazon Root CA 1–4
/// and the Starfield Services G2 root that cross-signs them), compiled in.
static AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The HTTPS client every SDK client of a function shares (one connection pool): rustls with
/// aws-lc, trusting the Amazon roots above. The SDK's default client reads the whole system trust
/// store at start (146 files here, most of a cold start's own CPU time); a function only ever
/// talks to AWS endpoints. An `https` endpoint override (a stand-in that is not AWS) adds the
/// system store back.
pub fn https_client(endpoint_override: Option<&str>) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let foreign = endpoint_override.is_some_and(|url| url.starts_with("https://"));
    let trust = TrustStore::empty()
        .with_pem_certificate(AMAZON_ROOTS)
        .with_native_roots(foreign);
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .expect("a trust store is all this context holds"),
        )
        .build_https()
}

pub fn dynamodb_client_from(
    get: impl Fn(&str) -> Option<String>,
) -> Result<aws_sdk_dynamodb::Client, config::MissingConfig> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
    let env = LambdaEnv::read(&get)?;
    let mut builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(env.region.clone()))
        .credentials_provider(env.credentials.clone())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries());
    let endpoint = env.endpoint("AWS_ENDPOINT_URL_DYNAMODB");
    builder = builder.http_client(https_client(endpoint.as_deref()));
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    Ok(aws_sdk_dynamodb::Client::from_conf(builder.build()))
}

/// Builds the store a function uses: config from the environment, one client, built once.
pub async fn store_from_env() -> Result<DynamoStore, Box<dyn std::error::Error + Send + Sync>> {
    let tables = Tables::from_env()?;
    let limits = config::limits_from_lookup(|k| std::env::var(k).ok())?;
    let get = |k: &str| std::env::var(k).ok();
    let connections = connections::ConnectionsApi::from_env(&get)?;
    Ok(DynamoStore::new(dynamodb_client()?, tables)
        .with_limits(limits)
        .with_connections(connections))
}

/// A client for DynamoDB Local: fixed test credentials and region, the given endpoint.
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .http_client(https_client(Some(endpoint)))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_compiled_in_trust_store_is_the_amazon_roots() {
        let pem = std::str::from_utf8(AMAZON_ROOTS).expect("PEM is text");
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(pem.matches("-----END CERTIFICATE-----").count(), 5);
        for root in [
            "Amazon Root CA 1",
            "Amazon Root CA 4",
            "Starfield Services Root",
        ] {
            assert!(pem.contains(root), "{root}");
        }
    }

    #[test]
    fn the_client_comes_from_the_lambda_environment_and_names_what_is_missing() {
        let lambda = [
            ("AWS_REGION", "ap-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ];
        let client = dynamodb_client_from(env(&lambda)).unwrap();
        assert_eq!(
            client.config().region().map(|r| r.as_ref()),
            Some("ap-east-1")
        );
        let err = dynamodb_client_from(env(&lambda[..2])).unwrap_err();
        assert!(err.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{err}");
        let err = dynamodb_client_from(env(&lambda[1..])).unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }
}
