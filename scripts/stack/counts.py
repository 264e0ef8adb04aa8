"""What the local stack did, counted: every function invocation (HTTP routes, WebSocket routes,
the sweep, order events), every `@connections` post, and, when asked for, every DynamoDB request
by operation. `GET /local/counts` answers them (scripts/push-bench.sh reads them before and after
an idle console, and per buyer message).

DynamoDB requests are counted by a small forwarding proxy in front of DynamoDB Local: the
functions' `AWS_ENDPOINT_URL_DYNAMODB` names the proxy, which counts each request by its
`X-Amz-Target` and passes it on unchanged, and answers its counts at `GET /__counts` (DynamoDB's
API is `POST /` only). It runs as a process of its own (`python3 counts.py --upstream URL --port
N`), so that its work never waits on the gateway's interpreter lock nor the gateway on it; it
still costs a local hop per request, so the stack starts it only with `STACK_COUNT_DYNAMODB=1`
(the load runs go without it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# The operations that read: what "DynamoDB reads" counts.
READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


class Counts:
    """Thread-safe counters, by kind (`lambda`, `dynamodb`, `push`) and name. The DynamoDB ones
    are counted here (`dynamodb_proxy` in this process) or read from the proxy's process at
    `dynamodb_url` (its `GET /__counts`)."""

    def __init__(self, dynamodb_url: str | None = None) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, Counter] = {"lambda": Counter(), "dynamodb": Counter(), "push": Counter()}
        self.dynamodb_counted = dynamodb_url is not None
        self.dynamodb_url = dynamodb_url

    def add(self, kind: str, name: str) -> None:
        with self.lock:
            self.by_kind[kind][name] += 1

    def snapshot(self) -> dict[str, Any]:
        remote = None
        if self.dynamodb_url is not None:
            with urllib.request.urlopen(f"{self.dynamodb_url}/__counts", timeout=10) as resp:
                remote = json.loads(resp.read())["dynamodb"]
        with self.lock:
            out: dict[str, Any] = {kind: dict(c) for kind, c in self.by_kind.items()}
            if remote is not None:
                out["dynamodb"] = remote
            out["lambda_invocations"] = sum(self.by_kind["lambda"].values())
            out["pushes"] = sum(self.by_kind["push"].values())
            if self.dynamodb_counted:
                ddb = out["dynamodb"]
                out["dynamodb_requests"] = sum(ddb.values())
                out["dynamodb_reads"] = sum(n for op, n in ddb.items() if op in READS)
            else:
                out["dynamodb_requests"] = out["dynamodb_reads"] = None
        return out


class CountingInvoker:
    """An invoker (`gateway.Invoker`) whose every invocation is counted by binary."""

    def __init__(self, invoker: Any, counts: Counts) -> None:
        self.inner = invoker
        self.counts = counts

    def invoke(self, binary: str, event: dict, timeout: float | None = None) -> Any:
        self.counts.add("lambda", binary)
        return self.inner.invoke(binary, event, timeout=timeout)


def dynamodb_proxy(upstream: str, counts: Counts, port: int = 0) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (`port`, or a free one) that forwards every request to `upstream`
    (DynamoDB Local's URL) as it came, counting it by operation, and answers the counts at
    `GET /__counts`. Keep-alive on both sides."""
    target = urlsplit(upstream)
    local = threading.local()
    counts.dynamodb_counted = True

    def upstream_connection() -> http.client.HTTPConnection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per answer, at once (see gateway.make_server).
        disable_nagle_algorithm = True
        wbufsize = -1

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # the counts, for the gateway's /local/counts
            data = json.dumps(counts.snapshot()).encode()
            self.send_response(200 if self.path == "/__counts" else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # DynamoDB's API is POST / with X-Amz-Target
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            op = (self.headers.get("x-amz-target") or "?").rpartition(".")[2]
            counts.add("dynamodb", op)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection", "content-length", "transfer-encoding")}
            headers["content-length"] = str(len(body))
            for attempt in (1, 2):
                conn = upstream_connection()
                try:
                    conn.request("POST", self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        self.send_error(502, "DynamoDB Local did not answer")
                        return
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "content-length", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description="The counting proxy in front of DynamoDB Local.")
    ap.add_argument("--upstream", required=True, help="DynamoDB Local's URL")
    ap.add_argument("--port", type=int, required=True, help="the port to serve on (127.0.0.1)")
    args = ap.parse_args()
    dynamodb_proxy(args.upstream, Counts(), args.port).serve_forever()


if __name__ == "__main__":
    main()
