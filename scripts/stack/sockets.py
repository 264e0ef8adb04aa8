"""The local WebSocket API (issue 17): template.yaml's `PushApi` served with the `websockets`
library (PyPI), every event invoked on the function its integration names, shaped as API Gateway
delivers WebSocket events, and the stage's `@connections` endpoint the functions post to.

- a handshake `ws://127.0.0.1:PORT/live?ticket=…` is the `$connect` event; any answer other than
  200 refuses it with that status, as API Gateway does;
- a message's route is its `action` (`$request.body.action`) when the template has that route,
  else `$default`; the function's answer body goes back to the client as one message (the routes'
  `RouteResponseSelectionExpression: $default`);
- a closed connection is the `$disconnect` event;
- `POST /live/@connections/{id}` (served by the HTTP gateway, see `Gateway.handle`) sends its body
  to the connection, `DELETE` closes it; an unknown connection is `410 GoneException`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import urllib.parse
from typing import Any, Callable

from websockets.asyncio.server import ServerConnection, serve

STAGE = "live"


def socket_api(template: dict) -> tuple[str, set[str]] | None:
    """The binary serving the template's WebSocket API and its route keys (None without one)."""
    resources = template.get("Resources") or {}
    apis = [k for k, r in resources.items()
            if r.get("Type") == "AWS::ApiGatewayV2::Api"
            and (r.get("Properties") or {}).get("ProtocolType") == "WEBSOCKET"]
    if not apis:
        return None
    api = apis[0]

    def of_api(r: dict) -> bool:
        return (r.get("Properties") or {}).get("ApiId") == {"Ref": api}

    routes = {r["Properties"]["RouteKey"] for r in resources.values()
              if r.get("Type") == "AWS::ApiGatewayV2::Route" and of_api(r)}
    function = None
    for r in resources.values():
        if r.get("Type") == "AWS::ApiGatewayV2::Integration" and of_api(r):
            uri = str((r["Properties"].get("IntegrationUri") or {}).get("Fn::Sub", ""))
            found = re.search(r"\$\{(\w+)\.Arn\}", uri)
            function = found.group(1) if found else None
    if function is None or function not in resources:
        raise ValueError("the WebSocket API's integration names no function of the template")
    binary = resources[function]["Metadata"]["BuildProperties"]["Binary"]
    return binary, routes


def connection_id() -> str:
    """An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`)."""
    return secrets.token_urlsafe(12) + "="


def socket_event(route: str, connection: str, query: dict[str, str] | None = None,
                 body: str | None = None) -> dict:
    """The Lambda event API Gateway delivers for a WebSocket route."""
    kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    now = int(time.time() * 1000)
    return {
        "queryStringParameters": query or None,
        "requestContext": {
            "routeKey": route,
            "eventType": kind,
            "connectionId": connection,
            "stage": STAGE,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "messageDirection": "IN",
            "connectedAt": now,
            "requestTimeEpoch": now,
            "requestId": secrets.token_hex(8),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def route_of(message: str, routes: set[str]) -> str:
    """The route `$request.body.action` selects: the action if it is a route, else `$default`."""
    try:
        action = json.loads(message).get("action")
    except (ValueError, AttributeError):
        action = None
    return action if isinstance(action, str) and action in routes and not action.startswith("$") \
        else "$default"


class Sockets:
    """The WebSocket API on its own port, on an asyncio loop in a thread of its own."""

    def __init__(self, invoke: Callable[[str, dict], Any], binary: str, routes: set[str],
                 log: Callable[[str], None] = lambda _m: None):
        self.invoke, self.binary, self.routes, self.log = invoke, binary, routes, log
        self.connections: dict[str, ServerConnection] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    async def _call(self, event: dict) -> dict:
        try:
            result = await asyncio.to_thread(self.invoke, self.binary, event)
        except Exception as e:  # the function failed: API Gateway answers 500
            self.log(f"websocket {event['requestContext']['routeKey']}: {e}")
            return {"statusCode": 500, "body": json.dumps({"message": "Internal server error"})}
        return result if isinstance(result, dict) else {"statusCode": 500}

    async def _handshake(self, connection: ServerConnection, request: Any):
        parsed = urllib.parse.urlsplit(request.path)
        if parsed.path.rstrip("/") != f"/{STAGE}":
            return connection.respond(404, "Not Found\n")
        query = dict(urllib.parse.parse_qsl(parsed.query))
        cid = connection_id()
        result = await self._call(socket_event("$connect", cid, query))
        status = int(result.get("statusCode") or 500)
        if status != 200:
            return connection.respond(status, (result.get("body") or "") + "\n")
        connection.push_id = cid  # type: ignore[attr-defined]
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        cid = ws.push_id  # type: ignore[attr-defined]
        self.connections[cid] = ws
        try:
            async for message in ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                route = route_of(text, self.routes)
                result = await self._call(socket_event(route, cid, body=text))
                if result.get("body"):
                    await ws.send(result["body"])
        except Exception as e:  # a dropped socket ends like a closed one
            self.log(f"websocket {cid}: {e!r}")
        finally:
            self.connections.pop(cid, None)
            await self._call(socket_event("$disconnect", cid))

    def start(self, port: int = 0) -> int:
        """Serves on 127.0.0.1:`port` (0: a free one) and returns the port."""
        ready = threading.Event()

        async def main() -> None:
            async with serve(self._serve, "127.0.0.1", port,
                             process_request=self._handshake) as server:
                self.port = server.sockets[0].getsockname()[1]
                ready.set()
                await asyncio.Future()

        def run() -> None:
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(main())

        threading.Thread(target=run, name="websockets", daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError("the WebSocket server did not start")
        return self.port

    # -- @connections, called from the HTTP gateway's threads ---------------------------------

    def post(self, connection: str, data: bytes) -> bool:
        """Sends `data` to the connection; False if it is gone."""
        ws = self.connections.get(connection)
        if ws is None or self.loop is None:
            return False
        try:
            asyncio.run_coroutine_threadsafe(ws.send(data.decode("utf-8")), self.loop).result(5)
        except Exception:
            return False
        return True

    def close(self, connection: str) -> bool:
        ws = self.connections.get(connection)
        if ws is None or self.loop is None:
            return False
        asyncio.run_coroutine_threadsafe(ws.close(), self.loop).result(5)
        return True
