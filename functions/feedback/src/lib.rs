//! Feedback (我要反馈): an agent's description of what is wrong with a solution, with up to three
//! screenshots (PNG, JPEG or WebP, known by their bytes). Screenshots go to S3, the record to
//! DynamoDB; a refused or failed request leaves nothing behind.
//!
//! Routes:
//! - `POST /feedback` (agent, shop_admin): JSON `{"intent", "solution_id"?, "conversation_id"?,
//!   "description", "screenshots"?: [base64…]}` or `multipart/form-data` with those text fields
//!   and up to three file parts named `screenshot` → 201 `{"feedback"}`
//! - `GET /feedback?intent=&shop_id=&limit=&cursor=` (platform: all or one shop; shop_admin: own)
//!   → 200 `{"items", "next_cursor"}`, newest first
//! - `GET /feedback/{feedback_id}/screenshots/{index}` (who may list it) → the image

use assistant_aws::http::{respond, Reply, Request, MAX_UPLOAD_BYTES};
use assistant_aws::routes::{served, FeedbackRoute};
use assistant_domain::access;
use assistant_domain::model::feedback::FeedbackForm;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{BlobStore, Store};
use assistant_domain::usecases::{self, FeedbackQuery};
use assistant_domain::{Error, Result};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use base64::Engine;
use serde::Deserialize;

pub async fn handle<S: Store, B: BlobStore>(
    store: &S,
    blobs: &B,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> ApiGatewayV2httpResponse {
    respond(route(store, blobs, event, now).await)
}

async fn route<S: Store, B: BlobStore>(
    store: &S,
    blobs: &B,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> Result<Reply> {
    let route = served::<FeedbackRoute>(&event)?;
    let req = Request::from_event(event)?;
    match route {
        FeedbackRoute::PostFeedback => {
            // Who may send is checked before the body is read.
            access::staff(&req.actor)?;
            let form = form_of(&req).await?;
            let saved = usecases::post_feedback(store, blobs, &req.actor, form, now).await?;
            Reply::created(&serde_json::json!({ "feedback": saved }))
        }
        FeedbackRoute::ListFeedback => {
            let query = FeedbackQuery {
                intent: req.query("intent"),
                shop_id: req.query("shop_id"),
                limit: req.query("limit"),
                cursor: req.query("cursor"),
            };
            let page = usecases::list_feedback(store, &req.actor, query).await?;
            Reply::ok(&serde_json::json!({ "items": page.items, "next_cursor": page.next }))
        }
        FeedbackRoute::GetScreenshot => {
            let id = req.path("feedback_id", Ok)?;
            let index = req.path("index", Ok)?;
            let (content_type, bytes) =
                usecases::screenshot(store, blobs, &req.actor, &id, &index).await?;
            Reply::binary(content_type, bytes)
        }
    }
}

/// The JSON form of a feedback.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonForm {
    intent: Option<String>,
    solution_id: Option<String>,
    conversation_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    screenshots: Vec<String>,
}

/// Reads the feedback form from a JSON body (screenshots in base64) or a multipart body.
async fn form_of(req: &Request) -> Result<FeedbackForm> {
    match req.media_type().as_deref() {
        Some("application/json") | None => {
            let json: JsonForm = req.json_within(MAX_UPLOAD_BYTES)?;
            let mut screenshots = Vec::with_capacity(json.screenshots.len());
            for (i, b64) in json.screenshots.iter().enumerate() {
                // A data URL prefix is tolerated; the bytes decide the type anyway.
                let raw = b64.split_once("base64,").map_or(b64.as_str(), |(_, d)| d);
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .map_err(|_| {
                        Error::invalid(format!("screenshots[{i}]"), "is not valid base64")
                    })?;
                screenshots.push(bytes);
            }
            Ok(FeedbackForm {
                intent: json.intent,
                solution_id: json.solution_id,
                conversation_id: json.conversation_id,
                description: json.description,
                screenshots,
            })
        }
        Some("multipart/form-data") => {
            let mut form = FeedbackForm::default();
            for part in req.multipart(MAX_UPLOAD_BYTES).await? {
                let text = || {
                    String::from_utf8(part.bytes.clone())
                        .map_err(|_| Error::invalid(part.name.clone(), "must be UTF-8 text"))
                };
                match part.name.as_str() {
                    "intent" => form.intent = Some(text()?),
                    "solution_id" => form.solution_id = Some(text()?),
                    "conversation_id" => form.conversation_id = Some(text()?),
                    "description" => form.description = Some(text()?),
                    "screenshot" | "screenshots" => form.screenshots.push(part.bytes),
                    other => {
                        return Err(Error::invalid(
                            other.to_string(),
                            "is not a field of a feedback",
                        ))
                    }
                }
            }
            Ok(form)
        }
        Some(other) => Err(Error::UnsupportedMedia(format!(
            "content-type {other} is not accepted: send application/json or multipart/form-data"
        ))),
    }
}
