//! The one error enum. Every expected failure is a variant here; the adapter maps each variant to an
//! HTTP status in exactly one place (`assistant_aws::http`).

/// Boxed source for faults we log but never show to a client.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input a person can fix: names the field and says what is wrong (400).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No identity, or identity claims that cannot be read (401).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The caller's role may not do this at all (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing of that name that the caller may see. Also used for other people's data, so that its
    /// existence is not revealed (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is valid but the state does not allow it (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Editing replies while the shop's robot (飞鸽机器人) is off (409).
    #[error("店铺未开启飞鸽机器人，暂不能编辑回复：请先开启飞鸽机器人，再编辑回复")]
    RobotOff,
    /// A request body over the size allowed for its route (413).
    #[error("{0}")]
    TooLarge(String),
    /// A request body in a format the route does not take (415).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A buyer over one of their limits (429, with `Retry-After`); nothing was written.
    #[error("{what}")]
    TooMany {
        what: String,
        retry_after_seconds: u64,
    },
    /// A route that exists but whose work is not built yet (501).
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// Storage or another dependency failed or throttled: retryable (503).
    #[error("storage unavailable")]
    Unavailable(#[source] Source),
    /// A fault in our own code or data (500). Never expected.
    #[error("internal error")]
    Internal(#[source] Source),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stable machine-readable code for the response body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid_input",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::RobotOff => "robot_off",
            Error::TooLarge(_) => "payload_too_large",
            Error::UnsupportedMedia(_) => "unsupported_media_type",
            Error::TooMany { .. } => "too_many_requests",
            Error::NotImplemented(_) => "not_implemented",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }

    /// The message a client may see: safe, short, actionable. Faults say nothing of their cause.
    pub fn public_message(&self) -> String {
        match self {
            Error::Unavailable(_) => "the service is busy; please retry shortly".into(),
            Error::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}
