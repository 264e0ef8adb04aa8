"""The local stack: DynamoDB Local, moto's S3, the function binaries under `cargo lambda watch`,
and the gateway (the template's routes) serving the agent console, with the demo data seeded.

    python3 scripts/stack/main.py [--port N] [--ready-file PATH]

Every server binds 127.0.0.1 on a free port (the gateway on --port when given). It prints one URL,
and stops everything it started on Ctrl-C (SIGINT) or SIGTERM. --ready-file gets a JSON object
(`url`, `dynamodb`, `s3`, `lambda`) once the stack answers, for scripts and tests.

`GET /local/counts` answers what the stack did (counts.py): function invocations and
`@connections` posts, and DynamoDB requests by operation when started with
`STACK_COUNT_DYNAMODB=1`. `STACK_CONSOLE_DIR` serves another console directory (BENCHMARKS.md
measures the polling console of before push that way).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import counts as cnt  # noqa: E402
import gateway as gw  # noqa: E402
import sockets  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"


def target_dir() -> Path:
    """Cargo's target directory: CARGO_TARGET_DIR when set (relative to the workspace), else target/."""
    configured = os.environ.get("CARGO_TARGET_DIR")
    if not configured:
        return ROOT / "target"
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


def say(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, name: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see its log in {LOCAL}/stack")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


class Processes:
    """Children each in their own process group, stopped group by group, newest first."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        out = open(log, "ab")
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.children.append((name, proc))
        return proc

    def stop(self) -> None:
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in reversed(self.children):
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
            # The group may still hold grandchildren (cargo lambda watch runs the functions).
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            say(f"stopped {name}")
        self.children.clear()


class GatewayLog:
    """The gateway's log lines, appended to one file from any request thread."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.file.write(line + "\n")
            self.file.flush()


def aws_env(dynamodb: str, s3: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
        "AWS_ENDPOINT_URL_S3": s3,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    return env


def create_bucket(s3: str, name: str) -> None:
    req = urllib.request.Request(f"{s3}/{name}", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def parameter_overrides(text: str | None = None) -> dict[str, str]:
    """Template parameters set for this run, as `sam deploy --parameter-overrides` takes them:
    `STACK_PARAMETERS="Name=Value Name=Value"`; the others keep their defaults."""
    text = os.environ.get("STACK_PARAMETERS", "") if text is None else text
    overrides = {}
    for pair in text.split():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"STACK_PARAMETERS: {pair!r} is not Name=Value")
        overrides[name] = value
    return overrides


def local_resources(template: dict, prefix: str, tables: dict[str, str], s3: str):
    """How each `!Ref` in the functions' environment resolves locally: a table to the seeded
    table's name (`prefix-LogicalId`, as `assistant seed` named it), a bucket to a bucket made in
    moto, a parameter to its default or its value in STACK_PARAMETERS."""
    resources = template.get("Resources") or {}
    params = template.get("Parameters") or {}
    table_names = set(tables.values())

    def resolve(ref: str) -> str | None:
        res = resources.get(ref)
        if res is not None:
            kind = res.get("Type")
            if kind == "AWS::DynamoDB::Table":
                name = f"{prefix}-{ref}"
                if name not in table_names:
                    raise RuntimeError(f"table {ref} was not created by `assistant seed`")
                return name
            if kind == "AWS::S3::Bucket":
                name = f"{prefix}-{ref}".lower()
                create_bucket(s3, name)
                return name
            return None
        if ref in params:
            return parameter_overrides().get(ref, str(params[ref].get("Default", "")))
        if ref == "AWS::Region":
            return "us-east-1"
        return None

    return resolve


def local_preset(gateway_port: int) -> dict[str, str]:
    """Variables the local stack sets itself: the WebSocket stage's @connections endpoint is the
    local gateway's (`/live/@connections/{id}`), where the template names the deployed stage."""
    return {"PUSH_CONNECTIONS_URL": f"http://127.0.0.1:{gateway_port}/{sockets.STAGE}"}


def call(url: str, method: str, path: str, token: str | None = None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


# The demo shop's robot (飞鸽机器人): on, with answers for intents the assistant does not cover.
ROBOT_ANSWERS = {
    "invoice": "亲，电子发票会在您确认收货后24小时内开具，可在「订单详情 - 发票」中查看和下载哦。",
    "product_question": "亲，商品的尺寸、材质和洗涤方式都写在详情页「商品参数」里，有其他问题随时问我哦。",
    "price_promotion": "亲，店铺当前满199减20，领券后下单即可自动抵扣哦。",
}


def configure_robot(url: str, gateway: gw.Gateway, shop: str, admin: str) -> str:
    """Turns the demo shop's robot on through the API, as its admin would."""
    routes = {r.key for r in gateway.routes}
    if "PUT /shops/{shop_id}/robot" not in routes:
        return "the template has no robot route yet: the robot stays as seeded"
    token, _ = gateway.authority.mint({"sub": admin, "role": "shop_admin", "shop_id": shop})
    status, doc = call(url, "GET", f"/shops/{shop}/robot", token)
    if status != 200:
        return f"robot not configured: GET answered {status} {doc}"
    status, doc = call(url, "PUT", f"/shops/{shop}/robot", token,
                       {"on": True, "answers": ROBOT_ANSWERS,
                        "expected_version": doc.get("version", 0)})
    if status != 200:
        return f"robot not configured: PUT answered {status} {doc}"
    return f"robot on for {shop} with answers for {', '.join(sorted(ROBOT_ANSWERS))}"


def publish_demo_orders(gateway: gw.Gateway, events_file: Path) -> str:
    """The demo orders arrive as the order system's events, each invoking the `orders` function
    as EventBridge would (`assistant seed --order-events` wrote them); nothing writes the table."""
    events = json.loads(events_file.read_text(encoding="utf-8"))
    started = time.time()
    failed = sum(1 for e in events if gateway.publish_order_event(e)[1] is not None)
    took = time.time() - started
    if failed:
        raise RuntimeError(f"{failed} of {len(events)} demo order events were refused "
                           f"(see {gateway.dead_letter})")
    return f"{len(events)} demo order events published through the orders function ({took:.1f} s)"


def warm(gateway: gw.Gateway, binaries: list[str]) -> None:
    """Starts each function once (an event without claims: the handler answers 401) so that the
    first person to click does not wait for `cargo lambda watch` to build and start it."""
    for b in binaries:
        route = next(r for r in gateway.routes if r.binary == b)
        path = "/" + "/".join("x" if s.startswith("{") else s for s in route.segments())
        event = gw.build_event(route, route.method, path, "", [], b"", {}, None)
        started = time.time()
        try:
            result = gateway.invoker.invoke(b, event, timeout=900)
            status = result.get("statusCode") if isinstance(result, dict) else "?"
            say(f"function {b} is up ({time.time() - started:.1f} s; unauthenticated → {status})")
        except (gw.FunctionError, TimeoutError) as e:
            say(f"function {b} did not start: {e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="the gateway's port (default: a free one)")
    ap.add_argument("--ready-file", type=Path, help="write the stack's URLs here as JSON when ready")
    args = ap.parse_args()

    run_dir = LOCAL / "stack" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    procs = Processes()
    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = None
    try:
        template = gw.load_template(ROOT / "template.yaml")
        routes = gw.routes_from_template(template)

        ddb_dir = LOCAL / "dynamodb-local"
        ddb_port = free_port()
        ddb = procs.start("DynamoDB Local", [
            "java", f"-Djava.library.path={ddb_dir}/DynamoDBLocal_lib", "-jar",
            str(ddb_dir / "DynamoDBLocal.jar"), "-inMemory", "-port", str(ddb_port)],
            run_dir / "dynamodb.log")
        s3_port = free_port()
        moto = procs.start("moto S3", ["moto_server", "-H", "127.0.0.1", "-p", str(s3_port)],
                           run_dir / "moto.log")
        wait_port(ddb_port, ddb, "DynamoDB Local", 60)
        wait_port(s3_port, moto, "moto", 60)
        time.sleep(0.5)
        for name, proc in (("DynamoDB Local", ddb), ("moto", moto)):
            # Ours must be the one listening: a server that lost the port to another exits.
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {run_dir}")
        dynamodb, s3 = f"http://127.0.0.1:{ddb_port}", f"http://127.0.0.1:{s3_port}"
        say(f"DynamoDB Local {dynamodb}, moto S3 {s3}")
        if stopping.is_set():
            return 130

        say("building the functions and the assistant CLI (cargo build --bins) ...")
        env = aws_env(dynamodb, s3)
        build = subprocess.run(["cargo", "build", "--quiet", "--bins"], cwd=ROOT, env=env)
        if build.returncode != 0:
            say("cargo build failed")
            return 1
        # A busy machine can time a CreateTable out after it took effect (the SDK's retry then
        # finds the table): seed again under a fresh prefix, a few times at most.
        for attempt in range(3):
            prefix = f"local{int(time.time() * 1000)}"
            seeded = subprocess.run(
                [str(target_dir() / "debug" / "assistant"), "seed", "--prefix", prefix,
                 "--order-events", str(run_dir / "order-events.json"),
                 "--endpoint", dynamodb], cwd=ROOT, env=env, capture_output=True, text=True)
            if seeded.returncode == 0:
                break
            say(f"seeding failed (attempt {attempt + 1}): {seeded.stderr.strip()[:300]}")
        else:
            return 1
        seed = json.loads(seeded.stdout)
        identities = seed["identities"]
        say(f"seeded tables {', '.join(seed['tables'].values())}")

        # The gateway's port is chosen now: the functions' environment names its @connections.
        gateway_port = args.port or free_port()
        fn_env = gw.function_environment(template, local_resources(template, prefix, seed["tables"], s3),
                                         preset=local_preset(gateway_port))
        env.update(fn_env)
        env.setdefault("RUST_LOG", "info")
        counts = cnt.Counts()
        if os.environ.get("STACK_COUNT_DYNAMODB") == "1":
            proxy_port = free_port()
            proxy = procs.start("DynamoDB counting proxy", [
                sys.executable, str(Path(__file__).resolve().parent / "counts.py"),
                "--upstream", dynamodb, "--port", str(proxy_port)], run_dir / "counts.log")
            wait_port(proxy_port, proxy, "the counting proxy", 30)
            proxy_url = f"http://127.0.0.1:{proxy_port}"
            counts = cnt.Counts(dynamodb_url=proxy_url)
            env["AWS_ENDPOINT_URL_DYNAMODB"] = proxy_url
            say(f"counting DynamoDB requests through {proxy_url} (a process of its own)")
        lambda_port = free_port()
        watch = procs.start("cargo lambda watch", [
            # --ignore-changes: the binaries just built serve until Ctrl-C; a reload on every
            # saved file would drop invocations in flight.
            "cargo", "lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1",
            "--invoke-port", str(lambda_port)], run_dir / "lambda.log", env=env)
        wait_port(lambda_port, watch, "cargo lambda watch", 300)

        issuer, audience = gw.jwt_settings(template)
        gateway = gw.Gateway(
            routes=routes,
            authority=gw.Authority(issuer, audience),
            invoker=cnt.CountingInvoker(gw.Invoker(f"http://127.0.0.1:{lambda_port}"), counts),
            identities=identities,
            console_dir=Path(os.environ.get("STACK_CONSOLE_DIR") or ROOT / "console"),
            openapi_path=ROOT / "openapi.yaml",
            compensate_event=ROOT / "events" / "compensate-schedule.json",
            log=GatewayLog(run_dir / "gateway.log"),
            orders=seed.get("orders", []),
            dead_letter=run_dir / "order-events-dead-letter.jsonl",
            counts=counts,
        )
        push_api = sockets.socket_api(template)
        if push_api is not None:
            binary, socket_routes = push_api
            gateway.sockets = sockets.Sockets(gateway.invoker.invoke, binary, socket_routes,
                                              log=gateway.log)
            ws_port = gateway.sockets.start()
            gateway.socket_url = f"ws://127.0.0.1:{ws_port}/{sockets.STAGE}"
            say(f"WebSocket API {gateway.socket_url} ({', '.join(sorted(socket_routes))} → {binary})")
        say(publish_demo_orders(gateway, run_dir / "order-events.json"))
        warm(gateway, sorted({r.binary for r in routes}))
        if stopping.is_set():
            return 130
        server = gw.make_server(gateway, gateway_port)
        gw.serve_in_thread(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        admin = next((i for i in identities if i["role"] == "shop_admin"), None)
        if admin:
            say(configure_robot(url, gateway, admin["shop_id"], admin["sub"]))
        say(f"{len(routes)} routes from template.yaml; logs in {run_dir}")
        if args.ready_file:
            tmp = args.ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"url": url, "dynamodb": dynamodb, "s3": s3,
                                       "lambda": f"http://127.0.0.1:{lambda_port}",
                                       "logs": str(run_dir)}))
            tmp.replace(args.ready_file)
        print(f"智能助手 工作台: {url}/", flush=True)
        say("Ctrl-C stops everything")
        while not stopping.wait(1.0):
            for name, p in procs.children:
                if p.poll() is not None:
                    say(f"{name} exited ({p.returncode}); stopping")
                    stopping.set()
        return 0
    except Exception as e:  # report and stop everything started so far
        say(f"failed: {e}")
        return 1
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        procs.stop()
        if args.ready_file and args.ready_file.exists():
            args.ready_file.unlink()
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
