// 我要反馈: an agent or the admin tells the platform what is wrong with the panel's answer, with
// up to 3 screenshots (sent as multipart/form-data).

import { api } from "./api.js";
import { $, showError, toast } from "./dom.js";
import { state } from "./state.js";

function openFeedback() {
  const p = state.agent.panel;
  $("fb-intent").value = p && p.intent ? `${p.intent.label}（${p.intent.intent}）` : "";
  $("fb-description").value = "";
  $("fb-files").value = "";
  showError("fb-error", null);
  $("feedback-dialog").showModal();
}

async function submitFeedback(ev) {
  const submitter = ev.submitter;
  if (!submitter || submitter.value !== "submit") return;
  ev.preventDefault();
  const a = state.agent;
  const p = a.panel;
  const description = $("fb-description").value.trim();
  const files = Array.from($("fb-files").files);
  if (!description) { showError("fb-error", "请填写问题描述"); return; }
  if (files.length > 3) { showError("fb-error", "最多上传 3 张截图"); return; }
  const form = new FormData();
  form.append("intent", p && p.intent ? p.intent.intent : "other");
  if (p && p.solution) form.append("solution_id", p.solution.solution_id);
  if (a.conv) form.append("conversation_id", a.conv);
  form.append("description", description);
  for (const f of files) form.append("screenshot", f, f.name);
  $("fb-submit").disabled = true;
  try {
    const r = await api(a, "POST", "/feedback", form);
    $("feedback-dialog").close();
    const fb = r.feedback;
    toast(`反馈已提交（编号 ${fb.feedback_id}，截图 ${fb.screenshots.length} 张）`);
    document.body.dataset.lastFeedback = fb.feedback_id;
  } catch (e) {
    const known = { 413: "截图太大了（每张不超过 1 MB，合计不超过 4 MB）", 415: "只支持 PNG、JPEG、WebP 格式的截图" };
    showError("fb-error", known[e.status] || e);
  } finally {
    $("fb-submit").disabled = false;
  }
}

export function setUpFeedback() {
  $("open-feedback").addEventListener("click", openFeedback);
  $("feedback-form").addEventListener("submit", submitFeedback);
}
