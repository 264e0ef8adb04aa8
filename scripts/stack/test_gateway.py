"""Unit tests of the local gateway: template routes, the JWT check, the event it builds, the
answer it maps back, and a real HTTP round trip against a fake Lambda Invoke API.

    python3 -m unittest discover -s scripts/stack -p 'test_*.py'
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import posixpath
import re
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import urllib.error
import urllib.request

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway as gw  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def template() -> dict:
    return gw.load_template(ROOT / "template.yaml")


class TemplateRoutes(unittest.TestCase):
    def test_every_http_api_event_is_a_route_to_its_binary(self):
        routes = {r.key: r.binary for r in gw.routes_from_template(template())}
        self.assertEqual(routes["POST /conversations/{conversation_id}/messages"], "intake")
        self.assertEqual(routes["GET /conversations/{conversation_id}/panel"], "suggest")
        self.assertEqual(routes["GET /conversations/{conversation_id}/prediction-card"], "order-card")
        # The schedule is no route.
        self.assertNotIn("compensate", routes.values())
        # Count the template's HttpApi events independently of the parser under test.
        text = (ROOT / "template.yaml").read_text(encoding="utf-8")
        self.assertEqual(len(routes), text.count("Type: HttpApi"))

    def test_tags_are_kept_as_intrinsics(self):
        t = template()
        env = t["Globals"]["Function"]["Environment"]["Variables"]
        self.assertEqual(env["ORDERS_TABLE"], {"Ref": "OrdersTable"})
        kinds = {ref: res["Type"] for ref, res in t["Resources"].items()}
        local = {"AWS::DynamoDB::Table", "AWS::S3::Bucket"}
        params = t["Parameters"]
        resolved = gw.function_environment(
            t, lambda ref: f"local-{ref}" if kinds.get(ref) in local
            else str(params[ref]["Default"]) if ref in params else None,
            preset={"PUSH_CONNECTIONS_URL": ""})
        self.assertEqual(resolved["ORDERS_TABLE"], "local-OrdersTable")
        for name, value in resolved.items():
            self.assertNotIsInstance(value, dict, f"{name} is resolved")
        self.assertEqual(resolved["RUST_LOG"], "info")
        self.assertEqual(resolved["BUYER_MESSAGES_PER_MINUTE"], "30")

    def test_a_sub_is_resolved_piece_by_piece_and_a_preset_wins(self):
        url = {"Fn::Sub": "https://${PushApi}.execute-api.${AWS::Region}.amazonaws.com/${PushStage}"}
        t = {"Globals": {"Function": {"Environment": {"Variables": {"URL": url}}}}}
        local = {"PushApi": "api1", "AWS::Region": "us-east-1", "PushStage": "live"}
        self.assertEqual(gw.function_environment(t, local.get)["URL"],
                         "https://api1.execute-api.us-east-1.amazonaws.com/live")
        with self.assertRaises(ValueError):
            gw.function_environment(t, lambda _ref: None)
        self.assertEqual(gw.function_environment(t, lambda _ref: None, preset={"URL": ""}), {"URL": ""})
        import main as stack
        # The real template's push endpoint is preset locally: the local gateway's @connections.
        env = gw.function_environment(template(), lambda ref: "x", preset=stack.local_preset(4321))
        self.assertEqual(env["PUSH_CONNECTIONS_URL"], "http://127.0.0.1:4321/live")

    def test_an_unresolvable_ref_is_an_error_not_a_guess(self):
        t = {"Globals": {"Function": {"Environment": {"Variables": {"X": {"Ref": "Nope"}}}}}}
        with self.assertRaises(ValueError):
            gw.function_environment(t, lambda _ref: None)

    def test_parameters_take_their_defaults_or_the_runs_overrides(self):
        import main as stack  # the local stack's launcher (its main() runs only as a script)
        self.assertEqual(stack.parameter_overrides(""), {})
        self.assertEqual(
            stack.parameter_overrides("BuyerMessagesPerMinute=600 Other=x"),
            {"BuyerMessagesPerMinute": "600", "Other": "x"})
        with self.assertRaises(ValueError):
            stack.parameter_overrides("BuyerMessagesPerMinute")
        t = template()
        os_env = dict(os.environ)
        try:
            os.environ["STACK_PARAMETERS"] = "BuyerMessagesPerMinute=600"
            resolve = stack.local_resources(t, "p", {}, "http://unused")
            self.assertEqual(resolve("BuyerMessagesPerMinute"), "600")
            self.assertEqual(resolve("BuyerConversationsPerShopPerDay"), "20")
        finally:
            os.environ.clear()
            os.environ.update(os_env)

    def test_issuer_and_audience_are_the_parameter_defaults(self):
        self.assertEqual(gw.jwt_settings(template()), ("https://auth.example.com/", "zhineng-assistant"))

    def test_matching_is_by_segment_and_most_specific_wins(self):
        routes = [
            gw.Route("GET", "/shops/{shop_id}/replies/{intent}", "replies", "R"),
            gw.Route("GET", "/shops/{shop_id}/queue", "intake", "I"),
            gw.Route("GET", "/shops/{shop_id}/{thing}", "other", "O"),
            gw.Route("ANY", "/files/{path+}", "files", "F"),
        ]
        g = gateway_with(routes)
        r, params = g.route_for("GET", "/shops/xiaolu-home/queue")
        self.assertEqual((r.binary, params), ("intake", {"shop_id": "xiaolu-home"}))
        r, params = g.route_for("GET", "/shops/a/other")
        self.assertEqual((r.binary, params), ("other", {"shop_id": "a", "thing": "other"}))
        r, params = g.route_for("DELETE", "/files/a/b%20c")
        self.assertEqual(params, {"path": "a/b c"})
        self.assertIsNone(g.route_for("POST", "/shops/a/queue"))
        self.assertIsNone(g.route_for("GET", "/shops/a/replies/x/y"))
        self.assertIsNone(g.route_for("GET", "/shops//queue"))


class Tokens(unittest.TestCase):
    def setUp(self):
        self.auth = gw.Authority("https://auth.example.com/", "zhineng-assistant")

    def test_a_minted_token_verifies_with_string_claims(self):
        token, exp = self.auth.mint({"sub": "agent-xiaomei", "role": "agent", "shop_id": "xiaolu-home"})
        claims = self.auth.verify(f"Bearer {token}")
        self.assertEqual(claims["sub"], "agent-xiaomei")
        self.assertEqual(claims["shop_id"], "xiaolu-home")
        self.assertEqual(claims["exp"], str(exp))
        self.assertTrue(all(isinstance(v, str) for v in claims.values()))

    def test_bad_tokens_are_refused(self):
        token, _ = self.auth.mint({"sub": "buyer-zhang", "role": "buyer"})
        head, body, sig = token.split(".")
        forged_claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        forged_claims["role"] = "platform"
        forged = gw._b64url(json.dumps(forged_claims).encode())
        other = gw.Authority("https://auth.example.com/", "zhineng-assistant")
        none_head = gw._b64url(b'{"alg":"none"}')
        cases = {
            "missing": None,
            "not bearer": f"Basic {token}",
            "empty": "Bearer ",
            "garbage": "Bearer abc.def",
            "forged claims": f"Bearer {head}.{forged}.{sig}",
            "other secret": f"Bearer {other.mint({'sub': 'buyer-zhang', 'role': 'buyer'})[0]}",
            "alg none": f"Bearer {none_head}.{body}.",
        }
        for name, header in cases.items():
            with self.subTest(name), self.assertRaises(gw.TokenError):
                self.auth.verify(header)

    def test_expiry_issuer_and_audience_are_checked(self):
        token, exp = self.auth.mint({"sub": "buyer-zhang", "role": "buyer"}, now=1000)
        self.auth.verify(f"Bearer {token}", now=exp - 1)
        with self.assertRaises(gw.TokenError):
            self.auth.verify(f"Bearer {token}", now=exp)
        wrong_iss = gw.Authority("https://evil.example/", "zhineng-assistant", self.auth.secret)
        with self.assertRaises(gw.TokenError):
            self.auth.verify(f"Bearer {wrong_iss.mint({'sub': 'x', 'role': 'buyer'})[0]}")
        early = self.auth.mint({"sub": "buyer-zhang", "role": "buyer", "nbf": 2000}, now=1000)[0]
        with self.assertRaises(gw.TokenError):
            self.auth.verify(f"Bearer {early}", now=1999)
        self.auth.verify(f"Bearer {early}", now=2000)
        bad_nbf = self.auth.mint({"sub": "buyer-zhang", "role": "buyer", "nbf": "soon"}, now=1000)[0]
        with self.assertRaises(gw.TokenError):
            self.auth.verify(f"Bearer {bad_nbf}", now=1001)
        wrong_aud = gw.Authority("https://auth.example.com/", "other", self.auth.secret)
        with self.assertRaises(gw.TokenError):
            self.auth.verify(f"Bearer {wrong_aud.mint({'sub': 'x', 'role': 'buyer'})[0]}")


class Events(unittest.TestCase):
    route = gw.Route("POST", "/conversations/{conversation_id}/messages", "intake", "IntakeFunction")

    def test_the_event_has_the_fixture_shape(self):
        fixture = json.loads((ROOT / "events" / "intake-post-message.json").read_text(encoding="utf-8"))
        claims = fixture["requestContext"]["authorizer"]["jwt"]["claims"]
        ev = gw.build_event(self.route, "POST", "/conversations/conv-fixture-001/messages", "a=1&a=2&b=",
                            [("Content-Type", "application/json"), ("X-Dup", "1"), ("x-dup", "2"),
                             ("Cookie", "k=v; z=y")],
                            fixture["body"].encode(), {"conversation_id": "conv-fixture-001"}, claims)
        self.assertEqual(set(fixture) - {"isBase64Encoded"} - set(ev), set(), "every fixture key is there")
        self.assertEqual(set(fixture["requestContext"]) - set(ev["requestContext"]), set())
        self.assertEqual(ev["routeKey"], fixture["routeKey"])
        self.assertEqual(ev["body"], fixture["body"])
        self.assertFalse(ev["isBase64Encoded"])
        self.assertEqual(ev["headers"]["x-dup"], "1,2")
        self.assertEqual(ev["cookies"], ["k=v", "z=y"])
        self.assertEqual(ev["queryStringParameters"], {"a": "1,2", "b": ""})
        self.assertEqual(ev["requestContext"]["authorizer"]["jwt"]["claims"]["sub"], "buyer-zhang")

    def test_binary_and_multipart_bodies_are_base64(self):
        raw = b"--x\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--x--"
        ev = gw.build_event(self.route, "POST", "/feedback", "",
                            [("content-type", "multipart/form-data; boundary=x")], raw, {}, None)
        self.assertTrue(ev["isBase64Encoded"])
        self.assertEqual(base64.b64decode(ev["body"]), raw)
        self.assertNotIn("authorizer", ev["requestContext"])
        ev = gw.build_event(self.route, "POST", "/x", "", [("content-type", "application/json")],
                            b"\xff\xfe", {}, None)
        self.assertTrue(ev["isBase64Encoded"], "invalid UTF-8 goes as base64 even when typed as text")

    def test_console_files_have_fixed_content_types(self):
        # Not the host's MIME database: a module needs a JavaScript type wherever the stack runs.
        self.assertEqual(gw.static_content_type("main.js"), "text/javascript; charset=utf-8")
        self.assertEqual(gw.static_content_type("x.MJS"), "text/javascript; charset=utf-8")
        self.assertEqual(gw.static_content_type("app.css"), "text/css; charset=utf-8")
        self.assertEqual(gw.static_content_type("index.html"), "text/html; charset=utf-8")
        self.assertEqual(gw.static_content_type("README"), "application/octet-stream")

    def test_answers_map_back(self):
        a = gw.answer_from_result({"statusCode": 201, "headers": {"content-type": "application/json"},
                                   "body": "{\"ok\":true}", "cookies": ["a=b"]})
        self.assertEqual(a.status, 201)
        self.assertIn(("set-cookie", "a=b"), a.headers)
        a = gw.answer_from_result({"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(),
                                   "isBase64Encoded": True, "headers": {"content-type": "image/png"}})
        self.assertEqual(a.body, b"\x89PNG")
        a = gw.answer_from_result({"plain": 1})
        self.assertEqual((a.status, json.loads(a.body)), (200, {"plain": 1}))
        self.assertEqual(gw.answer_from_result({"statusCode": "x"}).status, 500)


# ---------------------------------------------------------------------------------------------
# a real round trip: HTTP -> gateway -> a fake Lambda Invoke API -> HTTP


class FakeLambda:
    """Answers invocations like `cargo lambda watch`, recording the events it got."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                binary = self.path.split("/")[3]
                event = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.events.append((binary, event))
                if binary == "broken":
                    out = json.dumps({"errorType": "Panic", "errorMessage": "boom"}).encode()
                    self.send_response(200)
                    self.send_header("X-Amz-Function-Error", "Unhandled")
                elif binary == "slow":
                    time.sleep(1.5)
                    out = b"{}"
                    self.send_response(200)
                else:
                    out = json.dumps({"statusCode": 201, "headers": {"content-type": "application/json"},
                                      "body": json.dumps({"routeKey": event["routeKey"]})}).encode()
                    self.send_response(200)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                try:
                    self.wfile.write(out)
                except BrokenPipeError:  # the gateway gave up on "slow", as it should
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def gateway_with(routes, invoker=None) -> gw.Gateway:
    return gw.Gateway(
        routes=routes,
        authority=gw.Authority("https://auth.example.com/", "zhineng-assistant"),
        invoker=invoker or gw.Invoker("http://127.0.0.1:9"),
        identities=[{"sub": "buyer-zhang", "role": "buyer", "shop_id": None},
                    {"sub": "agent-xiaomei", "role": "agent", "shop_id": "xiaolu-home"}],
        console_dir=ROOT / "console",
        openapi_path=ROOT / "openapi.yaml",
        compensate_event=ROOT / "events" / "compensate-schedule.json",
    )


class RoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLambda()
        routes = gw.routes_from_template(template()) + [
            gw.Route("GET", "/broken", "broken", "B"),
            gw.Route("GET", "/slow", "slow", "S"),
        ]
        cls.gateway = gateway_with(routes, gw.Invoker(cls.fake.url, timeout=0.5))
        cls.server = gw.make_server(cls.gateway)
        gw.serve_in_thread(cls.server)
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.fake.close()

    def request(self, method, path, body=None, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        if data is not None and "content-type" not in h:
            h["content-type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def login(self, sub):
        status, _, body = self.request("POST", "/local/login", {"sub": sub})
        self.assertEqual(status, 200, body)
        return json.loads(body)["token"]

    def test_login_is_for_demo_identities_only(self):
        for body in ({"sub": "someone-else"}, {"sub": ""}, {}, [1], b"not json"):
            status, _, raw = self.request("POST", "/local/login", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(json.loads(raw)["error"]["code"], "invalid_input")
        token = self.login("agent-xiaomei")
        claims = self.gateway.authority.verify(f"Bearer {token}")
        self.assertEqual((claims["role"], claims["shop_id"]), ("agent", "xiaolu-home"))

    def test_a_template_route_reaches_its_binary_with_claims(self):
        token = self.login("buyer-zhang")
        n = len(self.fake.events)
        status, headers, body = self.request(
            "POST", "/conversations/c-1/messages?x=1", {"shop_id": "xiaolu-home", "text": "发货了吗"}, token)
        self.assertEqual(status, 201)
        self.assertEqual(json.loads(body), {"routeKey": "POST /conversations/{conversation_id}/messages"})
        binary, event = self.fake.events[n]
        self.assertEqual(binary, "intake")
        self.assertEqual(event["pathParameters"], {"conversation_id": "c-1"})
        self.assertEqual(event["queryStringParameters"], {"x": "1"})
        self.assertEqual(event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"], "buyer-zhang")
        self.assertEqual(json.loads(event["body"])["text"], "发货了吗")

    def test_without_a_valid_token_the_function_is_not_called(self):
        n = len(self.fake.events)
        for token in (None, "abc", self.login("buyer-zhang") + "x"):
            status, headers, body = self.request("GET", "/conversations/c-1/messages", token=token)
            self.assertEqual(status, 401)
            self.assertEqual(json.loads(body), {"message": "Unauthorized"})
        self.assertEqual(len(self.fake.events), n)

    def test_unknown_routes_and_methods_are_404(self):
        token = self.login("buyer-zhang")
        for method, path in (("GET", "/nope"), ("DELETE", "/conversations/c-1/messages"),
                             ("TRACE", "/conversations/c-1/messages"), ("PROPFIND", "/"),
                             ("GET", "/conversations/c-1/messages/extra")):
            status, _, body = self.request(method, path, token=token)
            self.assertEqual(status, 404, path)
            self.assertEqual(json.loads(body), {"message": "Not Found"})

    def test_only_requests_for_its_own_host_are_served(self):
        port = self.server.server_address[1]
        n = len(self.fake.events)
        token = self.login("buyer-zhang")
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1:1", f"127.0.0.2:{port}"):
            for path in ("/", "/local/identities", "/conversations/c-1/messages"):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.putrequest("GET", path, skip_host=True)
                conn.putheader("Host", host)
                conn.putheader("Authorization", f"Bearer {token}")
                conn.endheaders()
                r = conn.getresponse()
                self.assertEqual((r.status, json.loads(r.read())), (403, {"message": "Forbidden"}), host)
                conn.close()
        self.assertEqual(len(self.fake.events), n)
        self.assertTrue(gw.own_host(f"localhost:{port}", port))
        self.assertEqual(self.request("GET", "/local/identities")[0], 200)

    def test_function_errors_and_timeouts_are_500_and_503(self):
        token = self.login("buyer-zhang")
        self.assertEqual(self.request("GET", "/broken", token=token)[0], 500)
        self.assertEqual(self.request("GET", "/slow", token=token)[0], 503)

    def test_the_console_is_served_and_nothing_outside_it(self):
        status, headers, body = self.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn("智能助手", body.decode())
        self.assertTrue(headers["content-type"].startswith("text/html"))
        status, headers, _ = self.request("GET", "/console/app.css")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/css; charset=utf-8")
        for path in ("/console/../template.yaml", "/console/%2e%2e/template.yaml", "/console/nope.js"):
            self.assertEqual(self.request("GET", path)[0], 404, path)

    def test_the_console_modules_are_served_as_javascript(self):
        # The page loads one module; it and every module it imports, transitively, must come back
        # as JavaScript, or the browser refuses to run them.
        _, _, page = self.request("GET", "/")
        entries = re.findall(r'<script type="module" src="(/console/[^"]+)"></script>', page.decode())
        self.assertEqual(entries, ["/console/main.js"])
        seen, todo = set(), list(entries)
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            status, headers, body = self.request("GET", path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers["content-type"], "text/javascript; charset=utf-8", path)
            for spec in re.findall(r'^\s*import\b[^;]*?from\s+"([^"]+)";', body.decode(), re.M | re.S):
                self.assertTrue(spec.startswith("./"), f"{path} imports {spec}: only the console's own modules")
                todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), spec)))
        # Every module in console/ is part of the page: none is left behind by a split.
        on_disk = {f"/console/{f.name}" for f in (ROOT / "console").glob("*.js")}
        self.assertEqual(seen, on_disk)

    def test_oversized_requests_are_413(self):
        token = self.login("buyer-zhang")
        big = b"x" * (gw.MAX_EVENT_BYTES + 10)
        status, _, body = self.request("POST", "/conversations/c-1/messages", big, token,
                                       {"content-type": "text/plain"})
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body), {"message": "Request Entity Too Large"})



class OrderEvents(unittest.TestCase):
    """The console's 订单系统 panel: an order event invoked as EventBridge would (retried twice),
    dead-lettered locally when the function keeps refusing it."""

    class Invoker:
        def __init__(self, fail: bool):
            self.fail, self.calls = fail, []

        def invoke(self, name, event, timeout=None):
            self.calls.append((name, event))
            if self.fail:
                raise gw.FunctionError("order event refused: unknown shop")
            return {"outcome": "changed"}

    def gateway(self, fail: bool, tmp: Path) -> gw.Gateway:
        g = gateway_with([], self.Invoker(fail))
        g.orders = [{"order_id": "6930000000000000001", "shop_id": "xiaolu-home",
                     "buyer_id": "buyer-zhang", "title": "纯棉四件套"}]
        g.dead_letter = tmp / "dead-letter.jsonl"
        return g

    def test_a_step_is_published_as_the_order_systems_event(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            g = self.gateway(False, Path(d))
            a = g.handle("POST", "/local/order-events", [], json.dumps(
                {"order_id": "6930000000000000001", "step": "shipped"}).encode())
            self.assertEqual(a.status, 200)
            (name, event), = g.invoker.calls
            self.assertEqual(name, "orders")
            self.assertEqual(event["detail-type"], "order.shipped")
            self.assertEqual(event["source"], "order-system")
            self.assertEqual(event["detail"]["shop_id"], "xiaolu-home")
            self.assertTrue(event["detail"]["tracking_no"].startswith("ZT"))
            self.assertFalse(g.dead_letter.exists())
            listed = json.loads(g.handle("GET", "/local/orders", [], b"").body)
            self.assertEqual(listed["orders"][0]["order_id"], "6930000000000000001")

    def test_a_refused_event_is_retried_twice_then_dead_lettered(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            g = self.gateway(True, Path(d))
            a = g.handle("POST", "/local/order-events", [], json.dumps(
                {"order_id": "6930000000000000001", "step": "refunded"}).encode())
            self.assertEqual(a.status, 422)
            self.assertEqual(len(g.invoker.calls), 3)
            kept = [json.loads(line) for line in g.dead_letter.read_text().splitlines()]
            self.assertEqual(len(kept), 1)
            self.assertEqual(kept[0]["event"]["detail"]["reason"], "refunded")
            self.assertIn("unknown shop", kept[0]["error"])

    def test_bad_requests_invoke_nothing(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            g = self.gateway(False, Path(d))
            for body in [b"nope", b"[]", json.dumps({"order_id": "1", "step": "shipped"}).encode(),
                         json.dumps({"order_id": "6930000000000000001", "step": "lost"}).encode()]:
                self.assertEqual(g.handle("POST", "/local/order-events", [], body).status, 400, body)
            self.assertEqual(g.invoker.calls, [])


if __name__ == "__main__":
    unittest.main()
