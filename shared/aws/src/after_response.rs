//! Work that runs after the function has answered: the push fan-out (issue 17: a push never fails,
//! slows or undoes the write). The store hands each announced change to [`AfterResponse::spawn`]
//! right after its commit and the handler goes on; the posts run beside the rest of the handler
//! and the runtime's answer.
//!
//! Lambda freezes a process once the runtime asks for the next event, unless an extension is
//! still busy; a synchronous caller (API Gateway) has the answer as soon as the runtime posts it
//! ("Extensions API": an extension that runs on does not delay the response). So each function
//! that pushes registers an internal extension for `INVOKE` events ([`extension`]) whose k-th
//! event waits until the k-th invocation was handled and every spawned task has finished, at most
//! [`SETTLE_LIMIT`]: the environment is frozen only with the fan-out done. Locally
//! (`cargo lambda watch`) nothing is frozen; the tasks run on while the runtime waits for the next
//! event, and an `INVOKE` that reaches the extension late or not at all only waits less.

use lambda_extension::{Extension, LambdaEvent, NextEvent};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The longest an invocation's environment is held for its fan-out (a post gives up after 1.5 s:
/// `connections::timeouts`); past it the extension lets Lambda freeze the process and logs it.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(3);

/// The work spawned after the answers, and how many invocations were handled. Cheap to clone.
#[derive(Clone)]
pub struct AfterResponse {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tasks spawned and not yet finished.
    pending: watch::Sender<usize>,
    /// Invocations whose handler has finished (or unwound).
    handled: watch::Sender<u64>,
    /// `INVOKE` events the extension received.
    invokes: AtomicU64,
}

impl Default for AfterResponse {
    fn default() -> Self {
        AfterResponse {
            inner: Arc::new(Inner {
                pending: watch::Sender::new(0),
                handled: watch::Sender::new(0),
                invokes: AtomicU64::new(0),
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

/// Marks the invocation handled when dropped: when its handler returns, or unwinds.
pub struct Handled(Arc<Inner>);

impl Drop for Handled {
    fn drop(&mut self) {
        self.0.handled.send_modify(|n| *n += 1);
    }
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

    /// Held by the service for one invocation: dropped, it counts the invocation handled.
    pub fn handling(&self) -> Handled {
        Handled(self.inner.clone())
    }

    /// Waits until `invocations` invocations were handled and no spawned task is left, at most
    /// `limit`; whether it settled in time.
    pub async fn settle(&self, invocations: u64, limit: Duration) -> bool {
        let mut handled = self.inner.handled.subscribe();
        let mut pending = self.inner.pending.subscribe();
        let settled = async {
            let _ = handled.wait_for(|n| *n >= invocations).await;
            let _ = pending.wait_for(|n| *n == 0).await;
        };
        tokio::time::timeout(limit, settled).await.is_ok()
    }

    /// The extension's part of one `INVOKE` event: the k-th waits for the k-th invocation.
    async fn on_invoke(&self) {
        let k = self.inner.invokes.fetch_add(1, Ordering::SeqCst) + 1;
        let started = std::time::Instant::now();
        if !self.settle(k, SETTLE_LIMIT).await {
            tracing::warn!(
                pending = *self.inner.pending.borrow(),
                millis = started.elapsed().as_millis() as u64,
                "the fan-out outlived its limit; the environment may freeze with it"
            );
        }
    }
}

/// The internal extension that holds each invocation's environment until its fan-out is done;
/// register it before the runtime starts (the init phase ends with the runtime's first `next`).
pub async fn extension(
    after: AfterResponse,
) -> Result<impl Future<Output = Result<(), lambda_extension::Error>>, lambda_extension::Error> {
    let registered = Extension::new()
        .with_extension_name("after-response")
        .with_events(&["INVOKE"])
        .with_events_processor(lambda_extension::service_fn(move |event: LambdaEvent| {
            let after = after.clone();
            async move {
                if let NextEvent::Invoke(_) = event.next {
                    after.on_invoke().await;
                }
                Ok::<(), lambda_extension::Error>(())
            }
        }))
        .register()
        .await?;
    Ok(registered.run())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test(flavor = "current_thread")]
    async fn an_invocation_settles_once_handled_and_its_work_is_done() {
        let after = AfterResponse::default();
        let (release, hold) = oneshot::channel::<()>();
        let (done_tx, mut done) = oneshot::channel::<()>();
        let handling = after.handling();
        after.spawn(async move {
            let _ = hold.await;
            let _ = done_tx.send(());
        });
        // Not handled yet: the first invocation does not settle.
        assert!(!after.settle(1, Duration::from_millis(30)).await);
        drop(handling);
        // Handled, but its work still runs.
        assert!(!after.settle(1, Duration::from_millis(30)).await);
        assert!(done.try_recv().is_err());
        release.send(()).unwrap();
        assert!(after.settle(1, Duration::from_secs(5)).await);
        assert!(done.try_recv().is_ok());
        // Nothing pending and already handled: an invocation that spawned nothing settles at once.
        drop(after.handling());
        assert!(after.settle(2, Duration::from_millis(30)).await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_handler_that_unwinds_still_counts_as_handled() {
        let after = AfterResponse::default();
        let held = after.clone();
        let unwound = tokio::spawn(async move {
            let _handling = held.handling();
            panic!("the handler failed");
        })
        .await;
        assert!(unwound.is_err());
        assert!(after.settle(1, Duration::from_secs(5)).await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_invoke_that_arrives_late_or_never_only_waits_less() {
        // Locally the extension may miss events: its count lags the invocations, never blocks.
        let after = AfterResponse::default();
        for _ in 0..3 {
            drop(after.handling());
        }
        after.on_invoke().await;
        assert_eq!(after.inner.invokes.load(Ordering::SeqCst), 1);
        assert!(after.settle(1, Duration::from_millis(30)).await);
    }
}
