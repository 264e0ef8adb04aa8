// 订单系统: the order system's side of the demo. It marks a demo order shipped, delivered or
// refunded by publishing the order system's event through the local stack
// (POST /local/order-events), which invokes the orders function as EventBridge would; the buyer's
// card and the agent's panel then follow the order, as deployed.

import { api } from "./api.js";
import { $, el, toast } from "./dom.js";

const STEPS = [
  ["shipped", "发货"],
  ["delivered", "签收"],
  ["refunded", "退款"],
];

async function publish(step, word, button, onChange) {
  const orderId = $("os-order").value;
  button.disabled = true;
  try {
    await api(null, "POST", "/local/order-events", { order_id: orderId, step });
    toast(`订单系统：订单 ${orderId} 的${word}事件已送达`);
    onChange();
  } catch (e) {
    toast(`订单系统事件未能处理（已放入死信队列）：${e.message}`);
  } finally {
    button.disabled = false;
  }
}

/** Fills the panel with the demo orders; `onChange` refreshes the panes after an event. */
export async function setUpOrderSystem(onChange) {
  const r = await api(null, "GET", "/local/orders");
  $("os-order").replaceChildren(
    ...r.orders.map((o) => el("option", { value: o.order_id }, `${o.order_id} · ${o.title} · ${o.buyer_id}`)),
  );
  $("os-steps").replaceChildren(
    ...STEPS.map(([step, word]) => {
      const b = el("button", { class: "small ghost", "data-step": step }, word);
      b.addEventListener("click", () => publish(step, word, b, onChange));
      return b;
    }),
  );
}
