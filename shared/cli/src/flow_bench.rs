//! `assistant bench flow`: in one run against DynamoDB Local, the DynamoDB requests and capacity
//! units (as DynamoDB reports them, `ReturnConsumedCapacity`) of every step of the 催发货 flow,
//! intake's latency next to a bare GetItem + PutItem pair on the same table, and the sweep's
//! payouts per second.

use crate::demo::{invoke, Function};
use crate::seed::{self, AGENTS, MAIN_BUYER, SHOP};
use assistant_aws::dynamo::keys::{conversation_pk, message_sk_at, META, PK, SK};
use assistant_aws::http::local_event;
use assistant_aws::DynamoStore;
use assistant_domain::model::time::{Millis, MINUTE};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use std::time::Instant;

/// One measured step.
#[derive(Debug, Clone)]
pub struct Step {
    pub what: &'static str,
    pub status: i64,
    pub requests: u64,
    pub units: f64,
}

/// The flow's figures.
#[derive(Debug, Clone)]
pub struct FlowFigures {
    /// message (with the card), confirm, panel, send.
    pub flow: Vec<Step>,
    /// The whole flow's capacity units per table and index (`Table` or `Table/Index`).
    pub flow_by_part: Vec<(String, f64)>,
    /// Ordinary buyer messages (no new question) in a conversation under way.
    pub ordinary: Vec<Step>,
    /// A first message, a follow-up question, a panel fetched again.
    pub others: Vec<Step>,
}

const OPEN: &str = "POST /conversations";
const POST: &str = "POST /conversations/{conversation_id}/messages";
const SELECT: &str = "POST /conversations/{conversation_id}/order-selection";
const PANEL: &str = "GET /conversations/{conversation_id}/panel";
const USE: &str = "POST /conversations/{conversation_id}/panel/events";

const BUYER: &[(&str, &str)] = &[("sub", MAIN_BUYER), ("role", "buyer")];
const AGENT: &[(&str, &str)] = &[("sub", AGENTS[0]), ("role", "agent"), ("shop_id", SHOP)];

/// A request to one of the flow's routes.
struct Call<'a> {
    function: Function,
    route: &'a str,
    conv: &'a str,
    claims: &'a [(&'a str, &'a str)],
    body: Option<Value>,
}

impl<'a> Call<'a> {
    /// The main buyer's message `text` in `conv`.
    fn buyer_says(conv: &'a str, text: &str) -> Self {
        let body = json!({"shop_id": SHOP, "text": text});
        Call::new(Function::Intake, POST, conv, BUYER, Some(body))
    }

    /// The main buyer opens a conversation with `text` (the server mints its id).
    fn opens(text: &str) -> Self {
        let body = json!({"shop_id": SHOP, "text": text});
        Call::new(Function::Intake, OPEN, "", BUYER, Some(body))
    }

    /// The agent's panel of `conv`.
    fn panel(conv: &'a str) -> Self {
        Call::new(Function::Suggest, PANEL, conv, AGENT, None)
    }

    fn new(
        function: Function,
        route: &'a str,
        conv: &'a str,
        claims: &'a [(&'a str, &'a str)],
        body: Option<Value>,
    ) -> Self {
        Call {
            function,
            route,
            conv,
            claims,
            body,
        }
    }
}

async fn step(
    store: &DynamoStore,
    what: &'static str,
    call: Call<'_>,
    now: Millis,
) -> (Step, Value) {
    let (r0, u0) = (store.requests(), store.capacity_units());
    let params: &[(&str, &str)] = if call.conv.is_empty() {
        &[]
    } else {
        &[("conversation_id", call.conv)]
    };
    let event = local_event(call.route, params, call.claims, call.body.as_ref());
    let (status, value) = invoke(store, call.function, event, now).await;
    let step = Step {
        what,
        status,
        requests: store.requests() - r0,
        units: store.capacity_units() - u0,
    };
    (step, value)
}

/// The steps of `calls`, each made at its instant, in order.
async fn steps(store: &DynamoStore, calls: Vec<(&'static str, Call<'_>, Millis)>) -> Vec<Step> {
    let mut out = Vec::with_capacity(calls.len());
    for (what, call, at) in calls {
        out.push(step(store, what, call, at).await.0);
    }
    out
}

/// Plays the flow once on a seeded store and measures each step.
pub async fn flow_figures(store: &DynamoStore, now: Millis) -> FlowFigures {
    let parts_before = store.capacity_by_part();
    let text = "我买的四件套怎么还没发货啊";
    let (message, v) = step(
        store,
        "buyer opens the chat (催发货, card sent)",
        Call::opens(text),
        now,
    )
    .await;
    let opened = v["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let conv = opened.as_str();
    let confirm = json!({"via": "confirm", "card_id": v["card"]["card_id"]});
    let select = Call::new(Function::OrderCard, SELECT, conv, BUYER, Some(confirm));
    let (confirmed, _) = step(store, "buyer confirms the card", select, now + 1000).await;
    // The buyer's answer carries no panel: the agent's console reads it.
    let (panel, v) = step(store, "agent's panel", Call::panel(conv), now + 2000).await;
    let solution = v["solution"]["solution_id"].clone();
    let sent = json!({"solution_id": solution, "event": "sent", "reply_index": 0});
    let mut flow = vec![message, confirmed, panel];
    flow.extend(
        steps(
            store,
            vec![(
                "agent sends the reply",
                Call::new(Function::Suggest, USE, conv, AGENT, Some(sent)),
                now + 3000,
            )],
        )
        .await,
    );
    let flow_by_part = store
        .capacity_by_part()
        .into_iter()
        .map(|(part, units)| {
            let before = parts_before.get(&part).copied().unwrap_or(0.0);
            // Table names carry the run's prefix ("flow123-ConversationsTable").
            let name = part.split_once('-').map_or(part.as_str(), |(_, n)| n);
            (name.to_string(), units - before)
        })
        .filter(|(_, units)| *units > 0.0)
        .collect();

    let ordinary = steps(
        store,
        vec![
            (
                "buyer: \"好的，谢谢\" (starts waiting)",
                Call::buyer_says(conv, "好的，谢谢"),
                now + 4000,
            ),
            (
                "buyer: \"好的\" (already waiting)",
                Call::buyer_says(conv, "好的"),
                now + 4500,
            ),
        ],
    )
    .await;
    let others = steps(
        store,
        vec![
            (
                "buyer: \"在吗\" (opens a new conversation)",
                Call::opens("在吗"),
                now + 5000,
            ),
            (
                "buyer asks again about the confirmed order",
                Call::buyer_says(conv, "那到底什么时候能发？"),
                now + 6000,
            ),
            (
                "agent's panel, fetched again",
                Call::panel(conv),
                now + 7000,
            ),
        ],
    )
    .await;
    FlowFigures {
        flow,
        flow_by_part,
        ordinary,
        others,
    }
}

/// Percentile of sorted milliseconds.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub struct Latency {
    pub n: usize,
    pub intake_p50: f64,
    pub intake_p99: f64,
    pub pair_p50: f64,
    pub pair_p99: f64,
}

/// Intake of an ordinary buyer message (an existing conversation, no new question) against a
/// bare GetItem + PutItem pair of the same sizes on the same table, alternated in one run.
pub async fn latency(
    store: &DynamoStore,
    n: usize,
    now: Millis,
) -> Result<Latency, Box<dyn std::error::Error>> {
    let convs = 20;
    let mut opened = Vec::with_capacity(convs);
    for _ in 0..convs {
        let body = json!({"shop_id": SHOP, "text": "你好"});
        let event = local_event(OPEN, &[], BUYER, Some(&body));
        let (status, v) = invoke(store, Function::Intake, event, now).await;
        match v["conversation_id"].as_str() {
            Some(id) if status == 201 => opened.push(id.to_string()),
            _ => return Err(format!("opening answered {status}: {v}").into()),
        }
    }
    let table = store.tables().conversations.clone();
    let client = store.client().clone();
    let sample_text = "好的，谢谢，我再等等看".to_string();
    let (mut intake, mut pair) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Warm both paths.
    for i in 0..(n + 20) {
        let conv = &opened[i % convs];
        let at = now + (i as i64 + 1) * 10;
        let event = local_event(
            POST,
            &[("conversation_id", conv)],
            BUYER,
            Some(&json!({"text": sample_text})),
        );
        let t = Instant::now();
        let (status, v) = invoke(store, Function::Intake, event, at).await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if status != 201 {
            return Err(format!("intake answered {status}: {v}").into());
        }
        let t = Instant::now();
        let got = client
            .get_item()
            .table_name(&table)
            .key(
                PK,
                AttributeValue::S(conversation_pk(
                    &assistant_domain::model::ids::ConversationId::parse(conv.clone())?,
                )),
            )
            .key(SK, AttributeValue::S(META.into()))
            .send()
            .await?;
        let mut item = got.item.unwrap_or_default();
        item.insert(
            SK.into(),
            AttributeValue::S(message_sk_at(at, &format!("pair{i}"))),
        );
        item.insert("text".into(), AttributeValue::S(sample_text.clone()));
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await?;
        let pair_ms = t.elapsed().as_secs_f64() * 1000.0;
        if i >= 20 {
            intake.push(ms);
            pair.push(pair_ms);
        }
    }
    intake.sort_by(f64::total_cmp);
    pair.sort_by(f64::total_cmp);
    Ok(Latency {
        n,
        intake_p50: pct(&intake, 0.5),
        intake_p99: pct(&intake, 0.99),
        pair_p50: pct(&pair, 0.5),
        pair_p99: pct(&pair, 0.99),
    })
}

/// Prints everything; returns whether every target was met.
pub async fn run(
    store: &DynamoStore,
    n: usize,
    due: usize,
    now: Millis,
) -> Result<bool, Box<dyn std::error::Error>> {
    seed::seed(store, now - 60 * MINUTE).await?;
    let figures = flow_figures(store, now).await;
    println!("DynamoDB requests and capacity units per step (ReturnConsumedCapacity=INDEXES):");
    println!(
        "{:<48} {:>6} {:>8} {:>8}",
        "step", "status", "requests", "units"
    );
    let (mut requests, mut units) = (0, 0.0);
    for s in &figures.flow {
        println!(
            "{:<48} {:>6} {:>8} {:>8.1}",
            s.what, s.status, s.requests, s.units
        );
        requests += s.requests;
        units += s.units;
    }
    println!(
        "{:<48} {:>6} {:>8} {:>8.1}",
        "whole flow (message, card, confirm, panel, send)", "", requests, units
    );
    let parts: Vec<String> = figures
        .flow_by_part
        .iter()
        .map(|(part, units)| format!("{part} {units:.1}"))
        .collect();
    println!("  of which, per table and index: {}", parts.join(", "));
    for s in figures.ordinary.iter().chain(&figures.others) {
        println!(
            "{:<48} {:>6} {:>8} {:>8.1}",
            s.what, s.status, s.requests, s.units
        );
    }
    let ordinary_max = figures
        .ordinary
        .iter()
        .map(|s| s.requests)
        .max()
        .unwrap_or(0);

    let lat = latency(store, n, now + 3_600_000).await?;
    let ratio = lat.intake_p99 / lat.pair_p99.max(1e-9);
    println!("\nlatency over {} ordinary buyer messages (ms): intake p50 {:.2} p99 {:.2} | bare GetItem+PutItem p50 {:.2} p99 {:.2} | p99 ratio {:.2}",
        lat.n, lat.intake_p50, lat.intake_p99, lat.pair_p50, lat.pair_p99, ratio);

    let sweep_store = DynamoStore::new(store.client().clone(), store.tables().clone());
    let f = crate::bench::sweep_figure(&sweep_store, due * 4, due, now).await?;
    println!(
        "sweep: {} due among {} orders paid in {:.2} s: {:.0} payouts/s",
        f.due,
        f.total_orders,
        f.sweep_secs,
        f.payouts_per_sec()
    );

    let met = [
        (
            ordinary_max <= 2,
            format!("≤ 2 requests per ordinary buyer message: {ordinary_max}"),
        ),
        (
            units <= 10.0,
            format!("≤ 10 capacity units for the whole flow: {units:.1}"),
        ),
        (
            ratio <= 1.5,
            format!("intake p99 ≤ 1.5 × bare pair p99: {ratio:.2}"),
        ),
    ];
    println!("\ntargets:");
    for (ok, what) in &met {
        println!("  [{}] {what}", if *ok { "met" } else { "MISSED" });
    }
    Ok(met.iter().all(|(ok, _)| *ok))
}
