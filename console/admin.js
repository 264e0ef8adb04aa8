// The shop admin's tools: the robot's switch (the 飞鸽机器人 badge) and 编辑回复, the shop's own
// replies for the panel's solution (open to staff while the robot is on; saving needs the admin).
// The solution's title and the variables are the server's (GET /shops/{shop}/replies/{intent}).

import { api } from "./api.js";
import { refreshPanelSoon, refreshRobot } from "./agent.js";
import { $, showError, toast } from "./dom.js";
import { state } from "./state.js";

async function toggleRobot() {
  const a = state.agent;
  if (a.role !== "shop_admin" || !a.robot) return;
  try {
    await api(a, "PUT", `/shops/${a.shop}/robot`, { on: !a.robot.on, expected_version: a.robot.version });
    toast(a.robot.on ? "飞鸽机器人已关闭" : "飞鸽机器人已开启");
  } catch (e) {
    showError("agent-error", e);
  }
  await refreshRobot();
}

async function openEdit() {
  const a = state.agent;
  const p = a.panel;
  if (!p || !p.intent || !p.solution) return;
  showError("edit-error", null);
  try {
    const doc = await api(a, "GET", `/shops/${a.shop}/replies/${p.intent.intent}`);
    const sol = doc.solutions.find((s) => s.solution_id === p.solution.solution_id) || doc.solutions[0];
    a.editing = { intent: p.intent.intent, version: doc.version, solution_id: sol.solution_id };
    $("edit-title").textContent = `${p.intent.label} · ${sol.title}`;
    $("edit-vars").textContent = (doc.variables || []).map((v) => `{${v}}`).join(" ");
    $("edit-official").value = sol.official;
    for (let i = 0; i < 3; i++) $(`edit-r${i}`).value = sol.replies[i] || "";
    $("edit-dialog").showModal();
  } catch (e) {
    showError("agent-error", e);
  }
}

async function submitEdit(ev) {
  const submitter = ev.submitter;
  if (!submitter || (submitter.value !== "save" && submitter.value !== "reset")) return;
  ev.preventDefault();
  const a = state.agent;
  const editing = a.editing;
  const body = { expected_version: editing.version, solution_id: editing.solution_id };
  if (submitter.value === "reset") {
    body.reset = true;
  } else {
    body.replies = [0, 1, 2].map((i) => $(`edit-r${i}`).value.trim()).filter((t) => t);
  }
  try {
    await api(a, "PUT", `/shops/${a.shop}/replies/${editing.intent}`, body);
    $("edit-dialog").close();
    toast("回复已保存，全店生效");
    refreshPanelSoon();
  } catch (e) {
    const msg = e.status === 403 ? "只有店铺管理员可以编辑回复"
      : e.status === 409 && e.code === "conflict" ? "回复刚被其他人修改过，请重新打开后再编辑" : e.message;
    showError("edit-error", msg);
  }
}

export function setUpAdmin() {
  $("robot-state").addEventListener("click", () => toggleRobot());
  $("open-edit").addEventListener("click", openEdit);
  $("edit-form").addEventListener("submit", submitEdit);
}
