"""Load run against the local stack: many concurrent conversations for a while, then every accepted
message is read back. Prints throughput, latency percentiles, errors and lost messages.

    python3 scripts/load.py --url http://127.0.0.1:PORT [--seconds 180] [--workers 16]
                            [--conversations 400] [--json target/artifacts/load.json]

Each conversation's first message opens it (`POST /conversations`, the server mints its id); the
others go to `POST /conversations/{id}/messages`. Every conversation stays within one read-back page (see MAX_PER_CONVERSATION). The URL is the local gateway (`bash scripts/run.sh`, or `scripts/load.sh`, which starts the stack,
runs this and stops it). Each worker owns its conversations (a buyer writes one message at a time,
as a person does), so a 409 would be a real conflict, not the load generator's. Exit status 1 when
any request failed or any accepted message is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

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


def buyers(url: str) -> list[str]:
    status, body = call(url, "GET", "/local/identities", None)
    if status != 200:
        raise SystemExit(f"/local/identities: {status} {body}")
    items = body["identities"]
    return [i["sub"] for i in items if i.get("role") == "buyer"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--conversations", type=int, default=400)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    url = args.url.rstrip("/")

    subs = buyers(url)
    if not subs:
        raise SystemExit("no demo buyers to log in as")
    tokens = {s: login(url, s) for s in subs}
    run = f"load{int(time.time())}"
    # Conversation i belongs to worker i % workers and to buyer i % len(buyers).
    convs = [(f"{run}-{i}", subs[i % len(subs)]) for i in range(args.conversations)]

    lock = threading.Lock()
    accepted: dict[str, list[str]] = {}
    # The id the server minted for each conversation (its first message opens it).
    minted: dict[str, str] = {}
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
            with lock:
                statuses[status] += 1
                latencies.append(ms)
                if status == 201:
                    if conv not in minted:
                        minted[conv] = body["conversation_id"]
                    accepted.setdefault(conv, []).append(body["message"]["message_id"])
                elif len(failures) < 10:
                    failures.append(f"{status} {conv}: {body}")
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
    for conv, ids in accepted.items():
        status, body = call(url, "GET", f"/conversations/{minted[conv]}/messages",
                            tokens[owner[conv]])
        if status != 200:
            read_errors += 1
            lost += len(ids)
            continue
        seen = {m["message_id"] for m in body["messages"]}
        lost += sum(1 for i in ids if i not in seen)

    total = sum(statuses.values())
    ok = statuses[201]
    lat = sorted(latencies)
    pct = lambda p: lat[min(len(lat) - 1, int(round((len(lat) - 1) * p)))] if lat else 0.0
    report = {
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "conversations": len(accepted),
        "requests": total,
        "accepted": ok,
        "errors": total - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "throughput_per_s": round(total / elapsed, 1),
        "latency_ms": {"p50": round(pct(0.5), 1), "p90": round(pct(0.9), 1),
                       "p99": round(pct(0.99), 1), "max": round(lat[-1], 1) if lat else 0.0,
                       "mean": round(statistics.fmean(lat), 1) if lat else 0.0},
        "read_back_errors": read_errors,
        "lost": lost,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    for f in failures:
        print("failure:", f, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2)
    return 0 if report["errors"] == 0 and lost == 0 and read_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
