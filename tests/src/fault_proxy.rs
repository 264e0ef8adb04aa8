//! A TCP proxy between the SDK and DynamoDB Local that fails requests the way the real service and
//! network can, following a per-request script:
//!
//! - `Throttle(code)`: HTTP 400 with `x-amzn-ErrorType` and the JSON body DynamoDB sends for
//!   `ProvisionedThroughputExceededException` / `ThrottlingException`, nothing forwarded;
//! - `Hang`: reads the request and never answers (the SDK's timeouts must fire);
//! - `Drop`: reads the request and closes the connection without forwarding it;
//! - `LoseAnswer`: forwards the request (DynamoDB Local does the work), then closes the connection
//!   instead of relaying the answer: the write happened, the caller cannot know.
//!
//! Requests are parsed one by one on each kept-alive connection, so every request, not every
//! connection, meets the script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Throttle(&'static str),
    Hang,
    Drop,
    LoseAnswer,
}

pub const THROUGHPUT_EXCEEDED: Fault = Fault::Throttle("ProvisionedThroughputExceededException");
pub const THROTTLING: Fault = Fault::Throttle("ThrottlingException");

/// Which requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matches {
    Any,
    /// PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem.
    Writes,
}

#[derive(Debug, Clone)]
struct Rule {
    matches: Matches,
    /// Requests that match this rule and pass untouched first.
    skip: usize,
    fault: Fault,
    /// How many more requests the fault applies to (None: until the script changes).
    remaining: Option<usize>,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The DynamoDB operation (`X-Amz-Target` without the version prefix).
    pub operation: String,
    pub fault: Fault,
}

#[derive(Default)]
struct State {
    rules: VecDeque<Rule>,
    seen: Vec<Seen>,
}

/// The proxy; it runs until the test process ends.
#[derive(Clone)]
pub struct FaultProxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
}

fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem"
    )
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let proxy = FaultProxy {
            endpoint,
            state: Arc::default(),
        };
        let state = proxy.state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream.clone(), state.clone()));
            }
        });
        proxy
    }

    /// The endpoint to give the SDK.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Replaces the script: `fault` for every matching request from now on.
    pub fn always(&self, matches: Matches, fault: Fault) {
        self.set(vec![Rule {
            matches,
            skip: 0,
            fault,
            remaining: None,
        }]);
    }

    /// Replaces the script: the first `skip` matching requests pass, then `fault` applies to
    /// `count` of them (None: to all), then requests pass again.
    pub fn after(&self, matches: Matches, skip: usize, fault: Fault, count: Option<usize>) {
        self.set(vec![Rule {
            matches,
            skip,
            fault,
            remaining: count,
        }]);
    }

    /// Every request passes.
    pub fn clear(&self) {
        self.set(Vec::new());
    }

    fn set(&self, rules: Vec<Rule>) {
        self.state.lock().unwrap().rules = rules.into();
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many requests met `fault`.
    pub fn injected(&self, fault: Fault) -> usize {
        self.seen().iter().filter(|s| s.fault == fault).count()
    }

    /// Replaces the script with rules applied in turn: each lets `skip` matching requests pass,
    /// then meets `count` of them with its fault, then gives way to the next; after the last,
    /// everything passes.
    pub fn script(&self, rules: &[(Matches, usize, Fault, usize)]) {
        self.set(
            rules
                .iter()
                .map(|&(matches, skip, fault, count)| Rule {
                    matches,
                    skip,
                    fault,
                    remaining: Some(count),
                })
                .collect(),
        );
    }

    fn decide(state: &Mutex<State>, operation: &str) -> Fault {
        let mut state = state.lock().unwrap();
        let mut fault = Fault::Pass;
        while let Some(rule) = state.rules.front_mut() {
            if rule.remaining == Some(0) {
                state.rules.pop_front();
                continue;
            }
            if rule.matches == Matches::Any || is_write(operation) {
                if rule.skip > 0 {
                    rule.skip -= 1;
                } else {
                    fault = rule.fault;
                    if let Some(n) = rule.remaining.as_mut() {
                        *n -= 1;
                    }
                }
            }
            break;
        }
        state.seen.push(Seen {
            operation: operation.to_string(),
            fault,
        });
        fault
    }
}

/// One HTTP/1.1 message, raw: the head (through the blank line) and the body as it was framed.
struct Message {
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<String> {
        String::from_utf8_lossy(&self.head)
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    }
}

/// Reads one message; None at a clean end of the connection.
async fn read_message<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    is_response: bool,
) -> std::io::Result<Option<Message>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if r.read_until(b'\n', &mut head).await? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        if &head[before..] == b"\r\n" || &head[before..] == b"\n" {
            break;
        }
    }
    let mut msg = Message {
        head,
        body: Vec::new(),
    };
    let chunked = msg
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            let mut line = Vec::new();
            r.read_until(b'\n', &mut line).await?;
            msg.body.extend_from_slice(&line);
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&line)
                    .trim()
                    .split(';')
                    .next()
                    .unwrap_or("0"),
                16,
            )
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    let mut t = Vec::new();
                    r.read_until(b'\n', &mut t).await?;
                    msg.body.extend_from_slice(&t);
                    if t == b"\r\n" || t == b"\n" || t.is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = msg.body.len();
            msg.body.resize(start + size + 2, 0);
            r.read_exact(&mut msg.body[start..]).await?;
        }
    } else if let Some(len) = msg.header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
        msg.body.resize(len, 0);
        r.read_exact(&mut msg.body).await?;
    } else if is_response {
        r.read_to_end(&mut msg.body).await?;
    }
    Ok(Some(msg))
}

fn throttle_response(code: &str) -> Vec<u8> {
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"Rate of requests exceeds the allowed throughput (injected by the test proxy)"}}"#
    );
    format!(
        "HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: fault-proxy\r\nx-amzn-ErrorType: {code}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve(client: TcpStream, upstream_addr: String, state: Arc<Mutex<State>>) {
    let _ = client.set_nodelay(true);
    let (client_read, mut client_write) = client.into_split();
    let mut client_read = BufReader::new(client_read);
    let mut upstream: Option<(BufReader<tokio::net::tcp::OwnedReadHalf>, _)> = None;
    while let Ok(Some(request)) = read_message(&mut client_read, false).await {
        let operation = request
            .header("x-amz-target")
            .and_then(|t| t.rsplit('.').next().map(str::to_string))
            .unwrap_or_default();
        let fault = FaultProxy::decide(&state, &operation);
        match fault {
            Fault::Throttle(code) => {
                if client_write
                    .write_all(&throttle_response(code))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            Fault::Hang => {
                // Hold the request until the client gives up and closes the connection.
                let mut rest = Vec::new();
                let _ = client_read.read_to_end(&mut rest).await;
                return;
            }
            Fault::Drop => return,
            Fault::Pass | Fault::LoseAnswer => {}
        }
        if upstream.is_none() {
            let Ok(conn) = TcpStream::connect(&upstream_addr).await else {
                return;
            };
            let _ = conn.set_nodelay(true);
            let (r, w) = conn.into_split();
            upstream = Some((BufReader::new(r), w));
        }
        let Some((up_read, up_write)) = upstream.as_mut() else {
            return;
        };
        if up_write.write_all(&request.head).await.is_err()
            || up_write.write_all(&request.body).await.is_err()
        {
            return;
        }
        let Ok(Some(response)) = read_message(up_read, true).await else {
            return;
        };
        if fault == Fault::LoseAnswer {
            return;
        }
        if client_write.write_all(&response.head).await.is_err()
            || client_write.write_all(&response.body).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy() -> FaultProxy {
        FaultProxy {
            endpoint: String::new(),
            state: Arc::default(),
        }
    }

    #[test]
    fn rules_skip_then_fault_then_give_way_and_reads_pass_a_writes_rule() {
        let p = proxy();
        p.script(&[
            (Matches::Writes, 1, Fault::Drop, 2),
            (Matches::Any, 0, THROTTLING, 1),
        ]);
        let ops = [
            "GetItem",
            "PutItem",
            "GetItem",
            "TransactWriteItems",
            "UpdateItem",
        ];
        let got: Vec<Fault> = ops
            .iter()
            .chain(["Query", "Query"].iter())
            .map(|op| FaultProxy::decide(&p.state, op))
            .collect();
        assert_eq!(
            got,
            [
                Fault::Pass, // a read: the writes rule does not apply
                Fault::Pass, // the first write is skipped
                Fault::Pass,
                Fault::Drop,
                Fault::Drop,
                THROTTLING,  // the next rule, for any request
                Fault::Pass, // the script is over
            ]
        );
        assert_eq!(p.injected(Fault::Drop), 2);
        p.always(Matches::Any, Fault::Hang);
        assert_eq!(FaultProxy::decide(&p.state, "GetItem"), Fault::Hang);
        p.clear();
        assert_eq!(FaultProxy::decide(&p.state, "GetItem"), Fault::Pass);
    }
}
