//! Feedback (我要反馈): an agent tells the platform a solution was wrong, with a description and
//! up to three screenshots. Images are recognised by their bytes, never by a name or a header.
//! Everything is checked before anything is stored, and a failed store leaves nothing behind: no
//! image without its record, no record without its images.

use crate::error::{Error, Result};
use crate::identity::Actor;
use crate::ids::{new_id, ConversationId, ShopId, UserId};
use crate::intent::IntentId;
use crate::solution::by_id;
use crate::store::{BlobStore, ConversationStore, FeedbackStore, Page, SolutionEvent, StatEvent};
use crate::time::Millis;
use serde::{Deserialize, Serialize};

pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_SCREENSHOTS: usize = 3;
/// Largest screenshot, in bytes.
pub const MAX_SCREENSHOT_BYTES: usize = 1024 * 1024;
/// Largest feedback page.
pub const MAX_PAGE: usize = 50;
pub const DEFAULT_PAGE: usize = 20;

/// The image types a screenshot may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    /// The type the bytes are, by their signature (the `infer` crate), if it is one we take.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match infer::get(bytes)?.mime_type() {
            "image/png" => Some(ImageKind::Png),
            "image/jpeg" => Some(ImageKind::Jpeg),
            "image/webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Webp => "webp",
        }
    }
}

/// A stored screenshot of a feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screenshot {
    pub index: usize,
    pub content_type: String,
    pub bytes: usize,
    /// The object's key in the screenshot bucket.
    pub key: String,
}

/// A feedback record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Sorts by time: the creation instant, then a random part.
    pub feedback_id: String,
    pub shop_id: ShopId,
    pub author: UserId,
    pub intent: IntentId,
    pub solution_id: Option<String>,
    pub conversation_id: Option<ConversationId>,
    pub description: String,
    pub created_at: Millis,
    pub screenshots: Vec<Screenshot>,
}

impl Feedback {
    /// The stat row its count goes to: the solution, or the intent when none was named.
    pub fn stat(&self) -> StatEvent {
        StatEvent {
            shop: self.shop_id.clone(),
            solution_id: self
                .solution_id
                .clone()
                .unwrap_or_else(|| self.intent.as_str().to_string()),
            event: SolutionEvent::Feedback,
        }
    }
}

/// A feedback as the request carried it: text fields and raw image bytes (already out of base64
/// or multipart).
#[derive(Debug, Clone, Default)]
pub struct FeedbackForm {
    pub intent: Option<String>,
    pub solution_id: Option<String>,
    pub conversation_id: Option<String>,
    pub description: Option<String>,
    pub screenshots: Vec<Vec<u8>>,
}

/// A checked form, ready to store.
#[derive(Debug, Clone)]
struct Checked {
    intent: IntentId,
    solution_id: Option<String>,
    conversation_id: Option<ConversationId>,
    description: String,
    images: Vec<(ImageKind, Vec<u8>)>,
}

fn check(form: FeedbackForm) -> Result<Checked> {
    let raw_intent = form
        .intent
        .as_deref()
        .ok_or_else(|| Error::invalid("intent", "is required"))?;
    let intent = IntentId::parse(raw_intent.trim())
        .ok_or_else(|| Error::invalid("intent", "is not a known intent id"))?;
    let solution_id = match form.solution_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => match by_id(id) {
            Some(s) if s.intent == intent => Some(id.to_string()),
            Some(_) => {
                return Err(Error::invalid(
                    "solution_id",
                    "belongs to another intent than the one given",
                ))
            }
            None => return Err(Error::invalid("solution_id", "is not a known solution")),
        },
    };
    let conversation_id = match form.conversation_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(ConversationId::parse(id)?),
    };
    let description = form.description.as_deref().unwrap_or("").trim().to_string();
    if description.is_empty() {
        return Err(Error::invalid(
            "description",
            "is required: say what is wrong with the answer",
        ));
    }
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters (got {chars})"),
        ));
    }
    if form.screenshots.len() > MAX_SCREENSHOTS {
        return Err(Error::invalid(
            "screenshots",
            format!(
                "at most {MAX_SCREENSHOTS} screenshots (got {})",
                form.screenshots.len()
            ),
        ));
    }
    let mut images = Vec::with_capacity(form.screenshots.len());
    for (i, bytes) in form.screenshots.into_iter().enumerate() {
        let field = format!("screenshots[{i}]");
        if bytes.is_empty() {
            return Err(Error::invalid(field, "is empty"));
        }
        if bytes.len() > MAX_SCREENSHOT_BYTES {
            return Err(Error::invalid(
                field,
                format!(
                    "must be at most {} KiB (got {} KiB)",
                    MAX_SCREENSHOT_BYTES / 1024,
                    bytes.len().div_ceil(1024)
                ),
            ));
        }
        let kind = ImageKind::sniff(&bytes)
            .ok_or_else(|| Error::invalid(field, "must be a PNG, JPEG or WebP image"))?;
        images.push((kind, bytes));
    }
    Ok(Checked {
        intent,
        solution_id,
        conversation_id,
        description,
        images,
    })
}

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
    let (author, shop) = actor.require_staff()?;
    let checked = check(form)?;
    if let Some(id) = &checked.conversation_id {
        match store.conversation(id).await? {
            Some(c) if c.visible_to(actor) => {}
            _ => return Err(Error::NotFound("conversation")),
        }
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
        let key = format!("feedback/{shop}/{feedback_id}/{index}.{}", kind.extension());
        let size = bytes.len();
        if let Err(e) = blobs.put_blob(&key, bytes, kind.content_type()).await {
            remove_all(blobs, &feedback.screenshots).await;
            return Err(e);
        }
        feedback.screenshots.push(Screenshot {
            index,
            content_type: kind.content_type().into(),
            bytes: size,
            key,
        });
    }
    if let Err(e) = store.put_feedback(&feedback, &feedback.stat()).await {
        remove_all(blobs, &feedback.screenshots).await;
        return Err(e);
    }
    Ok(feedback)
}

/// Best effort: deletes screenshots whose record was not written. A failure here is logged by the
/// caller's error; the objects are private and unreferenced.
async fn remove_all<B: BlobStore>(blobs: &B, shots: &[Screenshot]) {
    for s in shots {
        let _ = blobs.delete_blob(&s.key).await;
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

/// The shop a caller may list feedback of: the platform any or all, a shop admin their own.
fn listing_scope(actor: &Actor, asked: Option<ShopId>) -> Result<Option<ShopId>> {
    match actor {
        Actor::Platform(_) => Ok(asked),
        Actor::ShopAdmin { shop, .. } => match asked {
            Some(s) if s != *shop => Err(Error::Forbidden(
                "a shop admin may list only their own shop's feedback".into(),
            )),
            _ => Ok(Some(shop.clone())),
        },
        _ => Err(Error::Forbidden(
            "only shop admins and the platform may read feedback".into(),
        )),
    }
}

pub async fn list_feedback<S: FeedbackStore>(
    store: &S,
    actor: &Actor,
    query: FeedbackQuery,
) -> Result<Page<Feedback>> {
    let asked = query.shop_id.map(ShopId::parse).transpose()?;
    let scope = listing_scope(actor, asked)?;
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
    listing_scope(actor, None)?;
    let feedback = store
        .feedback(feedback_id)
        .await?
        .filter(|f| match actor {
            Actor::Platform(_) => true,
            Actor::ShopAdmin { shop, .. } => *shop == f.shop_id,
            _ => false,
        })
        .ok_or(Error::NotFound("feedback"))?;
    let index: usize = index
        .parse()
        .map_err(|_| Error::invalid("index", "must be a whole number"))?;
    let shot = feedback
        .screenshots
        .get(index)
        .ok_or(Error::NotFound("screenshot"))?;
    let bytes = blobs
        .get_blob(&shot.key)
        .await?
        .ok_or(Error::NotFound("screenshot"))?;
    Ok((shot.content_type.clone(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
    const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0];
    const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 ";
    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00";

    fn form() -> FeedbackForm {
        FeedbackForm {
            intent: Some("urge_shipment".into()),
            solution_id: Some("urge_shipment.overdue".into()),
            conversation_id: None,
            description: Some("新日期说得太死了".into()),
            screenshots: vec![PNG.to_vec()],
        }
    }

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(ImageKind::sniff(PNG), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(JPEG), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(WEBP), Some(ImageKind::Webp));
        assert_eq!(ImageKind::sniff(GIF), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns=..."), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[test]
    fn a_form_is_checked_whole() {
        let ok = check(form()).unwrap();
        assert_eq!(ok.images[0].0, ImageKind::Png);
        let err = |f: FeedbackForm| check(f).unwrap_err().to_string();
        assert!(err(FeedbackForm {
            intent: None,
            ..form()
        })
        .contains("intent"));
        assert!(err(FeedbackForm {
            description: Some("  ".into()),
            ..form()
        })
        .contains("description"));
        assert!(err(FeedbackForm {
            description: Some("字".repeat(MAX_DESCRIPTION_CHARS + 1)),
            ..form()
        })
        .contains("at most 500"));
        assert!(err(FeedbackForm {
            solution_id: Some("logistics.shipped".into()),
            ..form()
        })
        .contains("another intent"));
        assert!(err(FeedbackForm {
            screenshots: vec![PNG.to_vec(); 4],
            ..form()
        })
        .contains("at most 3"));
        assert!(err(FeedbackForm {
            screenshots: vec![PNG.to_vec(), GIF.to_vec()],
            ..form()
        })
        .contains("screenshots[1]: must be a PNG, JPEG or WebP"));
        let mut big = PNG.to_vec();
        big.resize(MAX_SCREENSHOT_BYTES + 1, 0);
        assert!(err(FeedbackForm {
            screenshots: vec![big],
            ..form()
        })
        .contains("at most 1024 KiB"));
        // Without screenshots and without a solution is fine.
        assert!(check(FeedbackForm {
            screenshots: vec![],
            solution_id: None,
            ..form()
        })
        .is_ok());
    }

    #[test]
    fn listing_is_scoped() {
        let admin = Actor::from_claims(Some("a"), Some("shop_admin"), Some("s1")).unwrap();
        let agent = Actor::from_claims(Some("b"), Some("agent"), Some("s1")).unwrap();
        let platform = Actor::from_claims(Some("p"), Some("platform"), None).unwrap();
        let s1 = ShopId::parse("s1").unwrap();
        let s2 = ShopId::parse("s2").unwrap();
        assert_eq!(listing_scope(&admin, None).unwrap(), Some(s1.clone()));
        assert_eq!(listing_scope(&admin, Some(s1.clone())).unwrap(), Some(s1));
        assert!(listing_scope(&admin, Some(s2.clone())).is_err());
        assert!(listing_scope(&agent, None).is_err());
        assert_eq!(listing_scope(&platform, None).unwrap(), None);
        assert_eq!(
            listing_scope(&platform, Some(s2.clone())).unwrap(),
            Some(s2)
        );
    }
}
