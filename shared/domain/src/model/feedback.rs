//! Feedback (我要反馈): an agent tells the platform a solution was wrong, with a description and
//! up to three screenshots. Images are recognised by their bytes, never by a name or a header.
//! The record, the form as it arrives, and the check of the whole form; sending and listing are
//! in [`crate::usecases::feedback`].

use crate::error::{Error, Result};
use crate::intent::IntentId;
use crate::model::ids::{ConversationId, ShopId, UserId};
use crate::model::solution::by_id;
use crate::model::time::Millis;
use crate::model::usage::{SolutionEvent, StatEvent};
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

    /// The kind a stored screenshot's content type names.
    pub fn of_content_type(content_type: &str) -> Option<Self> {
        [ImageKind::Png, ImageKind::Jpeg, ImageKind::Webp]
            .into_iter()
            .find(|k| k.content_type() == content_type)
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
}

/// A feedback id as the routes carry it: `{created_at:013}-{32 hex}`, as the use case mints it.
/// Anything else (a 1,100-character id would be over DynamoDB's key limit) is refused as input.
pub fn parse_feedback_id(raw: &str) -> Result<&str> {
    let ok = raw.len() == 13 + 1 + 32
        && raw.as_bytes()[13] == b'-'
        && raw[..13].bytes().all(|b| b.is_ascii_digit())
        && raw[14..]
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(raw)
    } else {
        Err(Error::invalid("feedback_id", "is not a feedback id"))
    }
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
    /// Where screenshot `index` lives in the private bucket. Worked out here, never stored in
    /// the record nor shown in any answer.
    pub fn blob_key(&self, index: usize, kind: ImageKind) -> String {
        format!(
            "feedback/{}/{}/{index}.{}",
            self.shop_id,
            self.feedback_id,
            kind.extension()
        )
    }

    /// The bucket key of a stored screenshot.
    pub fn screenshot_key(&self, shot: &Screenshot) -> Result<String> {
        let kind = ImageKind::of_content_type(&shot.content_type)
            .ok_or_else(|| Error::Internal("a stored screenshot of an unknown type".into()))?;
        Ok(self.blob_key(shot.index, kind))
    }

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
pub struct Checked {
    pub intent: IntentId,
    pub solution_id: Option<String>,
    pub conversation_id: Option<ConversationId>,
    pub description: String,
    pub images: Vec<(ImageKind, Vec<u8>)>,
}

/// Checks a whole form: every field and every image, before anything is stored.
pub fn check(form: FeedbackForm) -> Result<Checked> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn feedback_ids_are_what_the_use_case_mints_and_nothing_else() {
        let id = format!(
            "{:013}-{}",
            1_795_428_260_000u64,
            crate::model::ids::new_id()
        );
        assert_eq!(parse_feedback_id(&id).unwrap(), id);
        for bad in [
            "",
            "x",
            &"a".repeat(1100),
            "1795428260000_738dea95afdd482e9fc416cf3f50eb77",
            "179542826000a-738dea95afdd482e9fc416cf3f50eb77",
            "1795428260000-738DEA95AFDD482E9FC416CF3F50EB77",
            "1795428260000-738dea95afdd482e9fc416cf3f50eb7",
            "1795428260000-738dea95afdd482e9fc416cf3f50eb77x",
        ] {
            assert!(
                matches!(parse_feedback_id(bad), Err(Error::Invalid { .. })),
                "{bad}"
            );
        }
    }

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
        // Each change to a good form, and what the refusal must say.
        type Change = fn(&mut FeedbackForm);
        let refused: [(Change, &str); 7] = [
            (|f| f.intent = None, "intent"),
            (|f| f.description = Some("  ".into()), "description"),
            (
                |f| f.description = Some("字".repeat(MAX_DESCRIPTION_CHARS + 1)),
                "at most 500",
            ),
            (
                |f| f.solution_id = Some("logistics.shipped".into()),
                "another intent",
            ),
            (|f| f.screenshots = vec![PNG.to_vec(); 4], "at most 3"),
            (
                |f| f.screenshots = vec![PNG.to_vec(), GIF.to_vec()],
                "screenshots[1]: must be a PNG, JPEG or WebP",
            ),
            (
                |f| {
                    let mut big = PNG.to_vec();
                    big.resize(MAX_SCREENSHOT_BYTES + 1, 0);
                    f.screenshots = vec![big];
                },
                "at most 1024 KiB",
            ),
        ];
        for (change, says) in refused {
            let mut f = form();
            change(&mut f);
            let err = check(f).unwrap_err().to_string();
            assert!(err.contains(says), "{err} should say {says}");
        }
        // Without screenshots and without a solution is fine.
        assert!(check(FeedbackForm {
            screenshots: vec![],
            solution_id: None,
            ..form()
        })
        .is_ok());
    }
}
