//! The only place with AWS types: the DynamoDB store behind the domain's traits, the table schema
//! read from template.yaml, the API Gateway event mapping and the one error -> HTTP mapping.

pub mod config;
pub mod dynamo;
pub mod http;
pub mod lambda;
pub mod s3;
pub mod schema;
pub mod shops;

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

/// The DynamoDB client from the standard AWS configuration chain. `AWS_ENDPOINT_URL_DYNAMODB`
/// points it at DynamoDB Local.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::load_from_env().await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// Builds the store a function uses: config from the environment, one client, built once.
pub async fn store_from_env() -> Result<DynamoStore, config::MissingConfig> {
    let tables = Tables::from_env()?;
    Ok(DynamoStore::new(dynamodb_client().await, tables))
}

/// A client for DynamoDB Local: fixed test credentials and region, the given endpoint.
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
