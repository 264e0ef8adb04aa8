"""The local WebSocket API (sockets.py) with a stand-in for the push function: the handshake is
`$connect` (refused with the function's status), a message's route is its action, the answer
comes back as one message, a close is `$disconnect`, and the gateway's @connections endpoint
reaches the connection (410 once it is gone). Run: python3 -m unittest (in scripts/stack)."""

import json
import threading
import time
import unittest
from pathlib import Path

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

import gateway as gw
import sockets

ROOT = Path(__file__).resolve().parents[2]


class FakePush:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def __call__(self, binary, event):
        with self.lock:
            self.events.append((binary, event))
        ctx = event["requestContext"]
        if ctx["routeKey"] == "$connect":
            ok = (event.get("queryStringParameters") or {}).get("ticket") == "good"
            return {"statusCode": 200 if ok else 401, "body": "" if ok else '{"error":{}}'}
        if ctx["routeKey"] == "$disconnect":
            return {"statusCode": 200, "body": '{"disconnected":true}'}
        return {"statusCode": 200, "body": json.dumps({"route": ctx["routeKey"],
                                                       "connection": ctx["connectionId"],
                                                       "body": event["body"]})}

    def routes(self, key):
        with self.lock:
            return [e for _, e in self.events if e["requestContext"]["routeKey"] == key]


class LocalSockets(unittest.TestCase):
    def setUp(self):
        self.push = FakePush()
        self.sockets = sockets.Sockets(self.push, "push", {"$connect", "$disconnect", "subscribe",
                                                          "$default"})
        self.port = self.sockets.start()
        self.gateway = gw.Gateway(routes=[], authority=None, invoker=None, identities=[],
                                  console_dir=ROOT / "console", openapi_path=ROOT / "openapi.yaml",
                                  compensate_event=ROOT / "events", sockets=self.sockets)

    def url(self, ticket):
        return f"ws://127.0.0.1:{self.port}/live?ticket={ticket}"

    def test_the_template_names_the_push_function_and_its_routes(self):
        binary, routes = sockets.socket_api(gw.load_template(ROOT / "template.yaml"))
        self.assertEqual(binary, "push")
        self.assertEqual(routes, {"$connect", "$disconnect", "subscribe", "$default"})

    def test_a_handshake_without_a_good_ticket_is_refused_with_the_functions_status(self):
        with self.assertRaises(InvalidStatus) as refused:
            connect(self.url("bad"), open_timeout=5)
        self.assertEqual(refused.exception.response.status_code, 401)
        connect_event = self.push.routes("$connect")[0]
        self.assertEqual(connect_event["requestContext"]["eventType"], "CONNECT")
        self.assertEqual(connect_event["queryStringParameters"], {"ticket": "bad"})

    def test_routes_answers_connections_and_disconnect(self):
        with connect(self.url("good"), open_timeout=5) as ws:
            ws.send(json.dumps({"action": "subscribe", "queue": "s1"}))
            answer = json.loads(ws.recv(timeout=5))
            self.assertEqual(answer["route"], "subscribe")
            cid = answer["connection"]
            self.assertEqual(self.push.routes("$connect")[0]["requestContext"]["connectionId"], cid)
            ws.send(json.dumps({"action": "follow"}))
            self.assertEqual(json.loads(ws.recv(timeout=5))["route"], "$default")
            ws.send("not json")
            self.assertEqual(json.loads(ws.recv(timeout=5))["route"], "$default")
            # A function posts to the connection through the gateway's @connections.
            posted = self.gateway.handle("POST", f"/live/@connections/{cid}", [], b'{"type":"queue"}')
            self.assertEqual(posted.status, 200)
            self.assertEqual(json.loads(ws.recv(timeout=5)), {"type": "queue"})
            unknown = self.gateway.handle("POST", "/live/@connections/nobody=", [], b"{}")
            self.assertEqual(unknown.status, 410)
            self.assertIn(("x-amzn-ErrorType", "GoneException"), unknown.headers)
        deadline = time.time() + 5
        while not self.push.routes("$disconnect") and time.time() < deadline:
            time.sleep(0.05)
        gone = self.push.routes("$disconnect")
        self.assertEqual([e["requestContext"]["connectionId"] for e in gone], [cid])
        self.assertEqual(self.gateway.handle("POST", f"/live/@connections/{cid}", [], b"{}").status, 410)


if __name__ == "__main__":
    unittest.main()
