//! Screenshots in S3: a private bucket, objects encrypted at rest. The bucket comes from
//! `FEEDBACK_BUCKET` (set by the template); `AWS_ENDPOINT_URL_S3` points the client at moto.

use crate::dynamo::errors::sdk_error;
use crate::dynamo::meter::GrantLog;
use assistant_domain::error::{Error, Result};
use assistant_domain::ports::BlobStore;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;

#[derive(Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
    /// When recording: every (IAM action, object key) the calls needed (the tests prove
    /// template.yaml grants them: moto enforces no IAM).
    grants: GrantLog<(&'static str, String)>,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
            grants: GrantLog::default(),
        }
    }

    fn note(&self, actions: &'static [&'static str], key: &str) {
        self.grants
            .note(|| actions.iter().map(move |a| (*a, key.to_string())));
    }

    /// From now on, notes the IAM action and object key of every screenshot call.
    pub fn record_grants(&self) {
        self.grants.start();
    }

    /// What [`record_grants`](Self::record_grants) noted: (action, object key).
    pub fn recorded_grants(&self) -> Vec<(&'static str, String)> {
        self.grants.all()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Every key under a prefix (tests and the orphan check).
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(sdk_error)?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() {
                return Ok(keys);
            }
        }
    }
}

impl BlobStore for S3Blobs {
    async fn put_blob(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.note(&["s3:PutObject"], key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    async fn get_blob(&self, key: &str) -> Result<Option<Vec<u8>>> {
        // A missing object is `NoSuchKey` (a 404 here) only with s3:ListBucket on the bucket;
        // without it S3 answers AccessDenied, which would be a 503.
        self.note(&["s3:GetObject", "s3:ListBucket"], key);
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
            Err(e) => return Err(sdk_error(e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| Error::Unavailable(Box::new(e)))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn delete_blob(&self, key: &str) -> Result<()> {
        self.note(&["s3:DeleteObject"], key);
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

/// The S3 client from the environment Lambda sets (as [`crate::dynamodb_client`]: region, the
/// role's credentials; `AWS_ENDPOINT_URL_S3` points it at moto), with path-style addressing so
/// that a local endpoint works without DNS tricks.
pub fn s3_client() -> Result<Client, crate::config::MissingConfig> {
    s3_client_from(|k| std::env::var(k).ok())
}

pub fn s3_client_from(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Client, crate::config::MissingConfig> {
    use aws_sdk_s3::config::{BehaviorVersion, Region};
    let env = crate::LambdaEnv::read(&get)?;
    let mut builder = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(env.region.clone()))
        .credentials_provider(env.credentials.clone())
        .force_path_style(true);
    let endpoint = env.endpoint("AWS_ENDPOINT_URL_S3");
    builder = builder.http_client(crate::https_client(endpoint.as_deref()));
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    Ok(Client::from_conf(builder.build()))
}

/// A client for a local S3 (moto server) with test credentials.
pub fn local_s3_client(endpoint: &str) -> Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// The screenshot store a function uses, from `FEEDBACK_BUCKET`.
pub fn blobs_from_env() -> Result<S3Blobs, crate::config::MissingConfig> {
    let bucket = std::env::var("FEEDBACK_BUCKET")
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or(crate::config::MissingConfig("FEEDBACK_BUCKET"))?;
    Ok(S3Blobs::new(s3_client()?, bucket))
}
