"""The local HTTP gateway: the deployed HTTP API's routes, read from template.yaml, in front of the
real function binaries under `cargo lambda watch`.

What it mirrors of API Gateway (HTTP API, payload format 2.0, JWT authorizer):

- Routes and methods are the template's `HttpApi` events; the function is the event's
  `BuildProperties.Binary`. The most specific route wins (static segments over `{param}`, over
  `{param+}`); no route is `404 {"message":"Not Found"}`.
- The JWT authorizer: `Authorization: Bearer <jwt>` must carry a valid signature, an unexpired
  `exp`, no `nbf` in the future, and the template's issuer and audience (the `JwtIssuer` /
  `JwtAudience` defaults), else `401 {"message":"Unauthorized"}`. Locally the tokens are HS256 with a secret made at start, minted
  only for the seeded demo identities by `POST /local/login`.
- The event: `routeKey`, `rawPath`, `rawQueryString`, lower-case `headers` (repeats joined by
  commas), `cookies`, `queryStringParameters`, `pathParameters`, `requestContext` with
  `authorizer.jwt.claims` (strings), and `body` (base64 with `isBase64Encoded` unless the content
  type is text).
- The answer: `statusCode`, `headers`, `multiValueHeaders`, `cookies`, `body`, `isBase64Encoded`;
  a function error is `500 {"message":"Internal Server Error"}`, no answer in time is
  `503 {"message":"Service Unavailable"}`, an event over Lambda's 6 MB payload limit is
  `413 {"message":"Request Entity Too Large"}`.

- Only requests addressed to the gateway itself are served: a `Host` other than
  `127.0.0.1:PORT` or `localhost:PORT` is `403 {"message":"Forbidden"}` (as API Gateway answers a
  host it does not serve), so a web page on another name that resolves to 127.0.0.1 (DNS
  rebinding) cannot drive the local API with the browser's help.

Everything under `/local/` exists only here (log in, the demo identities, run the compensation
sweep, the OpenAPI file); `/` and `/console/...` serve the agent console's static files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import yaml

# API Gateway's own limits: a 10 MB request; Lambda takes a 6 MB event; 30 s integration timeout.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_EVENT_BYTES = 6 * 1024 * 1024
INVOKE_TIMEOUT_SECONDS = 30.0
TOKEN_LIFETIME_SECONDS = 12 * 3600


# ----------------------------------------------------------------------------------------------
# template.yaml


class _TemplateLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub` ...) as
    `{"Ref": ...}` / `{"Fn::GetAtt": ...}` mappings instead of failing on them."""


def _tagged(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _tagged)


def load_template(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_TemplateLoader)  # noqa: S506 - a safe loader with tag support


@dataclass(frozen=True)
class Route:
    """One `METHOD /path` of the HTTP API and the function binary behind it."""

    method: str
    path: str
    binary: str
    function: str
    authorized: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s]

    def specificity(self) -> tuple:
        # Static segments beat `{param}`, which beats a greedy `{param+}`; then longer paths win.
        kinds = []
        for s in self.segments():
            if s.startswith("{") and s.endswith("+}"):
                kinds.append(0)
            elif s.startswith("{"):
                kinds.append(1)
            else:
                kinds.append(2)
        return (tuple(kinds), self.method != "ANY")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        want = self.segments()
        got = [s for s in path.split("/") if s]
        params: dict[str, str] = {}
        for i, seg in enumerate(want):
            if seg.startswith("{") and seg.endswith("+}"):
                if i >= len(got):
                    return None
                params[seg[1:-2]] = urllib.parse.unquote("/".join(got[i:]))
                return params
            if i >= len(got):
                return None
            if seg.startswith("{") and seg.endswith("}"):
                value = urllib.parse.unquote(got[i])
                if value == "":
                    return None
                params[seg[1:-1]] = value
            elif seg != got[i]:
                return None
        return params if len(got) == len(want) else None


def routes_from_template(template: dict) -> list[Route]:
    """Every `HttpApi` event of every function in the template, as a route."""
    routes = []
    for logical_id, res in (template.get("Resources") or {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
        for _name, ev in ((res.get("Properties") or {}).get("Events") or {}).items():
            if ev.get("Type") != "HttpApi":
                continue
            props = ev.get("Properties") or {}
            if not binary:
                raise ValueError(f"{logical_id} has an HttpApi event but no BuildProperties.Binary")
            auth = (props.get("Auth") or {}).get("Authorizer")
            routes.append(
                Route(
                    method=str(props.get("Method", "ANY")).upper(),
                    path=str(props["Path"]),
                    binary=binary,
                    function=logical_id,
                    authorized=auth != "NONE",
                )
            )
    keys = [r.key for r in routes]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise ValueError(f"routes declared twice in the template: {sorted(dupes)}")
    return sorted(routes, key=lambda r: r.key)


def jwt_settings(template: dict) -> tuple[str, str]:
    """The issuer and audience the template's JWT authorizer expects (the parameters' defaults)."""
    params = template.get("Parameters") or {}
    issuer = (params.get("JwtIssuer") or {}).get("Default", "")
    audience = (params.get("JwtAudience") or {}).get("Default", "")
    return str(issuer), str(audience)


def function_environment(template: dict, resolve_ref: Callable[[str], str | None],
                         preset: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the template gives its functions (Globals, then each function's own), with
    every `!Ref` (and every `${Name}` of a `!Sub`) resolved by `resolve_ref` (a logical id or
    parameter → its local value). One `cargo lambda watch` serves every function, so they share
    the union. A variable named in `preset` takes that value instead of the template's."""
    env: dict[str, str] = {}
    preset = preset or {}

    def substitute(name: str, text: str) -> str:
        def one(match: "re.Match[str]") -> str:
            resolved = resolve_ref(match.group(1))
            if resolved is None:
                raise ValueError(f"{name}: cannot resolve ${{{match.group(1)}}} locally")
            return resolved
        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def add(variables: dict | None) -> None:
        for name, value in (variables or {}).items():
            if name in preset:
                env[name] = preset[name]
            elif isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
                env[name] = substitute(name, value["Fn::Sub"])
            elif isinstance(value, dict) and "Ref" in value:
                resolved = resolve_ref(value["Ref"])
                if resolved is None:
                    raise ValueError(f"{name}: cannot resolve !Ref {value['Ref']} locally")
                env[name] = resolved
            elif isinstance(value, (str, int, float, bool)):
                env[name] = str(value)
            else:
                raise ValueError(f"{name}: unsupported value {value!r} in the template")

    add(((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables"))
    for res in (template.get("Resources") or {}).values():
        if res.get("Type") == "AWS::Serverless::Function":
            add(((res.get("Properties") or {}).get("Environment") or {}).get("Variables"))
    return env


# ----------------------------------------------------------------------------------------------
# JWT (HS256), as the authorizer checks it


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(Exception):
    pass


@dataclass
class Authority:
    """Mints and verifies the local tokens. The secret lives only in this process."""

    issuer: str
    audience: str
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def mint(self, claims: dict[str, str], now: float | None = None) -> tuple[str, int]:
        now = int(now if now is not None else time.time())
        exp = now + TOKEN_LIFETIME_SECONDS
        payload = dict(claims, iss=self.issuer, aud=self.audience, iat=now, exp=exp)
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        )
        sig = hmac.new(self.secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url(sig), exp

    def verify(self, authorization: str | None, now: float | None = None) -> dict[str, str]:
        """The claims of a valid bearer token, as API Gateway hands them on: every value a string."""
        if not authorization:
            raise TokenError("no Authorization header")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError("not a bearer token")
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise TokenError("not a JWT")
        try:
            header = json.loads(_b64url_decode(parts[0]))
            payload = json.loads(_b64url_decode(parts[1]))
            sig = _b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError) as e:
            raise TokenError("malformed JWT") from e
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError("unexpected algorithm")
        expected = hmac.new(
            self.secret, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(expected, sig):
            raise TokenError("bad signature")
        if not isinstance(payload, dict):
            raise TokenError("claims are not an object")
        now = now if now is not None else time.time()
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now:
            raise TokenError("expired")
        # API Gateway's JWT authorizer refuses a token before its `nbf` (not before) too.
        nbf = payload.get("nbf")
        if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > now):
            raise TokenError("not valid yet")
        if payload.get("iss") != self.issuer:
            raise TokenError("wrong issuer")
        aud = payload.get("aud")
        if not (aud == self.audience or (isinstance(aud, list) and self.audience in aud)):
            raise TokenError("wrong audience")
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}


# ----------------------------------------------------------------------------------------------
# API Gateway event <-> HTTP


TEXT_TYPES = ("application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded")


def is_text_content(content_type: str | None) -> bool:
    if not content_type:
        return True
    base = content_type.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base in TEXT_TYPES or base.endswith("+json")


def build_event(
    route: Route,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    path_params: dict[str, str],
    claims: dict[str, str] | None,
    now: float | None = None,
) -> dict:
    """The API Gateway HTTP API (payload 2.0) event for one request."""
    now = now if now is not None else time.time()
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[lname] = f"{merged[lname]},{value}" if lname in merged else value
    query: dict[str, str] = {}
    for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    content_type = merged.get("content-type")
    text = is_text_content(content_type)
    if text:
        try:
            body_text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = False
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body:
        if text:
            event["body"] = body_text
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_message(status: int, message: str, extra: list[tuple[str, str]] | None = None) -> Answer:
    """API Gateway's own answers: `{"message": "..."}`."""
    body = json.dumps({"message": message}).encode()
    return Answer(status, [("content-type", "application/json")] + (extra or []), body)


def answer_from_result(result: Any) -> Answer:
    """The HTTP answer for a function's payload 2.0 result."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # API Gateway infers a 200 JSON answer from a result without statusCode.
        return Answer(200, [("content-type", "application/json")], json.dumps(result).encode())
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return gateway_message(500, "Internal Server Error")
    headers: list[tuple[str, str]] = []
    for k, v in (result.get("headers") or {}).items():
        headers.append((str(k), str(v)))
    for k, vs in (result.get("multiValueHeaders") or {}).items():
        if any(h[0].lower() == str(k).lower() for h in headers):
            continue
        for v in vs or []:
            headers.append((str(k), str(v)))
    for c in result.get("cookies") or []:
        headers.append(("set-cookie", str(c)))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw)
        except ValueError:
            return gateway_message(500, "Internal Server Error")
    else:
        body = str(raw).encode("utf-8")
    return Answer(status, headers, body)


class Invoker:
    """Invokes a function binary through `cargo lambda watch`'s Lambda Invoke API."""

    def __init__(self, base_url: str, timeout: float = INVOKE_TIMEOUT_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def invoke(self, binary: str, event: dict, timeout: float | None = None) -> Any:
        """The function's result; raises `FunctionError` or `TimeoutError`."""
        url = f"{self.base_url}/2015-03-31/functions/{urllib.parse.quote(binary)}/invocations"
        data = json.dumps(event).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as resp:
                raw = resp.read()
                function_error = resp.headers.get("X-Amz-Function-Error")
        except urllib.error.HTTPError as e:
            raise FunctionError(f"{binary}: invoke answered {e.code}: {e.read()[:500]!r}") from e
        except (TimeoutError, OSError) as e:
            if "timed out" in str(e):
                raise TimeoutError(binary) from e
            raise FunctionError(f"{binary}: {e}") from e
        try:
            result = json.loads(raw) if raw else None
        except ValueError as e:
            raise FunctionError(f"{binary}: not JSON: {raw[:500]!r}") from e
        if function_error or (isinstance(result, dict) and "errorType" in result
                              and "statusCode" not in result):
            raise FunctionError(f"{binary}: {raw[:500]!r}")
        return result


class FunctionError(Exception):
    pass


# Lambda's retries of a failed asynchronous invocation (template.yaml OrdersFunction
# EventInvokeConfig.MaximumRetryAttempts).
ORDER_EVENT_RETRIES = 2


def order_event_envelope(detail_type: str, detail: dict) -> dict:
    """An order event as the order system's bus delivers it (orders::envelope in Rust)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "order-system",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "cn-north-1",
        "resources": [],
        "detail": detail,
    }


# ----------------------------------------------------------------------------------------------
# the server


def local_error(status: int, code: str, message: str, fld: str | None = None) -> Answer:
    """The local-only routes answer errors in the functions' shape."""
    err: dict[str, str] = {"code": code, "message": message}
    if fld:
        err["field"] = fld
    return Answer(status, [("content-type", "application/json; charset=utf-8")],
                  json.dumps({"error": err}, ensure_ascii=False).encode())


def local_json(status: int, value: Any) -> Answer:
    return Answer(status, [("content-type", "application/json; charset=utf-8")],
                  json.dumps(value, ensure_ascii=False).encode())


# The console's own file types, fixed here rather than taken from the host's MIME database (which
# may map `.js` to text/plain, or not know `.mjs`): a browser refuses an ES module served without
# a JavaScript MIME type.
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def static_content_type(name: str) -> str:
    """The Content-Type of a console file, by its extension."""
    suffix = Path(name).suffix.lower()
    if suffix in STATIC_TYPES:
        return STATIC_TYPES[suffix]
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return ctype + "; charset=utf-8" if ctype.startswith("text/") else ctype


@dataclass
class Gateway:
    routes: list[Route]
    authority: Authority
    invoker: Invoker
    identities: list[dict]
    console_dir: Path
    openapi_path: Path
    compensate_event: Path
    log: Callable[[str], None] = lambda _m: None
    # The demo orders (`assistant seed`'s `orders`), for the console's 订单系统 panel.
    orders: list[dict] = field(default_factory=list)
    # Where order events the `orders` function refused after its retries are kept (deployed: the
    # OrderEventsDeadLetter SQS queue).
    dead_letter: Path | None = None
    # The local WebSocket API (`sockets.Sockets`), whose stage's @connections endpoint this
    # gateway serves at /live/@connections/{id}; None: no WebSocket API.
    sockets: Any = None
    # Where the console opens its socket (`GET /local/push`).
    socket_url: str | None = None
    # What the stack did (`counts.Counts`: invocations, @connections posts, DynamoDB requests),
    # answered by `GET /local/counts`; None: not counted.
    counts: Any = None

    def route_for(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        found = []
        for r in self.routes:
            params = r.match(method, path)
            if params is not None:
                found.append((r.specificity(), r, params))
        if not found:
            return None
        found.sort(key=lambda t: t[0], reverse=True)
        return found[0][1], found[0][2]

    # -- local-only routes --------------------------------------------------------------------

    def identity(self, sub: str) -> dict | None:
        return next((i for i in self.identities if i["sub"] == sub), None)

    def login(self, body: bytes) -> Answer:
        try:
            req = json.loads(body or b"null")
        except ValueError:
            return local_error(400, "invalid_input", "body: is not valid JSON", "body")
        sub = req.get("sub") if isinstance(req, dict) else None
        if not isinstance(sub, str) or not sub:
            return local_error(400, "invalid_input", "sub: a demo identity is required", "sub")
        who = self.identity(sub)
        if who is None:
            return local_error(400, "invalid_input",
                               "sub: only the seeded demo identities may sign in locally", "sub")
        claims = {"sub": who["sub"], "role": who["role"]}
        if who.get("shop_id"):
            claims["shop_id"] = who["shop_id"]
        token, exp = self.authority.mint(claims)
        return local_json(200, {"token": token, "claims": claims, "expires_at": exp})

    def compensate(self) -> Answer:
        """Runs the overdue-coupon sweep once, as the EventBridge schedule would."""
        event = json.loads(self.compensate_event.read_text(encoding="utf-8"))
        event["id"] = str(uuid.uuid4())
        event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            result = self.invoker.invoke("compensate", event, timeout=120)
        except (FunctionError, TimeoutError) as e:
            self.log(f"compensate failed: {e}")
            return local_error(502, "sweep_failed", "the compensation sweep failed; see the stack log")
        return local_json(200, {"result": result})

    def publish_order_event(self, event: dict) -> tuple[dict | None, str | None]:
        """Delivers one order event to the `orders` function as EventBridge does (an asynchronous
        invocation: Lambda retries a failed one twice); one still failing is appended to the
        dead-letter file with its error. Returns (result, None) or (None, error)."""
        error = "not invoked"
        for _attempt in range(1 + ORDER_EVENT_RETRIES):
            try:
                return self.invoker.invoke("orders", event, timeout=900), None
            except (FunctionError, TimeoutError) as e:
                error = str(e)
        self.log(f"order event {event.get('id')} dead-lettered: {error}")
        if self.dead_letter is not None:
            with self.dead_letter.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"event": event, "error": error}, ensure_ascii=False) + "\n")
        return None, error

    def order_event(self, body: bytes) -> Answer:
        """The console's 订单系统 panel: the order system marks a demo order shipped, delivered or
        refunded, published as its event (events/schema/order-event.json)."""
        try:
            req = json.loads(body or b"null")
        except ValueError:
            return local_error(400, "invalid_input", "body: is not valid JSON", "body")
        if not isinstance(req, dict):
            return local_error(400, "invalid_input", "body: must be an object", "body")
        order = next((o for o in self.orders if o["order_id"] == req.get("order_id")), None)
        if order is None:
            return local_error(400, "invalid_input", "order_id: not a demo order", "order_id")
        step = req.get("step")
        now = int(time.time() * 1000)
        if step == "shipped":
            detail_type = "order.shipped"
            extra = {"courier": "中通快递", "tracking_no": f"ZT{now % 10**13:013d}"}
        elif step == "delivered":
            detail_type, extra = "order.delivered", {}
        elif step == "refunded":
            detail_type, extra = "order.closed", {"reason": "refunded"}
        else:
            return local_error(400, "invalid_input",
                               "step: must be shipped, delivered or refunded", "step")
        detail = {"order_id": order["order_id"], "shop_id": order["shop_id"],
                  "buyer_id": order["buyer_id"], "occurred_at": now, **extra}
        event = order_event_envelope(detail_type, detail)
        result, error = self.publish_order_event(event)
        if error is not None:
            return local_error(422, "dead_lettered", f"the orders function refused the event: {error}")
        return local_json(200, {"event": event, "result": result})

    def static(self, path: str) -> Answer:
        rel = "index.html" if path in ("/", "/console", "/console/") else path[len("/console/"):]
        target = (self.console_dir / rel).resolve()
        root = self.console_dir.resolve()
        if root not in target.parents or not target.is_file():
            return gateway_message(404, "Not Found")
        ctype = static_content_type(target.name)
        return Answer(200, [("content-type", ctype), ("cache-control", "no-store")],
                      target.read_bytes())

    def local(self, method: str, path: str, body: bytes) -> Answer:
        if path == "/local/identities" and method == "GET":
            return local_json(200, {"identities": self.identities})
        if path == "/local/login" and method == "POST":
            return self.login(body)
        if path == "/local/compensate" and method == "POST":
            return self.compensate()
        if path == "/local/orders" and method == "GET":
            return local_json(200, {"orders": self.orders})
        if path == "/local/order-events" and method == "POST":
            return self.order_event(body)
        if path == "/local/push" and method == "GET":
            return local_json(200, {"url": self.socket_url})
        if path == "/local/counts" and method == "GET" and self.counts is not None:
            return local_json(200, self.counts.snapshot())
        if path == "/local/openapi.yaml" and method == "GET":
            return Answer(200, [("content-type", "application/yaml; charset=utf-8")],
                          self.openapi_path.read_bytes())
        return local_error(404, "not_found", "no such local route")

    def connections(self, method: str, connection: str, body: bytes) -> Answer:
        """The WebSocket stage's @connections API, as the functions' SDK calls it (unsigned
        here): POST sends the body to the connection, DELETE closes it; gone is a 410."""
        gone = Answer(410, [("content-type", "application/json"), ("x-amzn-ErrorType", "GoneException")],
                      b'{"message":"Gone"}')
        if method == "POST":
            if self.counts is not None:
                self.counts.add("push", "post")
            return Answer(200, [], b"") if self.sockets.post(connection, body) else gone
        if method == "DELETE":
            return Answer(204, [], b"") if self.sockets.close(connection) else gone
        return gateway_message(404, "Not Found")

    # -- one request --------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        # The request target as sent (not urlsplit: "//x/y" is a path here, not a host).
        path, _, query = target.partition("#")[0].partition("?")
        path = path or "/"
        if path.startswith("/local/"):
            return self.local(method, path, body)
        if path.startswith(CONNECTIONS_PREFIX) and self.sockets is not None:
            return self.connections(method, urllib.parse.unquote(path[len(CONNECTIONS_PREFIX):]), body)
        if method in ("GET", "HEAD") and (path == "/" or path == "/console" or path.startswith("/console/")):
            return self.static(path)
        found = self.route_for(method, path)
        if found is None:
            return gateway_message(404, "Not Found")
        route, params = found
        claims = None
        if route.authorized:
            auth = next((v for k, v in headers if k.lower() == "authorization"), None)
            try:
                claims = self.authority.verify(auth)
            except TokenError as e:
                self.log(f"401 {route.key}: {e}")
                return gateway_message(401, "Unauthorized",
                                       [("www-authenticate", 'Bearer error="invalid_token"')])
        event = build_event(route, method, path, query, headers, body, params, claims)
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            return gateway_message(413, "Request Entity Too Large")
        try:
            result = self.invoker.invoke(route.binary, event)
        except TimeoutError:
            self.log(f"503 {route.key}: {route.binary} did not answer in time")
            return gateway_message(503, "Service Unavailable")
        except FunctionError as e:
            self.log(f"500 {route.key}: {e}")
            return gateway_message(500, "Internal Server Error")
        return answer_from_result(result)


# The local WebSocket stage's @connections endpoint (deployed: https://{api}.execute-api…/live).
CONNECTIONS_PREFIX = "/live/@connections/"


def own_host(host: str | None, port: int) -> bool:
    """Whether a request's `Host` names this gateway (loopback, its own port)."""
    return (host or "").strip().lower() in (f"127.0.0.1:{port}", f"localhost:{port}")


def make_server(gateway: Gateway, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "assistant-local-gateway"
        # One write per answer, sent at once: headers and body apart, Nagle's algorithm held the
        # body back for the client's delayed ACK (~40 ms on every request).
        disable_nagle_algorithm = True
        wbufsize = -1

        def log_message(self, fmt: str, *args: Any) -> None:
            gateway.log("%s %s" % (self.address_string(), fmt % args))

        def _serve(self) -> None:
            if not own_host(self.headers.get("host"), self.server.server_address[1]):
                self.close_connection = True
                self._send(gateway_message(403, "Forbidden"))
                return
            length = self.headers.get("content-length")
            try:
                n = int(length) if length else 0
            except ValueError:
                n = -1
            if n < 0:
                self._send(gateway_message(400, "Bad Request"))
                return
            if n > MAX_REQUEST_BYTES:
                self.close_connection = True
                self._send(gateway_message(413, "Request Entity Too Large"))
                return
            body = self.rfile.read(n) if n else b""
            try:
                answer = gateway.handle(self.command, self.path, list(self.headers.items()), body)
            except Exception as e:  # a fault here is the gateway's, reported like API Gateway's own
                gateway.log(f"gateway fault: {e!r}")
                answer = gateway_message(500, "Internal Server Error")
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for k, v in answer.headers:
                if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(k, v)
            self.send_header("content-length", str(0 if self.command == "HEAD" else len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        def __getattr__(self, name: str) -> Any:
            # Every method (TRACE, PROPFIND ...) goes through the routes, as at API Gateway:
            # one no route has is a 404 JSON, never the standard library's 501 page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    t = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    t.start()
    return t


def console_dir_default(root: Path) -> Path:
    return root / "console"


__all__ = [
    "Answer", "Authority", "FunctionError", "Gateway", "Invoker", "Route", "TokenError",
    "answer_from_result", "build_event", "function_environment", "jwt_settings", "load_template",
    "make_server", "own_host", "routes_from_template", "serve_in_thread",
]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit("run scripts/stack/main.py (bash scripts/run.sh) to start the local stack")
