//! Feedback (我要反馈): an agent tells the platform a solution was wrong, with a description and
//! up to three screenshots. The form is checked whole before anything is stored
//! ([`crate::model::feedback::check`]), and a failed store leaves nothing behind: no image without
//! its record, no record without its images.

use crate::access;
use crate::error::{Error, Result};
use crate::intent::IntentId;
use crate::model::feedback::{
    check, parse_feedback_id, Feedback, FeedbackForm, Screenshot, DEFAULT_PAGE, MAX_PAGE,
};
use crate::model::identity::Actor;
use crate::model::ids::{new_id, ShopId};
use crate::model::time::Millis;
use crate::ports::{BlobStore, ConversationStore, FeedbackStore, Page};
use serde::Deserialize;

/// Sends a feedback: checks all of it, stores the screenshots, then the record with its count.
/// If any step fails, the screenshots already stored are deleted again.
pub async fn post_feedback<S, B>(
    store: &S,
    blobs: &B,
    actor: &Actor,
    form: FeedbackForm,
    now: Millis,
) -> Result<Feedback>
where
    S: FeedbackStore + ConversationStore,
    B: BlobStore,
{
    let (author, shop) = access::staff(actor)?;
    let checked = check(form)?;
    if let Some(id) = &checked.conversation_id {
        access::conversation(actor, store.conversation(id).await?)?;
    }
    let feedback_id = format!("{now:013}-{}", new_id());
    let mut feedback = Feedback {
        feedback_id: feedback_id.clone(),
        shop_id: shop.clone(),
        author: author.clone(),
        intent: checked.intent,
        solution_id: checked.solution_id,
        conversation_id: checked.conversation_id,
        description: checked.description,
        created_at: now,
        screenshots: Vec::new(),
    };
    for (index, (kind, bytes)) in checked.images.into_iter().enumerate() {
        let key = feedback.blob_key(index, kind);
        let size = bytes.len();
        if let Err(e) = blobs.put_blob(&key, bytes, kind.content_type()).await {
            remove_all(blobs, &feedback).await;
            return Err(e);
        }
        feedback.screenshots.push(Screenshot {
            index,
            content_type: kind.content_type().into(),
            bytes: size,
        });
    }
    if let Err(e) = store.put_feedback(&feedback, &feedback.stat()).await {
        remove_all(blobs, &feedback).await;
        return Err(e);
    }
    Ok(feedback)
}

/// Best effort: deletes screenshots whose record was not written. A failure here is logged by the
/// caller's error; the objects are private and unreferenced.
async fn remove_all<B: BlobStore>(blobs: &B, feedback: &Feedback) {
    for s in &feedback.screenshots {
        if let Ok(key) = feedback.screenshot_key(s) {
            let _ = blobs.delete_blob(&key).await;
        }
    }
}

/// What a feedback listing asks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeedbackQuery {
    pub intent: Option<String>,
    pub shop_id: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

pub async fn list_feedback<S: FeedbackStore>(
    store: &S,
    actor: &Actor,
    query: FeedbackQuery,
) -> Result<Page<Feedback>> {
    let asked = query.shop_id.map(ShopId::parse).transpose()?;
    let scope = access::feedback_scope(actor, asked)?;
    let intent = match query.intent.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            IntentId::parse(raw)
                .ok_or_else(|| Error::invalid("intent", "is not a known intent id"))?,
        ),
    };
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_PAGE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(Error::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                ))
            }
        },
    };
    store
        .feedback_page(scope.as_ref(), intent, limit, query.cursor)
        .await
}

/// One screenshot of a feedback the caller may read: its content type and bytes.
pub async fn screenshot<S: FeedbackStore, B: BlobStore>(
    store: &S,
    blobs: &B,
    actor: &Actor,
    feedback_id: &str,
    index: &str,
) -> Result<(String, Vec<u8>)> {
    // Parsed before any read: an id over DynamoDB's key limit was a 500.
    let feedback_id = parse_feedback_id(feedback_id)?;
    access::feedback_reader(actor)?;
    let feedback = access::feedback_record(actor, store.feedback(feedback_id).await?)?;
    let index: usize = index
        .parse()
        .map_err(|_| Error::invalid("index", "must be a whole number"))?;
    let shot = feedback
        .screenshots
        .get(index)
        .ok_or(Error::NotFound("screenshot"))?;
    let bytes = blobs
        .get_blob(&feedback.screenshot_key(shot)?)
        .await?
        .ok_or(Error::NotFound("screenshot"))?;
    Ok((shot.content_type.clone(), bytes))
}
