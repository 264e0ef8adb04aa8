//! The scripted conversation, played through the real handlers (the same code the Lambda
//! functions run) against DynamoDB, printing what the buyer and the agent see.

use crate::seed::{self, ADMIN, AGENTS, MAIN_BUYER, SHOP};
use assistant_aws::http::{local_event, response_json};
use assistant_aws::s3::S3Blobs;
use assistant_aws::DynamoStore;
use assistant_domain::model::time::{beijing_text, Millis};
use base64::Engine;
use serde_json::{json, Value};
use std::io::Write;

/// The HTTP functions, from the route registry.
pub use assistant_aws::routes::Function;

/// Calls a function's handler with an API Gateway event, as the Lambda runtime would. The feedback
/// function needs a screenshot store: see [`run`].
pub async fn invoke(
    store: &DynamoStore,
    function: Function,
    event: aws_lambda_events::apigw::ApiGatewayV2httpRequest,
    now: Millis,
) -> (i64, Value) {
    let store = &store.acting_as(function.binary());
    let resp = match function {
        Function::Intake => intake::handle(store, event, now).await,
        Function::OrderCard => order_card::handle(store, event, now).await,
        Function::Suggest => suggest::handle(store, event, now).await,
        Function::Replies => replies::handle(store, event, now).await,
        Function::Shops => shops::handle(store, event, now).await,
        Function::Push => push::handle_http(store, event, now).await,
        Function::Feedback => {
            let err =
                assistant_domain::Error::Unavailable("the demo has no screenshot store".into());
            assistant_aws::http::error_response(&err)
        }
    };
    (resp.status_code, response_json(&resp))
}

fn buyer(id: &str) -> Vec<(&str, &str)> {
    vec![("sub", id), ("role", "buyer")]
}

fn agent(id: &str) -> Vec<(&str, &str)> {
    vec![("sub", id), ("role", "agent"), ("shop_id", SHOP)]
}

/// One step of the script: a call, its figures, and what it printed.
struct Script<'a, W: Write> {
    store: &'a DynamoStore,
    blobs: Option<&'a S3Blobs>,
    out: &'a mut W,
    now: Millis,
    step: usize,
    /// (step, what, DynamoDB requests)
    requests: Vec<(usize, String, u64)>,
}

impl<W: Write> Script<'_, W> {
    async fn call(
        &mut self,
        what: &str,
        function: Function,
        route: &str,
        conversation: &str,
        claims: &[(&str, &str)],
        body: Option<Value>,
    ) -> std::io::Result<Value> {
        let event = local_event(
            route,
            &[("conversation_id", conversation)],
            claims,
            body.as_ref(),
        );
        self.send(what, function, route, event).await
    }

    /// A step where the buyer of `claims` says `text` in `conversation`.
    async fn buyer_says(
        &mut self,
        what: &str,
        conversation: &str,
        claims: &[(&str, &str)],
        text: &str,
    ) -> std::io::Result<Value> {
        let body = json!({"shop_id": SHOP, "text": text});
        let route = "POST /conversations/{conversation_id}/messages";
        self.call(
            what,
            Function::Intake,
            route,
            conversation,
            claims,
            Some(body),
        )
        .await
    }

    /// A step where the buyer of `claims` opens a conversation in the demo shop with `text`
    /// (`POST /conversations`): the id the server minted, and the answer.
    async fn opens(
        &mut self,
        what: &str,
        claims: &[(&str, &str)],
        text: &str,
    ) -> std::io::Result<(String, Value)> {
        let body = json!({"shop_id": SHOP, "text": text});
        let route = "POST /conversations";
        let v = self
            .call_with(what, Function::Intake, route, &[], claims, Some(body))
            .await?;
        let id = v["conversation_id"]
            .as_str()
            .ok_or_else(|| std::io::Error::other(format!("no conversation opened: {v}")))?;
        Ok((id.to_string(), v))
    }

    /// The agent's panel as the serving agent's console fetches it after the buyer's step (the
    /// buyer's own answer carries none).
    async fn agent_panel(&mut self, what: &str, conversation: &str) -> std::io::Result<Value> {
        let route = "GET /conversations/{conversation_id}/panel";
        let xiaomei = agent(AGENTS[0]);
        self.call(what, Function::Suggest, route, conversation, &xiaomei, None)
            .await
    }

    /// A step on a route with other path parameters (shops, feedback).
    async fn call_with(
        &mut self,
        what: &str,
        function: Function,
        route: &str,
        params: &[(&str, &str)],
        claims: &[(&str, &str)],
        body: Option<Value>,
    ) -> std::io::Result<Value> {
        let event = local_event(route, params, claims, body.as_ref());
        self.send(what, function, route, event).await
    }

    async fn send(
        &mut self,
        what: &str,
        function: Function,
        route: &str,
        event: aws_lambda_events::apigw::ApiGatewayV2httpRequest,
    ) -> std::io::Result<Value> {
        self.step += 1;
        self.now += 20_000; // twenty seconds between steps
        let before = self.store.requests();
        // Boxed: each step's handler future lives on the heap, so the script's own future (one
        // await per step) stays small enough for a thread's stack in a debug build.
        let (status, value) = match (function, self.blobs) {
            (Function::Feedback, Some(blobs)) => {
                let store = self.store.acting_as(function.binary());
                let resp = Box::pin(feedback::handle(&store, blobs, event, self.now)).await;
                (resp.status_code, response_json(&resp))
            }
            _ => Box::pin(invoke(self.store, function, event, self.now)).await,
        };
        let used = self.store.requests() - before;
        self.requests.push((self.step, what.to_string(), used));
        writeln!(
            self.out,
            "\n── {:>2}. {what}  [{route} → {status}, DynamoDB 请求 {used} 次] {}",
            self.step,
            beijing_text(self.now)
        )?;
        if status >= 400 && what.ends_with("（预期拒绝）") {
            writeln!(
                self.out,
                "   拒绝 ({status}): {}",
                s(&value["error"]["code"])
            )?;
        } else if status >= 400 {
            writeln!(self.out, "   错误: {value}")?;
        }
        Ok(value)
    }
}

/// A real PNG an agent might attach (a crop of the panel with the reply in question).
fn demo_screenshot() -> &'static [u8] {
    include_bytes!("../assets/feedback-screenshot.png")
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn yuan(fen: &Value) -> String {
    fen.as_i64()
        .map(|f| assistant_domain::model::money::Fen(f).yuan_text())
        .unwrap_or_default()
}

fn print_card<W: Write>(out: &mut W, card: &Value) -> std::io::Result<()> {
    writeln!(
        out,
        "   ┌ 订单预测卡片（以{}的名义发送给买家）",
        s(&card["sent_by"])
    )?;
    writeln!(out, "   │ {}", s(&card["prompt"]))?;
    let line = |o: &Value| {
        format!(
            "{} | {} | {} | {}",
            s(&o["order_id"]),
            s(&o["title"]),
            yuan(&o["total"]),
            s(&o["node_label"])
        )
    };
    writeln!(out, "   │ ★ 猜您想问: {}", line(&card["guess"]))?;
    for o in card["others"].as_array().into_iter().flatten() {
        writeln!(out, "   │   其他订单: {}", line(o))?;
    }
    writeln!(out, "   └")
}

fn print_panel<W: Write>(out: &mut W, panel: &Value) -> std::io::Result<()> {
    let intent = &panel["intent"];
    writeln!(
        out,
        "   ╔ 智能助手提示（客服面板） 状态: {}",
        s(&panel["state"])
    )?;
    if !intent.is_null() {
        writeln!(
            out,
            "   ║ 买家意图: {} ({}, 置信度 {})",
            s(&intent["label"]),
            s(&intent["intent"]),
            s(&intent["confidence"])
        )?;
    }
    if !panel["order"].is_null() {
        let o = &panel["order"];
        writeln!(
            out,
            "   ║ 订单: {} {} [{}]",
            s(&o["order_id"]),
            s(&o["title"]),
            s(&o["node_label"])
        )?;
    }
    if let Some(sol) = panel["solution"].as_object() {
        writeln!(out, "   ║ 方案: {}", s(&sol["solution_id"]))?;
        for r in sol["replies"].as_array().into_iter().flatten() {
            writeln!(out, "   ║ 推荐话术[{}]: {}", s(&r["index"]), s(&r["text"]))?;
        }
        for a in sol["actions"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "   ║ 推荐操作: [{}] ({})",
                s(&a["label"]),
                s(&a["action_id"])
            )?;
        }
    }
    if !panel["note"].is_null() {
        writeln!(out, "   ║ 提示: {}", s(&panel["note"]))?;
    }
    writeln!(out, "   ╚")
}

fn describe(body: &Value) -> String {
    match body["type"].as_str().unwrap_or_default() {
        "text" => s(&body["text"]),
        "prediction_card" => format!(
            "[订单预测卡片] 猜测订单 {}",
            s(&body["card"]["guess"]["order_id"])
        ),
        "card_answer" => format!(
            "[卡片回复: {}] 订单 {}",
            if body["answer"] == "confirmed" {
                "确认订单"
            } else {
                "选择其他订单"
            },
            s(&body["order"]["order_id"])
        ),
        "order_card" => format!(
            "[订单卡片] {} {}",
            s(&body["order"]["order_id"]),
            s(&body["order"]["title"])
        ),
        "promised_date_card" => format!(
            "[发货时效卡片] 预计 {} 发货",
            s(&body["promised_ship_time"])
        ),
        "logistics_card" => format!(
            "[物流卡片] {} {} {}{}",
            s(&body["courier"]),
            s(&body["tracking_no"]),
            s(&body["status"]),
            body["signed_at"]
                .as_str()
                .map(|t| format!("，签收于 {t}"))
                .unwrap_or_default()
        ),
        "after_sale_entry" => format!("[售后入口] {}", s(&body["title"])),
        "warehouse_reminder" => format!(
            "[内部] 已{}提醒仓库发货 订单 {}",
            if body["urgent"] == true { "加急" } else { "" },
            s(&body["order_id"])
        ),
        "shipping_delay_report" => format!("[内部] 已报备发货延迟 订单 {}", s(&body["order_id"])),
        "coupon" => format!("[赔付通知] {}", s(&body["text"])),
        other => format!("[{other}]"),
    }
}

fn print_messages<W: Write>(out: &mut W, title: &str, value: &Value) -> std::io::Result<()> {
    writeln!(out, "   {title}")?;
    for m in value["messages"].as_array().into_iter().flatten() {
        let who = match m["sender"]["role"].as_str() {
            Some("buyer") => format!("买家 {}", s(&m["sender"]["id"])),
            Some("agent") => format!("客服 {}", s(&m["sender"]["id"])),
            Some("robot") => "飞鸽机器人".into(),
            _ => "系统".into(),
        };
        writeln!(out, "   · {who}: {}", describe(&m["body"]))?;
    }
    Ok(())
}

/// Seeds the demo shop and plays the script. Returns the request figures per step.
pub async fn run<W: Write>(
    store: &DynamoStore,
    blobs: Option<&S3Blobs>,
    start: Millis,
    out: &mut W,
) -> Result<Vec<(usize, String, u64)>, Box<dyn std::error::Error>> {
    seed::seed(store, start).await?;
    writeln!(
        out,
        "智能助手 演示：店铺「小鹿家居旗舰店」({SHOP})，客服 {}、{}",
        AGENTS[0], AGENTS[1]
    )?;
    writeln!(
        out,
        "时间均为北京时间。买家 {MAIN_BUYER} 有 4 笔本店订单：超时未发货、待发货、已签收、已关闭。"
    )?;

    let mut sc = Script {
        store,
        blobs,
        out,
        now: start,
        step: 0,
        requests: Vec::new(),
    };
    let zhang = buyer(MAIN_BUYER);

    // 1. A greeting opens the conversation: no intent, nothing pops up.
    let (conv, _) = sc.opens("买家打招呼", &zhang, "你好，在吗？").await?;
    let conv = conv.as_str();
    let p = sc.agent_panel("客服面板刷新", conv).await?;
    writeln!(
        sc.out,
        "   [买家] 你好，在吗？  → 面板: {}（没有可确认的意图，不弹出）",
        s(&p["state"])
    )?;

    // 2. 催发货 naming a product: the card goes out in the serving agent's name.
    let text = "我买的四件套怎么还没发货啊？都好几天了";
    let v = sc.buyer_says("买家催发货", conv, &zhang, text).await?;
    writeln!(sc.out, "   [买家] {text}")?;
    print_card(sc.out, &v["card"])?;
    let card_id = s(&v["card"]["card_id"]);
    let p = sc.agent_panel("客服面板刷新", conv).await?;
    writeln!(
        sc.out,
        "   意图（仅客服可见）: {} 置信度 {} 依据 {}",
        s(&p["intent"]["intent"]),
        s(&p["intent"]["confidence"]),
        p["intent"]["evidence"]
    )?;
    print_panel(sc.out, &p)?;

    // 3. The buyer confirms the guessed order.
    let v = sc
        .call(
            "买家确认订单",
            Function::OrderCard,
            "POST /conversations/{conversation_id}/order-selection",
            conv,
            &zhang,
            Some(json!({"via": "confirm", "card_id": card_id})),
        )
        .await?;
    writeln!(sc.out, "   [买家] 确认订单 {}", s(&v["order"]["order_id"]))?;
    let p = sc.agent_panel("客服面板刷新", conv).await?;
    print_panel(sc.out, &p)?;
    let solution_id = s(&p["solution"]["solution_id"]);

    // 4. The agent copies the reply, sends it, and sends an action.
    let events = "POST /conversations/{conversation_id}/panel/events";
    let xiaomei = agent(AGENTS[0]);
    sc.call(
        "客服复制话术",
        Function::Suggest,
        events,
        conv,
        &xiaomei,
        Some(json!({"solution_id": solution_id, "event": "copied", "reply_index": 0})),
    )
    .await?;
    let v = sc
        .call(
            "客服发送话术",
            Function::Suggest,
            events,
            conv,
            &xiaomei,
            Some(json!({"solution_id": solution_id, "event": "sent", "reply_index": 0})),
        )
        .await?;
    writeln!(
        sc.out,
        "   [客服 → 买家] {}",
        describe(&v["message"]["body"])
    )?;
    let v = sc.call("客服点击推荐操作", Function::Suggest, events, conv, &xiaomei,
        Some(json!({"solution_id": solution_id, "event": "sent", "action_id": "remind_warehouse_urgent"}))).await?;
    writeln!(sc.out, "   [客服操作] {}", describe(&v["message"]["body"]))?;

    // 5. A later question resolves against the confirmed order, with no new card.
    let text = "那到底什么时候能发？";
    let v = sc.buyer_says("买家再次追问", conv, &zhang, text).await?;
    writeln!(
        sc.out,
        "   [买家] {text}  → 新卡片: {}",
        if v["card"].is_null() {
            "无（沿用已确认订单）"
        } else {
            "有"
        }
    )?;
    let p = sc.agent_panel("客服面板刷新", conv).await?;
    print_panel(sc.out, &p)?;

    // 6. The agent edits the reply for this one answer and sends it.
    let v = sc
        .call(
            "客服修改后发送",
            Function::Suggest,
            events,
            conv,
            &xiaomei,
            Some(
                json!({"solution_id": solution_id, "event": "edited_sent", "reply_index": 0,
            "text": "亲，仓库今天下午就给您发出，单号出来第一时间发您，3元优惠券已经到账了哦～"}),
            ),
        )
        .await?;
    writeln!(
        sc.out,
        "   [客服 → 买家] {}",
        describe(&v["message"]["body"])
    )?;

    // 6b. The shop admin switches the robot on and rewrites the overdue reply shop-wide; the
    // next panel, for any agent, shows the shop's words. Then 我要反馈 with a screenshot.
    writeln!(
        sc.out,
        "\n==== 店铺编辑回复（需开启飞鸽机器人）与我要反馈 ===="
    )?;
    let admin = vec![("sub", ADMIN), ("role", "shop_admin"), ("shop_id", SHOP)];
    let shop_params = [("shop_id", SHOP)];
    let replies_params = [("shop_id", SHOP), ("intent", "urge_shipment")];
    let replies_route = "PUT /shops/{shop_id}/replies/{intent}";
    let new_replies = json!({"expected_version": 0, "solution_id": solution_id, "replies": [
        "真的很抱歉，订单没能在{promised_ship_time}发出！仓库正在加急，预计{new_ship_time}发出，平台送您的{coupon_amount}优惠券已经到账～",
        "亲，我们已经催仓库优先处理您的订单（{order_id}），一发出马上告诉您～"]});
    let v = sc
        .call_with(
            "机器人未开启时编辑回复（预期拒绝）",
            Function::Replies,
            replies_route,
            &replies_params,
            &admin,
            Some(new_replies.clone()),
        )
        .await?;
    writeln!(sc.out, "   → {}", s(&v["error"]["message"]))?;
    let v = sc
        .call_with("店铺开启飞鸽机器人", Function::Replies, "PUT /shops/{shop_id}/robot", &shop_params, &admin,
            Some(json!({"expected_version": 0, "on": true, "answers": {
                "invoice": "亲，发票可以在“订单详情-申请开票”里自助开具，电子发票1个工作日内发到您的邮箱～"}})))
        .await?;
    writeln!(
        sc.out,
        "   飞鸽机器人: {}，已配置回答: {}",
        if v["on"] == true {
            "已开启"
        } else {
            "未开启"
        },
        v["answers"]
    )?;
    let v = sc
        .call_with(
            "店铺管理员编辑回复",
            Function::Replies,
            replies_route,
            &replies_params,
            &admin,
            Some(new_replies),
        )
        .await?;
    writeln!(
        sc.out,
        "   回复版本 {}，修改记录: {} 由 {} 修改",
        s(&v["version"]),
        s(&v["history"][0]["solution_id"]),
        s(&v["history"][0]["by"])
    )?;
    let ahao = agent(AGENTS[1]);
    let v = sc
        .call(
            "另一位客服打开面板",
            Function::Suggest,
            "GET /conversations/{conversation_id}/panel",
            conv,
            &ahao,
            None,
        )
        .await?;
    print_panel(sc.out, &v)?;
    if sc.blobs.is_some() {
        let shot = base64::engine::general_purpose::STANDARD.encode(demo_screenshot());
        let v = sc
            .call_with("客服提交我要反馈（附截图）", Function::Feedback, "POST /feedback", &[], &xiaomei,
                Some(json!({"intent": "urge_shipment", "solution_id": solution_id, "conversation_id": conv,
                    "description": "预计发货日期写死成一天后，仓库周末不发货，买家会觉得我们又食言了",
                    "screenshots": [shot]})))
            .await?;
        let fb = &v["feedback"];
        writeln!(
            sc.out,
            "   反馈 {} 已保存，截图 {} 张（{}，{} 字节）",
            s(&fb["feedback_id"]),
            fb["screenshots"].as_array().map_or(0, Vec::len),
            s(&fb["screenshots"][0]["content_type"]),
            s(&fb["screenshots"][0]["bytes"])
        )?;
        let platform = vec![("sub", "ops-demo"), ("role", "platform")];
        let v = sc
            .call_with(
                "平台查看反馈",
                Function::Feedback,
                "GET /feedback",
                &[],
                &platform,
                None,
            )
            .await?;
        for f in v["items"].as_array().into_iter().flatten() {
            writeln!(
                sc.out,
                "   · [{}] {}：{}（{}）",
                s(&f["intent"]),
                s(&f["author"]),
                s(&f["description"]),
                s(&f["shop_id"])
            )?;
        }
    } else {
        writeln!(
            sc.out,
            "   （未配置截图存储，跳过我要反馈：设置 AWS_ENDPOINT_URL_S3 指向 moto）"
        )?;
    }

    // 6c. An intent the assistant does not cover: the robot answers; a bad rating hands the
    // buyer to a person, and the queue shows who has waited longest.
    let v = sc
        .buyer_says("买家问发票（机器人回答）", conv, &zhang, "能开发票吗？")
        .await?;
    writeln!(
        sc.out,
        "   [飞鸽机器人 → 买家] {}",
        s(&v["robot_reply"]["body"]["text"])
    )?;
    let robot_msg = s(&v["robot_reply"]["message_id"]);
    let v = sc
        .call(
            "买家评价机器人：没帮到我",
            Function::Intake,
            "POST /conversations/{conversation_id}/robot-rating",
            conv,
            &zhang,
            Some(json!({"message_id": robot_msg, "rating": "bad"})),
        )
        .await?;
    writeln!(
        sc.out,
        "   [系统 → 买家] {}",
        s(&v["message"]["body"]["text"])
    )?;
    let v = sc
        .call_with(
            "客服查看等待队列",
            Function::Intake,
            "GET /shops/{shop_id}/queue",
            &shop_params,
            &xiaomei,
            None,
        )
        .await?;
    for w in v["items"].as_array().into_iter().flatten() {
        writeln!(
            sc.out,
            "   · 会话 {} 买家 {} 已等待 {} 秒{}：{}",
            s(&w["conversation_id"]),
            s(&w["buyer_id"]),
            w["waited_ms"].as_i64().unwrap_or(0) / 1000,
            if w["handed_off"] == true {
                "（转人工）"
            } else {
                ""
            },
            s(&w["last_text"])
        )?;
    }

    // 7. What each side sees of the conversation.
    let list = "GET /conversations/{conversation_id}/messages";
    let v = sc
        .call("买家看到的会话", Function::Intake, list, conv, &zhang, None)
        .await?;
    print_messages(sc.out, "买家视角（不含内部操作）:", &v)?;
    let v = sc
        .call(
            "客服看到的会话",
            Function::Intake,
            list,
            conv,
            &xiaomei,
            None,
        )
        .await?;
    print_messages(sc.out, "客服视角:", &v)?;

    // 8. One short conversation per order node: the buyer asks, confirms, the panel answers.
    writeln!(sc.out, "\n==== 每个订单节点的推荐方案 ====")?;
    for (node, order) in seed::node_buyers(start) {
        let buyer_id = order.buyer_id.to_string();
        let claims = buyer(&buyer_id);
        let (conv, v) = sc
            .opens(
                &format!("{}：买家催发货", node.label()),
                &claims,
                "发货了吗？",
            )
            .await?;
        let card_id = s(&v["card"]["card_id"]);
        sc.call(
            &format!("{}：买家确认订单", node.label()),
            Function::OrderCard,
            "POST /conversations/{conversation_id}/order-selection",
            &conv,
            &claims,
            Some(json!({"via": "confirm", "card_id": card_id})),
        )
        .await?;
        let p = sc
            .agent_panel(&format!("{}：客服面板刷新", node.label()), &conv)
            .await?;
        print_panel(sc.out, &p)?;
    }

    // 9. The scheduled sweep pays the overdue buyers their coupons, once.
    writeln!(sc.out, "\n==== 定时任务：超时发货赔付（每分钟一次） ====")?;
    let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_value(
        json!({
            "version": "0", "id": "demo-sweep", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-23T10:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        }),
    )?;
    for delivery in ["第一次投递", "同一事件重复投递"] {
        sc.now += 60_000;
        let before = store.requests();
        let report = compensate::handle(&store.acting_as("compensate"), &event, sc.now).await?;
        writeln!(
            sc.out,
            "   {delivery}: 检查 {} 笔，赔付 {} 笔，共 {}，已赔付跳过 {} 笔  [DynamoDB 请求 {} 次]",
            report.examined,
            report.paid,
            assistant_domain::model::money::Fen(report.fen_paid).yuan_text(),
            report.already_paid,
            store.requests() - before
        )?;
    }
    let v = sc
        .call(
            "买家看到的赔付通知",
            Function::Intake,
            list,
            conv,
            &zhang,
            None,
        )
        .await?;
    for m in v["messages"].as_array().into_iter().flatten() {
        if m["body"]["type"] == "coupon" {
            writeln!(sc.out, "   · 系统: {}", s(&m["body"]["text"]))?;
        }
    }
    let platform = assistant_domain::model::identity::Actor::from_claims(
        Some("ops-demo"),
        Some("platform"),
        None,
    )?;
    let day = assistant_domain::model::time::beijing_date(sc.now);
    let report = assistant_domain::usecases::payout_report(store, &platform, &day).await?;
    writeln!(
        sc.out,
        "   平台日报 {day}: 赔付 {} 笔，合计 {}",
        report.payouts,
        report.total.yuan_text()
    )?;
    for (shop, n, fen) in &report.by_shop {
        writeln!(
            sc.out,
            "     店铺 {shop}: {n} 笔，{}（保证金扣除）",
            fen.yuan_text()
        )?;
    }
    writeln!(
        sc.out,
        "     欠费店铺: {}",
        if report.in_arrears.is_empty() {
            "无".to_string()
        } else {
            report
                .in_arrears
                .iter()
                .map(|a| format!("{} {}", a.shop_id, a.deposit.yuan_text()))
                .collect::<Vec<_>>()
                .join("，")
        }
    )?;

    // 10. Adoption figures of this shop, as its admin reads them.
    let v = sc
        .call_with(
            "店铺查看采纳数据",
            Function::Suggest,
            "GET /shops/{shop_id}/adoption",
            &[("shop_id", SHOP)],
            &[("sub", ADMIN), ("role", "shop_admin"), ("shop_id", SHOP)],
            None,
        )
        .await?;
    for r in v["rows"].as_array().into_iter().flatten() {
        writeln!(
            sc.out,
            "   {}: 展示 {}，复制 {}，发送 {}，修改后发送 {}，反馈 {}（发送率 {}）",
            s(&r["solution_id"]),
            s(&r["shown"]),
            s(&r["copied"]),
            s(&r["sent"]),
            s(&r["edited_sent"]),
            s(&r["feedback"]),
            s(&r["send_rate"])
        )?;
    }

    writeln!(sc.out, "\n==== 每一步的 DynamoDB 请求数 ====")?;
    let requests = std::mem::take(&mut sc.requests);
    for (step, what, n) in &requests {
        writeln!(sc.out, "{step:>3}. {what}: {n}")?;
    }
    Ok(requests)
}
