"""Load run against the local stack: many concurrent conversations for a while, then every accepted
message is read back. Prints throughput, latency percentiles, errors and lost messages.

    python3 scripts/load.py --url http://127.0.0.1:PORT [--seconds 180] [--workers 16]
                            [--conversations 400] [--agents 8] [--followers 2]
                            [--reconnect-share 0.5] [--json target/artifacts/load.json]

Each conversation's first message opens it (`POST /conversations`, the server mints its id); the
others go to `POST /conversations/{id}/messages`. Every conversation stays within one read-back page (see MAX_PER_CONVERSATION). The URL is the local gateway (`bash scripts/run.sh`, or `scripts/load.sh`, which starts the stack,
runs this and stops it). Each worker owns its conversations (a buyer writes one message at a time,
as a person does), so a 409 would be a real conflict, not the load generator's. Exit status 1 when
any request failed or any accepted message is missing.

The push path (issue 17) runs beside it: `--agents` WebSocket connections as the shop's staff
(each a ticket from `POST /push/tickets`), each following the shop's queue and, as conversations
open, up to 19 of them (each conversation by `--followers` connections). A connection subscribes
with the cursor `0000000000000.0`, so the answer's `missed` holds what came before; every message
pushed afterwards is counted by id. Part-way through, `--reconnect-share` of the connections
close, wait a second (messages keep coming), reconnect with a fresh ticket and resubscribe each
conversation with `after` = the last cursor they saw. At the end every message of every followed
conversation (the read-back) must have reached each follower exactly once by push, or in a
subscribe answer; exit status 1 on any lost or duplicated push or any refused connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from websockets.asyncio.client import connect as ws_connect

SHOP = "xiaolu-home"
# Buyer messages of every kind the assistant sees: questions that send cards, follow-ups, small talk.
TEXTS = [
    "在吗", "你好", "什么时候发货啊", "我的四件套怎么还没发货", "快递到哪了", "好的，谢谢",
    "能开发票吗", "地址填错了能改吗", "不想要了，能取消吗", "收到的东西有问题，要退货",
    "还没发吗？？", "嗯嗯", "麻烦快点发", "发货了吗 亲", "OK", "这个枕头是什么材质的",
]
# The read-back returns a conversation's latest 100 messages, and a buyer message stores at most two
# (with a card or the robot's answer), so no conversation gets more than 45 buyer messages.
MAX_PER_CONVERSATION = 45
# A connection follows at most 20 topics: the shop's queue and 19 conversations.
MAX_FOLLOWED = 19
# Before every message: `subscribe`'s `after` with this cursor answers the conversation so far.
ZERO_CURSOR = "0000000000000.0"


def call(url: str, method: str, path: str, token: str | None, body: dict | None = None):
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        return 0, {"transport": str(e)}


def login(url: str, sub: str) -> str:
    status, body = call(url, "POST", "/local/login", None, {"sub": sub})
    if status != 200:
        raise SystemExit(f"login as {sub} failed: {status} {body}")
    return body["token"]


def identities(url: str) -> list[dict]:
    status, body = call(url, "GET", "/local/identities", None)
    if status != 200:
        raise SystemExit(f"/local/identities: {status} {body}")
    return body["identities"]


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round((len(v) - 1) * p)))], 1) if v else 0.0


class Follower:
    """One agent's WebSocket connection (reopened on reconnect): what it follows, the cursor it
    last saw per conversation, and every message it received, by id."""

    def __init__(self, n: int, url: str, ws_url: str, token: str):
        self.n, self.url, self.ws_url, self.token = n, url, ws_url, token
        self.convs: list[str] = []          # conversation ids followed
        self.cursor: dict[str, str] = {}    # conversation -> last cursor seen
        self.pending: dict[str, str] = {}   # conversation -> "caught" | "recovered" (answer awaited)
        self.answered: set[str] = set()     # conversations whose subscribe was answered
        self.pushed: Counter = Counter()    # message id -> times pushed
        self.arrived: dict[str, float] = {}  # message id -> first push's perf_counter
        self.caught: set[str] = set()       # in the first subscribe's answer
        self.recovered: set[str] = set()    # in a reconnect's subscribe answer, not pushed before
        self.overlap = 0                    # in an answer and pushed too (kept once by id)
        self.queue_pushes = 0
        self.errors: list[str] = []
        self.connects = 0
        self.reconnects = 0
        self.ws = None
        self.reader: asyncio.Task | None = None

    def seen(self, mid: str) -> bool:
        return mid in self.pushed or mid in self.caught or mid in self.recovered

    def saw_cursor(self, conv: str, cursor: str | None) -> None:
        # "{sent_at:013}.{id}" compares as the messages sort.
        if cursor and cursor > self.cursor.get(conv, ""):
            self.cursor[conv] = cursor

    def handle(self, raw: str) -> None:
        now = time.perf_counter()
        m = json.loads(raw)
        if m.get("type") == "conversation":
            for msg in m["messages"]:
                mid = msg["message_id"]
                self.pushed[mid] += 1
                self.arrived.setdefault(mid, now)
            self.saw_cursor(m["conversation_id"], m.get("cursor"))
        elif m.get("type") == "queue":
            self.queue_pushes += 1
        elif "subscribed" in m:
            conv = m["subscribed"].get("conversation")
            missed = m.get("missed")
            if conv is None:
                return
            how = self.pending.pop(conv, "caught")
            self.answered.add(conv)
            if missed:
                if not missed.get("complete", True):
                    self.errors.append(f"{conv}: catch-up incomplete")
                for msg in missed["messages"]:
                    mid = msg["message_id"]
                    if self.seen(mid):
                        self.overlap += 1
                    else:
                        (self.recovered if how == "recovered" else self.caught).add(mid)
                self.saw_cursor(conv, missed.get("cursor"))
        else:
            self.errors.append(str(m)[:300])

    async def open(self, how: str) -> None:
        status, body = await asyncio.to_thread(call, self.url, "POST", "/push/tickets", self.token)
        if status != 201:
            raise RuntimeError(f"POST /push/tickets: {status} {body}")
        self.ws = await ws_connect(f"{self.ws_url}?ticket={body['ticket']}", max_size=None)
        self.connects += 1
        self.reader = asyncio.create_task(self.read(self.ws))
        await self.ws.send(json.dumps({"action": "subscribe", "queue": SHOP}))
        for conv in list(self.convs):
            # A conversation that opened while the socket was closed is caught up, not recovered.
            await self.subscribe(conv, how if conv in self.cursor else "caught")

    async def read(self, ws) -> None:
        try:
            async for raw in ws:
                self.handle(raw)
        except Exception as e:  # a dropped socket: counted, its messages are recovered or lost
            self.errors.append(f"socket: {e!r}")

    async def subscribe(self, conv: str, how: str) -> None:
        self.pending[conv] = how
        await self.ws.send(json.dumps({"action": "subscribe", "conversation_id": conv,
                                       "after": self.cursor.get(conv, ZERO_CURSOR)}))

    async def follow(self, conv: str) -> None:
        self.convs.append(conv)
        if self.ws is not None:
            try:
                await self.subscribe(conv, "caught")
            except Exception:  # closing for a reconnect: subscribed again once reopened
                pass

    async def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close()
        if self.reader is not None:
            await self.reader

    async def reconnect(self, at: float, gap: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        await self.close()
        await asyncio.sleep(gap)  # the buyers keep writing: pushes are missed meanwhile
        self.reconnects += 1
        await self.open("recovered")


def buyer_load(args, url: str, subs: list[str], tokens: dict[str, str], on_open) -> dict:
    run = f"load{int(time.time())}"
    # Conversation i belongs to worker i % workers and to buyer i % len(buyers).
    convs = [(f"{run}-{i}", subs[i % len(subs)]) for i in range(args.conversations)]

    lock = threading.Lock()
    accepted: dict[str, list[str]] = {}
    # The id the server minted for each conversation (its first message opens it).
    minted: dict[str, str] = {}
    sent_at: dict[str, float] = {}  # accepted message id -> perf_counter when its POST started
    latencies: list[float] = []
    statuses: Counter = Counter()
    failures: list[str] = []
    stop_at = time.time() + args.seconds

    def worker(w: int) -> None:
        mine = [c for i, c in enumerate(convs) if i % args.workers == w]
        sent = Counter()
        rnd = random.Random(w)
        while time.time() < stop_at:
            open_ = [c for c in mine if sent[c[0]] < MAX_PER_CONVERSATION]
            if not open_:
                return
            conv, sub = rnd.choice(open_)
            text = rnd.choice(TEXTS)
            t = time.perf_counter()
            if conv in minted:
                status, body = call(url, "POST", f"/conversations/{minted[conv]}/messages",
                                    tokens[sub], {"text": text})
            else:
                status, body = call(url, "POST", "/conversations", tokens[sub],
                                    {"shop_id": SHOP, "text": text})
            ms = (time.perf_counter() - t) * 1000
            opened = None
            with lock:
                statuses[status] += 1
                latencies.append(ms)
                if status == 201:
                    if conv not in minted:
                        minted[conv] = opened = body["conversation_id"]
                    mid = body["message"]["message_id"]
                    accepted.setdefault(conv, []).append(mid)
                    sent_at[mid] = t
                elif len(failures) < 10:
                    failures.append(f"{status} {conv}: {body}")
            if opened:
                on_open(opened)
            sent[conv] += 1

    started = time.time()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started

    # Read every conversation back, as its buyer, and look for every accepted message.
    lost = 0
    read_errors = 0
    owner = dict(convs)
    stored: dict[str, set[str]] = {}  # server conversation id -> every message id read back
    for conv, ids in accepted.items():
        status, body = call(url, "GET", f"/conversations/{minted[conv]}/messages",
                            tokens[owner[conv]])
        if status != 200:
            read_errors += 1
            lost += len(ids)
            continue
        seen = {m["message_id"] for m in body["messages"]}
        stored[minted[conv]] = seen | set(ids)
        lost += sum(1 for i in ids if i not in seen)

    total = sum(statuses.values())
    ok = statuses[201]
    report = {
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "conversations": len(accepted),
        "requests": total,
        "accepted": ok,
        "errors": total - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "throughput_per_s": round(total / elapsed, 1),
        "latency_ms": {"p50": pct(latencies, 0.5), "p90": pct(latencies, 0.9),
                       "p99": pct(latencies, 0.99),
                       "max": round(max(latencies), 1) if latencies else 0.0,
                       "mean": round(statistics.fmean(latencies), 1) if latencies else 0.0},
        "read_back_errors": read_errors,
        "lost": lost,
    }
    return {"report": report, "failures": failures, "stored": stored, "sent_at": sent_at}


async def run(args, url: str) -> tuple[dict, list[str]]:
    people = identities(url)
    subs = [i["sub"] for i in people if i.get("role") == "buyer"]
    if not subs:
        raise SystemExit("no demo buyers to log in as")
    tokens = {s: login(url, s) for s in subs}
    followers: list[Follower] = []
    if args.agents:
        staff = [i["sub"] for i in people
                 if i.get("role") in ("agent", "shop_admin") and i.get("shop_id") == SHOP]
        status, body = call(url, "GET", "/local/push", None)
        ws_url = body.get("url") if status == 200 and body else None
        if not staff or not ws_url:
            raise SystemExit(f"no push path to load: staff {staff}, /local/push {status} {body}")
        staff_tokens = {s: login(url, s) for s in staff}
        followers = [Follower(n, url, ws_url, staff_tokens[staff[n % len(staff)]])
                     for n in range(args.agents)]
        await asyncio.gather(*(f.open("caught") for f in followers))

    loop = asyncio.get_running_loop()
    opened = [0]

    def assign(conv: str) -> None:
        # Conversation k (in the order they open) goes to the next `followers` connections that
        # have room.
        k = opened[0]
        opened[0] += 1
        picked = [f for f in (followers[(k + r) % len(followers)]
                              for r in range(len(followers)))
                  if len(f.convs) < MAX_FOLLOWED][:args.followers]
        for f in picked:
            asyncio.ensure_future(f.follow(conv))

    def on_open(conv: str) -> None:
        if followers:
            loop.call_soon_threadsafe(assign, conv)

    rnd = random.Random(7)
    t0 = time.time()
    reconnecting = followers[:round(len(followers) * args.reconnect_share)]
    tasks = [asyncio.create_task(f.reconnect(t0 + args.seconds * rnd.uniform(0.3, 0.6), args.gap))
             for f in reconnecting]
    loaded = await asyncio.to_thread(buyer_load, args, url, subs, tokens, on_open)
    report, failures = loaded["report"], loaded["failures"]
    for t in tasks:
        try:
            await t
        except Exception as e:
            failures.append(f"reconnect: {e!r}")
    if not followers:
        return report, failures

    # Pushes in flight land within a post's 1.5 s; then every follower must have every message.
    stored, sent_at = loaded["stored"], loaded["sent_at"]

    def missing(f: Follower) -> int:
        return sum(1 for c in f.convs for mid in stored.get(c, ()) if not f.seen(mid))

    deadline = time.time() + 10
    while time.time() < deadline and (any(missing(f) for f in followers)
                                      or any(f.pending for f in followers)):
        await asyncio.sleep(0.25)
    await asyncio.gather(*(f.close() for f in followers))

    expected = sum(len(stored.get(c, ())) for f in followers for c in f.convs)
    pushes = sum(sum(f.pushed.values()) for f in followers)
    dups = sum(n - 1 for f in followers for n in f.pushed.values() if n > 1)
    lost = sum(missing(f) for f in followers)
    lat = [(f.arrived[mid] - sent_at[mid]) * 1000 for f in followers for mid in f.arrived
           if mid in sent_at]
    errors = [e for f in followers for e in f.errors if not e.startswith("socket:")]
    unanswered = sum(len(f.pending) for f in followers)
    for f in followers:
        for e in f.errors:
            if len(failures) < 20:
                failures.append(f"follower {f.n}: {e}")
    report["push"] = {
        "connections": sum(f.connects for f in followers),
        "followers": len(followers),
        "reconnected": sum(f.reconnects for f in followers),
        "conversations_followed": len({c for f in followers for c in f.convs}),
        "expected": expected,
        "pushes_received": pushes,
        "queue_pushes": sum(f.queue_pushes for f in followers),
        "duplicates": dups,
        "caught_up_at_subscribe": sum(len(f.caught) for f in followers),
        "recovered_on_reconnect": sum(len(f.recovered) for f in followers),
        "overlap": sum(f.overlap for f in followers),
        "lost": lost,
        "subscribe_errors": len(errors),
        "unanswered_subscribes": unanswered,
        "latency_ms": {"p50": pct(lat, 0.5), "p90": pct(lat, 0.9), "p99": pct(lat, 0.99),
                       "max": round(max(lat), 1) if lat else 0.0, "samples": len(lat)},
    }
    return report, failures


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--conversations", type=int, default=400)
    ap.add_argument("--agents", type=int, default=8,
                    help="WebSocket connections as the shop's staff (0: no push load)")
    ap.add_argument("--followers", type=int, default=2,
                    help="connections following each conversation (while they have room)")
    ap.add_argument("--reconnect-share", type=float, default=0.5,
                    help="share of the connections that close and reconnect part-way through")
    ap.add_argument("--gap", type=float, default=1.0,
                    help="seconds a reconnecting connection stays closed")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    url = args.url.rstrip("/")

    report, failures = asyncio.run(run(args, url))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    for f in failures:
        print("failure:", f, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2)
    push = report.get("push")
    push_ok = push is None or (push["lost"] == 0 and push["duplicates"] == 0
                               and push["subscribe_errors"] == 0
                               and push["unanswered_subscribes"] == 0)
    ok = report["errors"] == 0 and report["lost"] == 0 and report["read_back_errors"] == 0
    return 0 if ok and push_ok else 1


if __name__ == "__main__":
    sys.exit(main())
