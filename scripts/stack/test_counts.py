"""counts.py: the DynamoDB proxy passes every request and answer through unchanged and counts it by
operation (reads apart); invocations and @connections posts are counted; `GET /local/counts`
answers them. Run: python3 -m unittest (in scripts/stack)."""

import http.client
import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import counts as cnt
import gateway as gw

ROOT = Path(__file__).resolve().parents[2]


class Upstream(BaseHTTPRequestHandler):
    """Answers each request with what it got: its target, its body and a header of its own."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        data = json.dumps({"target": self.headers.get("x-amz-target"), "got": body.decode(),
                           "auth": self.headers.get("authorization")}).encode()
        self.send_response(400 if b"fail" in body else 200)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("x-amz-crc32", "12345")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ProxyTest(unittest.TestCase):
    def setUp(self):
        self.upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
        threading.Thread(target=self.upstream.serve_forever, daemon=True).start()
        self.counts = cnt.Counts()
        self.proxy = cnt.dynamodb_proxy(f"http://127.0.0.1:{self.upstream.server_address[1]}", self.counts)
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()

    def tearDown(self):
        for s in (self.proxy, self.upstream):
            s.shutdown()
            s.server_close()

    def test_requests_pass_through_and_are_counted_by_operation(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.server_address[1], timeout=10)
        sent = [("GetItem", b'{"Key":1}'), ("Query", b'{"q":"\xe4\xb8\xad"}'), ("PutItem", b'{"fail":1}'),
                ("Query", b"{}"), ("TransactWriteItems", b"{}")]
        for op, body in sent:  # one keep-alive connection, as the SDK keeps one
            conn.request("POST", "/", body=body, headers={"x-amz-target": f"DynamoDB_20120810.{op}",
                                                          "authorization": "AWS4 sig"})
            resp = conn.getresponse()
            answer = json.loads(resp.read())
            self.assertEqual(resp.status, 400 if b"fail" in body else 200)
            self.assertEqual(resp.getheader("x-amz-crc32"), "12345")
            self.assertEqual(answer, {"target": f"DynamoDB_20120810.{op}", "got": body.decode(),
                                      "auth": "AWS4 sig"})
        conn.close()
        snap = self.counts.snapshot()
        self.assertEqual(snap["dynamodb"], {"GetItem": 1, "Query": 2, "PutItem": 1, "TransactWriteItems": 1})
        self.assertEqual(snap["dynamodb_requests"], 5)
        self.assertEqual(snap["dynamodb_reads"], 3)
        # The gateway's counts read the proxy's over HTTP, as when the proxy is its own process.
        gateway_side = cnt.Counts(dynamodb_url=f"http://127.0.0.1:{self.proxy.server_address[1]}")
        gateway_side.add("lambda", "intake")
        remote = gateway_side.snapshot()
        self.assertEqual(remote["dynamodb"], snap["dynamodb"])
        self.assertEqual(remote["dynamodb_reads"], 3)
        self.assertEqual(remote["lambda_invocations"], 1)


class GatewayCountsTest(unittest.TestCase):
    def gateway(self, counts):
        class Echo:
            def invoke(self, binary, event, timeout=None):
                return {"statusCode": 200, "body": "{}"}

        class Sockets:
            def post(self, connection, body):
                return connection == "live"

        template = gw.load_template(ROOT / "template.yaml")
        issuer, audience = gw.jwt_settings(template)
        g = gw.Gateway(routes=gw.routes_from_template(template), authority=gw.Authority(issuer, audience),
                       invoker=cnt.CountingInvoker(Echo(), counts) if counts else Echo(), identities=[],
                       console_dir=ROOT / "console", openapi_path=ROOT / "openapi.yaml",
                       compensate_event=ROOT / "events" / "compensate-schedule.json", counts=counts)
        g.sockets = Sockets()
        return g

    def test_invocations_and_pushes_are_counted_and_answered(self):
        counts = cnt.Counts()
        g = self.gateway(counts)
        g.invoker.invoke("intake", {})
        g.invoker.invoke("intake", {})
        g.invoker.invoke("push", {})
        self.assertEqual(g.handle("POST", "/live/@connections/live", [], b"{}").status, 200)
        self.assertEqual(g.handle("POST", "/live/@connections/gone", [], b"{}").status, 410)
        answer = g.handle("GET", "/local/counts", [], b"")
        self.assertEqual(answer.status, 200)
        snap = json.loads(answer.body)
        self.assertEqual(snap["lambda"], {"intake": 2, "push": 1})
        self.assertEqual(snap["lambda_invocations"], 3)
        self.assertEqual(snap["pushes"], 2)
        # Without the proxy nobody counted DynamoDB: unknown, not zero.
        self.assertIsNone(snap["dynamodb_reads"])

    def test_a_stack_that_does_not_count_has_no_counts_route(self):
        self.assertEqual(self.gateway(None).handle("GET", "/local/counts", [], b"").status, 404)


if __name__ == "__main__":
    unittest.main()
