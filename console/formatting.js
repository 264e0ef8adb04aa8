// Formatting: Beijing time, yuan, waits; and the few words the console owns itself. Labels the
// server owns (intents, order nodes, actions, panel notes, card prompts, solution titles) are
// never typed here: the console shows them from the server's responses.

const bj = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
});

/** An instant (epoch ms) in Beijing time, as a Chinese reader expects: "11月25日 18:00". */
export function beijing(ms) {
  const parts = Object.fromEntries(bj.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.month}月${parts.day}日 ${parts.hour}:${parts.minute}`;
}

/** Integer fen as yuan: 300 → "¥3.00". */
export const yuan = (fen) => `¥${(Number(fen) / 100).toFixed(2)}`;

/** How long a buyer has waited, for the queue. */
export function waited(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 1) return `已等待 ${Math.max(1, Math.floor(ms / 1000))} 秒`;
  if (m < 60) return `已等待 ${m} 分钟`;
  return `已等待 ${Math.floor(m / 60)} 小时 ${m % 60} 分钟`;
}

/** What the toast says once an action ran: the server's label of the action, done ("已…"). */
export const actionDone = (action) => (action && action.label ? `已${action.label}` : "已执行");

// Words no response carries: the console's own.

/** Role names for the identity switchers (GET /local/identities gives the role id only). */
export const ROLE_NAMES = { buyer: "买家", agent: "客服", shop_admin: "店铺管理员", platform: "平台运营" };

/** The panel's line for an intent the assistant does not cover (the panel has no `note` then). */
export const NOT_COVERED_NOTE = "智能助手暂未覆盖这个问题，请人工回复。";
