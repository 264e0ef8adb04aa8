//! The intent engine's speed: one message of each kind, and the whole dev set.
//! `cargo bench -p assistant-domain --bench intent`

use assistant_domain::intent::{classify, classify_light, learn, model};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn dev_texts() -> Vec<String> {
    let text = include_str!("../../data/intents/dev.tsv");
    learn::parse_tsv(text)
        .expect("dev.tsv parses")
        .into_iter()
        .map(|(t, _, _)| t)
        .collect()
}

fn bench(c: &mut Criterion) {
    // Cold start: the model is loaded on first use.
    let started = std::time::Instant::now();
    let m = model();
    println!("model load: {:?} ({} features)", started.elapsed(), m.len());

    let mut g = c.benchmark_group("classify");
    for (name, text) in [
        ("short", "发货了吗？"),
        ("typical", "亲，我买的四件套怎么还没发货啊，都三天了"),
        ("traditional", "請問我的訂單甚麼時候出貨？"),
        ("long", "你好，我上周五在直播间拍的那件羊毛大衣，订单号6931234567890123456，当时说48小时内发货，现在都快一周了物流还没有信息，我周末要出差想穿着去，到底什么时候能发出来？"),
    ] {
        g.bench_function(format!("{name}/with_evidence"), |b| b.iter(|| classify(black_box(text))));
        g.bench_function(format!("{name}/light"), |b| b.iter(|| classify_light(black_box(text))));
    }
    g.finish();

    let texts = dev_texts();
    let mut g = c.benchmark_group("dev_set");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("classify_light", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(classify_light(t));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
