// Issue 17, item 3: the agent's socket drops, the buyer goes on writing, and nothing is lost. The
// buyer and the agent are two browser contexts of one chromium against the running local stack
// (`STACK_URL`). The agent's WebSocket goes through the test (playwright's routeWebSocket), which
// drops it and refuses reconnects while the buyer asks a new question; once it lets the console
// back in, the console catches up from its cursor (subscribe's `after`) and reads the panel once:
// the missed line and the panel of the new question are on the agent's screen, each line once.
// Opening a conversation follows it from the last message read, too.
//
//   STACK_URL=http://127.0.0.1:PORT node --test tests/browser/reconnect.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM, TWO_PAGES_ARGS, until as waitFor } from "./browser.mjs";

const URL = process.env.STACK_URL;
const WAIT_MS = 15000;

let browser;
let buyer;
let agent;
/** The agent's socket as the test relays it: the page's side, the server's, what the page sent. */
const relay = { page: null, server: null, frames: [], down: false, opened: 0 };

before(async () => {
  assert.ok(URL, "STACK_URL is the running local stack");
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: TWO_PAGES_ARGS,
  });
  const buyerCtx = await browser.newContext({ locale: "zh-CN" });
  const agentCtx = await browser.newContext({ locale: "zh-CN", viewport: { width: 1440, height: 900 } });
  buyer = await buyerCtx.newPage();
  agent = await agentCtx.newPage();
  await agent.routeWebSocket(/\/live/, (ws) => {
    relay.opened += 1;
    if (relay.down) { ws.close({ code: 1011, reason: "down" }); return; }
    const server = ws.connectToServer();
    ws.onMessage((m) => { relay.frames.push(String(m)); server.send(m); });
    server.onMessage((m) => ws.send(m));
    relay.page = ws;
    relay.server = server;
  });
  await agent.goto(`${URL}/?pane=agent&as=agent-xiaomei`);
  await buyer.goto(`${URL}/?pane=buyer&as=buyer-zhang`);
  for (const p of [agent, buyer]) await p.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 60000 });
});

after(async () => {
  if (browser) await browser.close();
});

const until = (fn, what, ms = WAIT_MS) => waitFor(fn, what, ms, 50);

async function buyerSays(text) {
  await buyer.fill("#buyer-input", text);
  await buyer.click("#buyer-send");
  await until(() => buyer.evaluate((t) => [...document.querySelectorAll("#buyer-messages *")]
    .some((e) => e.textContent.trim() === t), text), `“${text}” in the buyer's page`);
  await buyer.waitForFunction(() => !document.getElementById("buyer-send").disabled);
}

const agentSees = (text) => agent.evaluate((t) => [...document.querySelectorAll("#agent-messages *")]
  .filter((e) => e.children.length === 0 && e.textContent.trim() === t).length, text);
const panelIntent = () => agent.evaluate(() => {
  const box = document.getElementById("assistant-panel");
  return box && !box.hidden ? document.getElementById("ap-intent").textContent.trim() : "";
});

test("the agent's socket drops while the buyer asks: on reconnecting the line and its panel are there, once", async () => {
  // The buyer asks when the order ships and confirms the card; the agent's console opens the
  // waiting conversation and shows its panel.
  await buyerSays("我的订单怎么还没发货");
  const conv = await until(() => buyer.evaluate(() => {
    const m = /^会话 (c[0-9a-f]{32})$/.exec(document.getElementById("buyer-conv-id").textContent.trim());
    return m && m[1];
  }), "the conversation's id");
  await until(async () => (await agent.textContent("#agent-conv-id")).includes(conv), "the agent opened the conversation");
  const confirm = buyer.locator("#buyer-messages .card.prediction .confirm").last();
  await confirm.waitFor({ timeout: WAIT_MS });
  await confirm.click();
  await until(async () => (await panelIntent()) === "什么时候发货"
    && (await agent.textContent("#ap-order")).includes("订单"), "the 催发货 panel with the confirmed order");
  const subscribedBefore = relay.frames.filter((f) => f.includes(conv)).length;
  // Opened, the conversation was followed from the last message the console had read, so that
  // nothing between that read and the subscription is lost.
  const first = relay.frames.map((f) => JSON.parse(f)).find((m) => m.action === "subscribe" && m.conversation_id === conv);
  assert.ok(first && first.after, `followed from what was read: ${JSON.stringify(first)}`);

  // The socket drops, and stays down while the buyer asks where the parcel is.
  relay.down = true;
  const opened = relay.opened;
  relay.server.close({ code: 1001, reason: "dropped" });
  relay.page.close({ code: 1001, reason: "dropped" });
  await buyerSays("发出以后物流在哪里看？");
  await until(async () => relay.opened > opened, "the console trying to reconnect");
  assert.equal(await agentSees("发出以后物流在哪里看？"), 0, "not on the agent's screen while the socket is down");

  // Back up: the console reconnects with its cursor, catches up and reads the panel once.
  relay.down = false;
  await until(async () => (await agentSees("发出以后物流在哪里看？")) > 0, "the missed line on the agent's screen");
  await until(async () => (await panelIntent()) === "查询物流", "the panel of the missed question");
  const resubscribe = relay.frames.filter((f) => f.includes(conv)).slice(subscribedBefore)
    .map((f) => JSON.parse(f)).find((m) => m.action === "subscribe");
  assert.ok(resubscribe && resubscribe.after, `the conversation was subscribed again from its cursor: ${JSON.stringify(resubscribe)}`);
  assert.equal(await agentSees("发出以后物流在哪里看？"), 1, "the missed line shown once");
  assert.equal(await agentSees("我的订单怎么还没发货"), 1, "the earlier line still once");
});
