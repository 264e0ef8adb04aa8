//! Work that runs after the function has answered: the push fan-out (issue 17: a push never fails,
//! slows or undoes the write). The store hands each announced change to [`AfterResponse::spawn`]
//! right after its commit and the handler goes on; the posts run beside the rest of the handler
//! and the runtime's answer.
//!
//! Lambda freezes a process once the runtime asks for the next event, unless an extension is
//! still busy; a synchronous caller (API Gateway) has the answer as soon as the runtime posts it
//! ("Extensions API": an extension that runs on does not delay the response). So each function
//! that pushes registers an internal extension for `INVOKE` events ([`extension`]): each waits
//! until the invocation it names (its request id) was handled and every spawned task has
//! finished, at most [`SETTLE_LIMIT`], so the environment is frozen only with the fan-out done.
//! Locally (`cargo lambda watch`) nothing is frozen: the tasks run on while the runtime waits for
//! the next event, and an `INVOKE` of another function's invocation (it tells every extension of
//! every one) is let go at the limit, unlogged.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest an invocation's environment is held for its fan-out (a post gives up after 1.5 s:
/// `connections::timeouts`); past it the extension lets Lambda freeze the process and logs it.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(3);

/// How many invocations' request ids are remembered (started, handled): one is enough in Lambda,
/// which gives a process one invocation at a time; more covers an `INVOKE` that comes late.
const REMEMBERED: usize = 32;

/// The work spawned after the answers, and which invocations were started and handled. Cheap to
/// clone.
#[derive(Clone)]
pub struct AfterResponse {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tasks spawned and not yet finished.
    pending: watch::Sender<usize>,
    /// The request ids of the invocations the runtime started, and of those whose handler has
    /// finished (or unwound), newest last.
    invocations: watch::Sender<Invocations>,
}

#[derive(Default)]
struct Invocations {
    started: VecDeque<String>,
    handled: VecDeque<String>,
}

fn remember(ids: &mut VecDeque<String>, id: &str) {
    if ids.len() == REMEMBERED {
        ids.pop_front();
    }
    ids.push_back(id.to_string());
}

impl Default for AfterResponse {
    fn default() -> Self {
        AfterResponse {
            inner: Arc::new(Inner {
                pending: watch::Sender::new(0),
                invocations: watch::Sender::new(Invocations::default()),
            }),
        }
    }
}

/// Counts one task as pending while it lives.
struct Pending(Arc<Inner>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.pending.send_modify(|n| *n -= 1);
    }
}

/// Held by the service for one invocation; marks it handled when dropped: when its handler
/// returns, or unwinds.
pub struct Handled {
    inner: Arc<Inner>,
    request_id: String,
}

impl Drop for Handled {
    fn drop(&mut self) {
        let id = &self.request_id;
        self.inner
            .invocations
            .send_modify(|i| remember(&mut i.handled, id));
    }
}

/// How an invocation's wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// Handled, and every task spawned so far finished.
    Done,
    /// Not within the limit, though this process runs (or ran) the invocation.
    Late,
    /// An invocation this process never started: locally, `cargo lambda watch` tells every
    /// extension of every function about every invocation.
    NotOurs,
}

impl AfterResponse {
    /// Runs `work` on the runtime, beside the handler; [`AfterResponse::settle`] waits for it.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.inner.pending.send_modify(|n| *n += 1);
        let pending = Pending(self.inner.clone());
        tokio::spawn(async move {
            let _pending = pending;
            work.await;
        });
    }

    /// Starts invocation `request_id`: the service holds the guard while its handler runs.
    pub fn handling(&self, request_id: &str) -> Handled {
        self.inner
            .invocations
            .send_modify(|i| remember(&mut i.started, request_id));
        Handled {
            inner: self.inner.clone(),
            request_id: request_id.to_string(),
        }
    }

    /// Waits until invocation `request_id` was handled and no spawned task is left, at most
    /// `limit`.
    pub async fn settle(&self, request_id: &str, limit: Duration) -> Settled {
        let mut invocations = self.inner.invocations.subscribe();
        let mut pending = self.inner.pending.subscribe();
        let settled = async {
            let _ = invocations
                .wait_for(|i| i.handled.iter().any(|id| id == request_id))
                .await;
            let _ = pending.wait_for(|n| *n == 0).await;
        };
        if tokio::time::timeout(limit, settled).await.is_ok() {
            return Settled::Done;
        }
        let ours = self
            .inner
            .invocations
            .borrow()
            .started
            .iter()
            .any(|id| id == request_id);
        if ours {
            Settled::Late
        } else {
            Settled::NotOurs
        }
    }

    /// The extension's part of one `INVOKE` event.
    async fn on_invoke(&self, request_id: &str, limit: Duration) -> Settled {
        let started = std::time::Instant::now();
        let settled = self.settle(request_id, limit).await;
        if settled == Settled::Late {
            tracing::warn!(
                request_id,
                pending = *self.inner.pending.borrow(),
                millis = started.elapsed().as_millis() as u64,
                "the fan-out outlived its limit; the environment may freeze with it"
            );
        }
        settled
    }
}

/// The Extensions API's header naming the extension at registration.
const EXTENSION_NAME_HEADER: &str = "Lambda-Extension-Name";
/// The header carrying the id the registration answered.
const EXTENSION_ID_HEADER: &str = "Lambda-Extension-Identifier";
/// This extension's name.
const EXTENSION_NAME: &str = "after-response";

type BoxError = lambda_runtime_api_client::BoxError;

/// The internal extension that holds each invocation's environment until its fan-out is done:
/// registers now (before the runtime starts: the init phase ends with the runtime's first
/// `next`) for `INVOKE` events, and returns its event loop. Two calls of the Extensions API
/// (`register`, then `event/next` in a loop) through the runtime's own client,
/// `lambda_runtime_api_client`: the `lambda-extension` crate does the same but links a logs and
/// telemetry server with it, 314 KB more in intake's x86_64 `bootstrap` (8,465,608 B against 8,151,512 B).
pub async fn extension(
    after: AfterResponse,
) -> Result<impl Future<Output = Result<(), BoxError>>, BoxError> {
    use http_body_util::BodyExt;
    use lambda_runtime_api_client::{body::Body, build_request, Client};
    let client = Client::builder().build()?;
    let register = build_request()
        .method("POST")
        .uri("/2020-01-01/extension/register")
        .header(EXTENSION_NAME_HEADER, EXTENSION_NAME)
        .header("Content-Type", "application/json")
        .body(Body::from(r#"{"events":["INVOKE"]}"#))?;
    let registered = client.call(register).await?;
    if !registered.status().is_success() {
        return Err(format!("extension registration answered {}", registered.status()).into());
    }
    let id = registered
        .headers()
        .get(EXTENSION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or("extension registration answered no identifier")?
        .to_string();
    Ok(async move {
        loop {
            let next = build_request()
                .method("GET")
                .uri("/2020-01-01/extension/event/next")
                .header(EXTENSION_ID_HEADER, id.as_str())
                .body(Body::empty())?;
            let answer = client.call(next).await?;
            if !answer.status().is_success() {
                return Err(format!("extension event/next answered {}", answer.status()).into());
            }
            let body = answer.into_body().collect().await?.to_bytes();
            match event(&body) {
                Some(Event::Invoke(request_id)) => {
                    after.on_invoke(&request_id, SETTLE_LIMIT).await;
                }
                Some(Event::Shutdown) => return Ok(()),
                None => {
                    tracing::warn!(event = %String::from_utf8_lossy(&body), "unknown extension event")
                }
            }
        }
    })
}

/// An Extensions API event, as this extension needs it.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    /// `INVOKE`, with the invocation's request id.
    Invoke(String),
    Shutdown,
}

fn event(body: &[u8]) -> Option<Event> {
    #[derive(serde::Deserialize)]
    struct Raw {
        #[serde(rename = "eventType")]
        event_type: String,
        #[serde(rename = "requestId", default)]
        request_id: Option<String>,
    }
    let raw: Raw = serde_json::from_slice(body).ok()?;
    match (raw.event_type.as_str(), raw.request_id) {
        ("INVOKE", Some(id)) => Some(Event::Invoke(id)),
        ("SHUTDOWN", _) => Some(Event::Shutdown),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    const SHORT: Duration = Duration::from_millis(30);

    #[tokio::test(flavor = "current_thread")]
    async fn an_invocation_settles_once_handled_and_its_work_is_done() {
        let after = AfterResponse::default();
        let (release, hold) = oneshot::channel::<()>();
        let (done_tx, mut done) = oneshot::channel::<()>();
        let handling = after.handling("r1");
        after.spawn(async move {
            let _ = hold.await;
            let _ = done_tx.send(());
        });
        // Not handled yet: the invocation does not settle.
        assert_eq!(after.settle("r1", SHORT).await, Settled::Late);
        drop(handling);
        // Handled, but its work still runs.
        assert_eq!(after.settle("r1", SHORT).await, Settled::Late);
        assert!(done.try_recv().is_err());
        release.send(()).unwrap();
        assert_eq!(
            after.settle("r1", Duration::from_secs(5)).await,
            Settled::Done
        );
        assert!(done.try_recv().is_ok());
        // An invocation that spawned nothing settles as soon as it is handled.
        drop(after.handling("r2"));
        assert_eq!(after.settle("r2", SHORT).await, Settled::Done);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_invoke_before_its_handler_waits_for_it() {
        let after = AfterResponse::default();
        let waiting = {
            let after = after.clone();
            tokio::spawn(async move { after.on_invoke("r7", Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        let handling = after.handling("r7");
        after.spawn(async {});
        drop(handling);
        assert_eq!(waiting.await.unwrap(), Settled::Done);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_handler_that_unwinds_still_counts_as_handled() {
        let after = AfterResponse::default();
        let held = after.clone();
        let unwound = tokio::spawn(async move {
            let _handling = held.handling("r3");
            panic!("the handler failed");
        })
        .await;
        assert!(unwound.is_err());
        assert_eq!(
            after.settle("r3", Duration::from_secs(5)).await,
            Settled::Done
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_invoke_for_an_invocation_never_started_here_waits_only_its_limit() {
        // Locally every extension hears of every function's invocations.
        let after = AfterResponse::default();
        drop(after.handling("ours"));
        assert_eq!(
            after.on_invoke("another-functions", SHORT).await,
            Settled::NotOurs
        );
        assert_eq!(after.on_invoke("ours", SHORT).await, Settled::Done);
    }

    #[test]
    fn only_the_last_invocations_are_remembered() {
        let mut ids = VecDeque::new();
        for n in 0..100 {
            remember(&mut ids, &n.to_string());
        }
        assert_eq!(ids.len(), REMEMBERED);
        assert_eq!(ids.back().map(String::as_str), Some("99"));
    }

    #[test]
    fn the_extension_reads_each_event() {
        let invoke = br#"{"eventType":"INVOKE","deadlineMs":1,"requestId":"r","invokedFunctionArn":"a","tracing":{"type":"X-Amzn-Trace-Id","value":"v"}}"#;
        assert_eq!(event(invoke), Some(Event::Invoke("r".to_string())));
        let shutdown = br#"{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":1}"#;
        assert_eq!(event(shutdown), Some(Event::Shutdown));
        assert_eq!(event(br#"{"eventType":"INVOKE"}"#), None);
        assert_eq!(event(b"not json"), None);
    }
}
