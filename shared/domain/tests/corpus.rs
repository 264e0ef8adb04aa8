//! The intent corpus: sizes, labels, Traditional share, and dev kept apart from train.

use assistant_domain::intent::learn;
use std::collections::HashSet;

fn load(name: &str) -> (String, Vec<(String, usize, Vec<usize>)>) {
    let path = format!("{}/../data/intents/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows = learn::parse_tsv(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    (text, rows)
}

#[test]
fn train_and_dev_are_big_enough_and_every_intent_is_there() {
    let (_, train) = load("train.tsv");
    let (_, dev) = load("dev.tsv");
    assert!(train.len() >= 3000, "train has {}", train.len());
    assert!(dev.len() >= 600, "dev has {}", dev.len());
    for k in 0..learn::K {
        assert!(
            train.iter().filter(|r| r.1 == k).count() >= 100,
            "{} in train",
            learn::LABELS[k]
        );
        assert!(
            dev.iter().filter(|r| r.1 == k).count() >= 20,
            "{} in dev",
            learn::LABELS[k]
        );
    }
    assert!(
        dev.iter().filter(|r| !r.2.is_empty()).count() >= 20,
        "two-intent lines in dev"
    );
}

#[test]
fn dev_is_unseen_text() {
    let (_, train) = load("train.tsv");
    let (_, dev) = load("dev.tsv");
    let seen: HashSet<&str> = train.iter().map(|r| r.0.as_str()).collect();
    let overlap: Vec<&str> = dev
        .iter()
        .map(|r| r.0.as_str())
        .filter(|t| seen.contains(t))
        .collect();
    assert!(overlap.is_empty(), "dev lines also in train: {overlap:?}");
    let dev_texts: HashSet<&str> = dev.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(dev_texts.len(), dev.len(), "no duplicate dev lines");
}

#[test]
fn about_a_tenth_is_traditional() {
    for name in ["train.tsv", "dev.tsv"] {
        let (_, rows) = load(name);
        let share =
            rows.iter().filter(|r| learn::is_traditional(&r.0)).count() as f64 / rows.len() as f64;
        assert!(
            (0.06..=0.2).contains(&share),
            "{name}: {share:.3} Traditional"
        );
    }
}

/// The targets on dev, as the engine decides (an abstention counts as `other`).
#[test]
fn dev_figures_meet_the_targets() {
    use assistant_domain::intent::{classify_light, eval, IntentId};
    let (_, dev) = load("dev.tsv");
    let rows: Vec<eval::Row> = dev
        .iter()
        .map(|(t, gold, extras)| {
            let c = classify_light(t);
            eval::Row {
                gold: IntentId::ALL[*gold],
                extras: extras.iter().map(|x| IntentId::ALL[*x]).collect(),
                predicted: if c.confident {
                    c.intent
                } else {
                    IntentId::Other
                },
                confident: c.confident,
                confidence: c.confidence,
                traditional: learn::is_traditional(t),
            }
        })
        .collect();
    let r = eval::score(&rows);
    assert!(
        r.urge.precision >= 0.99,
        "urge_shipment precision {:.4}",
        r.urge.precision
    );
    assert!(
        r.urge.recall >= 0.95,
        "urge_shipment recall {:.4}",
        r.urge.recall
    );
    assert!(r.macro_f1 >= 0.92, "macro-F1 {:.4}", r.macro_f1);
    assert!(
        r.traditional_accuracy >= r.accuracy - 0.02,
        "Traditional {:.4} vs overall {:.4}",
        r.traditional_accuracy,
        r.accuracy
    );
}
