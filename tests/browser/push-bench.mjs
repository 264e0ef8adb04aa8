// Issue 17, item 4: how soon the agent sees what the buyer does, and what an idle agent console
// costs, measured in chromium against the running local stack (started with
// STACK_COUNT_DYNAMODB=1, so that /local/counts counts DynamoDB requests too).
//
//   STACK_URL=http://127.0.0.1:PORT node tests/browser/push-bench.mjs [--messages 100]
//       [--per-conversation 10] [--idle-seconds 300] [--think-ms 1500] [--out FILE] [--check]
//
// The buyer and the agent are two browser contexts (two cookie jars, two pages: the buyer's chat
// `/?pane=buyer`, the agent's console `/?pane=agent`). The buyer writes `--messages` lines in
// conversations of `--per-conversation`: each opens with a 催发货 question, which sends a
// prediction card that the buyer confirms, and goes on with follow-ups (some of them other
// questions). One line at a time: the next is sent once the agent's page shows the last, after a
// pause of a person's (uniform in [0, --think-ms), default 1500 ms: a polling console's tick).
//
// Measured in the pages (both in one browser, so one clock; `performance.timeOrigin + now()`):
// - message: the buyer's click on 发送 → the line painted in the agent's page (the first line of a
//   conversation: its entry in the agent's queue, 待接待; the agent then opens it as a person
//   would, by clicking it; the later lines: in the open conversation);
// - panel: the buyer's action (a question, or 确认订单 on the card) → the assistant panel painted
//   with what changed (its intent, order or replies).
// Then the buyer's page closes and the agent's console stays open, untouched, `--idle-seconds`:
// DynamoDB reads, Lambda invocations and @connections posts over that time (the stack's
// /local/counts before and after), and the HTTP requests the page made.
//
// It prints one JSON report (also written to --out, default target/artifacts/push-bench.json).
// --check exits 1 when a line or an expected panel was not seen, or when the idle console cost
// more than 10 DynamoDB reads a minute (issue 17's target): the counts, not the clock.
// Works against an older console too (STACK_CONSOLE_DIR): it ignores ?pane= and shows both panes.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { CHROMIUM, TWO_PAGES_ARGS, until as waitFor } from "./browser.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const URL = process.env.STACK_URL;
const { values: opts } = parseArgs({
  options: {
    messages: { type: "string", default: "100" },
    "per-conversation": { type: "string", default: "10" },
    "idle-seconds": { type: "string", default: "300" },
    out: { type: "string", default: join(ROOT, "target", "artifacts", "push-bench.json") },
    check: { type: "boolean", default: false },
    label: { type: "string", default: "" },
    "think-ms": { type: "string", default: "1500" },
  },
});
const MESSAGES = Number(opts.messages);
const PER_CONV = Number(opts["per-conversation"]);
const IDLE_S = Number(opts["idle-seconds"]);
const WAIT_MS = 15000;
const THINK_MS = Number(opts["think-ms"]);

/** A person's pause before each action, uniform in [0, --think-ms): so that a line is not sent in
 *  step with a polling console's ticks (which would wait a whole tick every time). */
const think = () => new Promise((r) => setTimeout(r, Math.random() * THINK_MS));

// Written for this bench: how a buyer chasing a late parcel writes. `panel`: the line is a
// question whose panel differs from the last one's, so the agent's panel must change.
const OPENERS = [
  "我买的四件套怎么还没发货啊？",
  "下单好几天了，到底什么时候发货",
  "怎么还不发货，能不能快一点",
  "我的订单啥时候能发出来？",
  "都三天了还没发货，怎么回事啊",
];
const FOLLOW_UPS = [
  { text: "好的，那麻烦尽快吧", panel: false },
  { text: "发出以后物流在哪里看？", panel: true },
  { text: "嗯嗯", panel: false },
  { text: "收货地址能改一下吗，我换地方住了", panel: true },
  { text: "那我再等等", panel: false },
  { text: "今天之内能发出去吗？", panel: true },
  { text: "谢谢啦", panel: false },
  { text: "要是明天还不发我就申请退款了", panel: false },
  { text: "行，知道了", panel: false },
];

function pct(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 10) / 10;
}
const summary = (v) => ({ n: v.length, p50: pct(v, 50), p90: pct(v, 90), p99: pct(v, 99), max: pct(v, 100) });

async function counts() {
  const r = await fetch(`${URL}/local/counts`);
  if (r.status !== 200) throw new Error(`GET /local/counts answered ${r.status}: start the stack with STACK_COUNT_DYNAMODB=1`);
  return r.json();
}
function delta(after, before) {
  const d = (a, b) => (a == null || b == null ? null : a - b);
  const byName = (kind) => Object.fromEntries(Object.keys(after[kind]).map((k) => [k, after[kind][k] - (before[kind][k] || 0)]).filter(([, n]) => n));
  return {
    dynamodb_reads: d(after.dynamodb_reads, before.dynamodb_reads),
    dynamodb_requests: d(after.dynamodb_requests, before.dynamodb_requests),
    lambda_invocations: after.lambda_invocations - before.lambda_invocations,
    pushes: after.pushes - before.pushes,
    dynamodb: byName("dynamodb"),
    lambda: byName("lambda"),
  };
}

// In the agent's page, from its first script on: when each thing was first painted.
function recorder() {
  const now = () => performance.timeOrigin + performance.now();
  const seen = { messages: {}, queue: {}, panel: [] };
  window.__seen = seen;
  let lastPanel = "";
  const look = () => {
    const t = now();
    requestAnimationFrame(() => {
      const painted = now();
      for (const li of document.querySelectorAll("#agent-messages li.msg[data-sender='buyer']")) {
        const id = li.dataset.messageId;
        if (id && !seen.messages[id]) {
          seen.messages[id] = { t: painted, mutated: t, text: (li.querySelector(".bubble") || li).textContent.trim() };
        }
      }
      for (const li of document.querySelectorAll("#queue-list li[data-conversation-id]")) {
        const id = li.dataset.conversationId;
        const text = (li.querySelector(".q-text") || li).textContent.trim();
        const key = `${id}|${text}`;
        if (!seen.queue[key]) seen.queue[key] = { t: painted, conversation: id, text };
      }
      const box = document.getElementById("assistant-panel");
      if (box) {
        const sig = box.hidden ? "" : [
          (document.getElementById("ap-intent") || {}).textContent,
          (document.getElementById("ap-order") || {}).textContent,
          [...document.querySelectorAll("#ap-replies li .text")].map((x) => x.textContent).join("|"),
        ].join("#");
        if (sig !== lastPanel) { lastPanel = sig; seen.panel.push({ t: painted, sig }); }
      }
    });
  };
  const start = () => new MutationObserver(look).observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["hidden"] });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
}

async function clickAt(page, selector) {
  return page.evaluate((sel) => {
    const t = performance.timeOrigin + performance.now();
    document.querySelector(sel).click();
    return t;
  }, selector);
}

/** Polled every 5 ms: the timings are taken in the page, the poll only ends the wait. */
const until = (fn, what, ms = WAIT_MS) => waitFor(fn, what, ms, 5);

async function main() {
  if (!URL) throw new Error("STACK_URL is the running local stack");
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: TWO_PAGES_ARGS,
  });
  const report = { label: opts.label, url: URL, messages: MESSAGES, per_conversation: PER_CONV, started: new Date().toISOString() };
  const errors = [];
  try {
    const buyerCtx = await browser.newContext({ locale: "zh-CN", viewport: { width: 900, height: 900 } });
    const agentCtx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1440, height: 900 } });
    await agentCtx.addInitScript(recorder);
    const buyer = await buyerCtx.newPage();
    const agent = await agentCtx.newPage();
    for (const [who, p] of [["buyer", buyer], ["agent", agent]]) {
      p.on("pageerror", (e) => errors.push(`${who}: ${e}`));
    }
    const agentRequests = [];
    agent.on("request", (r) => agentRequests.push({ t: Date.now(), url: `${r.method()} ${r.url().replace(URL, "")}` }));
    await agent.goto(`${URL}/?pane=agent&as=agent-xiaomei`);
    await buyer.goto(`${URL}/?pane=buyer&as=buyer-zhang`);
    for (const p of [agent, buyer]) await p.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 60000 });
    // An older console has no ?as=: sign its panes in as these two.
    if ((await buyer.inputValue("#buyer-identity")) !== "buyer-zhang") await buyer.selectOption("#buyer-identity", "buyer-zhang");
    if ((await agent.inputValue("#agent-identity")) !== "agent-xiaomei") await agent.selectOption("#agent-identity", "agent-xiaomei");
    await agent.waitForTimeout(2000);

    const seen = () => agent.evaluate(() => window.__seen);
    const message = [];
    const queue = [];
    const panel = [];
    const samples = [];
    const before = await counts();
    const activeStart = Date.now();
    let sent = 0;
    for (let c = 0; sent < MESSAGES; c += 1) {
      if (c > 0) {
        await buyer.click("#new-conversation");
        await buyer.waitForFunction(() => document.getElementById("buyer-conv-id").textContent.includes("新会话"));
      }
      // The opener: a question with a card. The agent sees the buyer in the queue, opens it.
      const opener = OPENERS[c % OPENERS.length];
      await buyer.fill("#buyer-input", opener);
      await think();
      const t0 = await clickAt(buyer, "#buyer-send");
      sent += 1;
      const conv = await until(() => buyer.evaluate(() => {
        const m = /^会话 (c[0-9a-f]{32})$/.exec(document.getElementById("buyer-conv-id").textContent.trim());
        return m && m[1];
      }), "the conversation's id in the buyer's page");
      const inQueue = await until(async () => Object.values((await seen()).queue).find((q) => q.conversation === conv), `conversation ${conv} in the agent's queue`);
      queue.push(inQueue.t - t0);
      samples.push({ kind: "queue", text: opener, ms: inQueue.t - t0 });
      if (!(await agent.textContent("#agent-conv-id")).includes(conv)) {
        await agent.click(`#queue-list li[data-conversation-id='${conv}']`);
      }
      await until(async () => Object.values((await seen()).messages).some((m) => m.text === opener) && (await agent.textContent("#agent-conv-id")).includes(conv), "the opened conversation's question");
      // The buyer confirms the card; the agent's panel shows the order's replies.
      const confirm = buyer.locator("#buyer-messages .card.prediction .confirm").last();
      await confirm.waitFor({ timeout: WAIT_MS });
      const panels = (await seen()).panel.length;
      await think();
      const t1 = await confirm.evaluate((button) => {
        const t = performance.timeOrigin + performance.now();
        button.click();
        return t;
      });
      const shown = await until(async () => (await seen()).panel.slice(panels).find((p) => p.t >= t1 && p.sig.includes("订单 ")), "the panel with the confirmed order");
      panel.push(shown.t - t1);
      samples.push({ kind: "panel", text: "确认订单", ms: shown.t - t1 });
      await agent.waitForTimeout(100);

      for (let i = 0; i < PER_CONV - 1 && sent < MESSAGES; i += 1) {
        const line = FOLLOW_UPS[i % FOLLOW_UPS.length];
        const known = new Set(Object.keys((await seen()).messages));
        const panelsBefore = (await seen()).panel.length;
        await buyer.fill("#buyer-input", line.text);
        await think();
        const t = await clickAt(buyer, "#buyer-send");
        sent += 1;
        const got = await until(async () => Object.entries((await seen()).messages).find(([id, m]) => !known.has(id) && m.text === line.text), `“${line.text}” in the agent's page`);
        message.push(got[1].t - t);
        samples.push({ kind: "message", text: line.text, ms: got[1].t - t });
        if (line.panel) {
          const p = await until(async () => (await seen()).panel.slice(panelsBefore).find((x) => x.t >= t && x.sig), `the panel after “${line.text}”`, 5000)
            .catch((e) => { errors.push(String(e.message)); return null; });
          if (p) { panel.push(p.t - t); samples.push({ kind: "panel", text: line.text, ms: p.t - t }); }
        }
        await buyer.waitForFunction(() => !document.getElementById("buyer-send").disabled);
        await agent.waitForTimeout(50);
      }
    }
    const activeEnd = Date.now();
    const active = delta(await counts(), before);
    report.latency_ms = {
      message: summary([...queue, ...message]),
      message_in_open_conversation: summary(message),
      new_conversation_in_queue: summary(queue),
      panel: summary(panel),
    };
    report.active = { seconds: (activeEnd - activeStart) / 1000, buyer_messages: sent, ...active,
      per_buyer_message: {
        dynamodb_reads: active.dynamodb_reads == null ? null : Math.round((active.dynamodb_reads / sent) * 100) / 100,
        lambda_invocations: Math.round((active.lambda_invocations / sent) * 100) / 100,
        pushes: Math.round((active.pushes / sent) * 100) / 100,
      } };
    report.samples = samples;

    // The idle agent console: the buyer's window closes; nothing happens for IDLE_S seconds.
    await buyerCtx.close();
    await agent.waitForTimeout(3000);
    const idleBefore = await counts();
    const idleFrom = Date.now();
    await agent.waitForTimeout(IDLE_S * 1000);
    const idle = delta(await counts(), idleBefore);
    const minutes = (Date.now() - idleFrom) / 60000;
    const requests = agentRequests.filter((r) => r.t >= idleFrom).length;
    report.idle = {
      seconds: Math.round(minutes * 600) / 10,
      ...idle,
      dynamodb_reads_per_minute: idle.dynamodb_reads == null ? null : Math.round((idle.dynamodb_reads / minutes) * 10) / 10,
      lambda_invocations_per_minute: Math.round((idle.lambda_invocations / minutes) * 10) / 10,
      page_http_requests: requests,
    };
    await agentCtx.close();
  } finally {
    await browser.close();
  }
  report.errors = errors;
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(report, null, 2));
  const { samples: _s, ...shown } = report;
  console.log(JSON.stringify(shown, null, 2));
  if (opts.check) {
    const failed = [...errors];
    if (report.idle.dynamodb_reads_per_minute == null || report.idle.dynamodb_reads_per_minute > 10) {
      failed.push(`the idle console read DynamoDB ${report.idle.dynamodb_reads_per_minute} times a minute (target ≤ 10)`);
    }
    if (failed.length) {
      console.error(`push-bench: ${failed.join("; ")}`);
      process.exit(1);
    }
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
