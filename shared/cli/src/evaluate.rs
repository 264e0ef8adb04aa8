//! `assistant eval`, `assistant eval-turns` and `assistant bench intent`: the intent engine scored on a labelled file, side
//! by side with peers' predictions for the same file, and the CI gate on the payout decision.

use assistant_domain::intent::{
    classify, classify_in_conversation, classify_light, classify_light_with, eval, learn, prime,
    IntentId,
};
use std::time::Instant;

pub const EVAL_USAGE: &str = "usage: assistant eval FILE.tsv [--predictions LABELS.txt] \
[--peer NAME=LABELS.txt]... [--gate-payout-precision 0.95] [--show-errors N] [--train TRAIN.tsv] \
[--payout-errors]";

/// A labelled file: `text<TAB>intent[<TAB>also_ok[<TAB>note]]`; a header line (`text<TAB>intent…`)
/// is skipped. Notes and extra columns are ignored.
pub fn read_labelled(file: &str) -> Result<Vec<(String, usize, Vec<usize>)>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let body: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| !(*i == 0 && l.starts_with("text\t")))
        .map(|(_, l)| {
            let cols: Vec<&str> = l.split('\t').take(3).collect();
            cols.join("\t") + "\n"
        })
        .collect();
    learn::parse_tsv(&body).map_err(|e| format!("{file}: {e}"))
}

/// One label a line (fastText's `__label__` prefix accepted), as many as labelled lines.
fn read_predictions(path: &str, expected: usize) -> Result<Vec<IntentId>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let labels: Vec<IntentId> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let label = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_start_matches("__label__");
            IntentId::parse(label)
                .ok_or_else(|| format!("{path} line {}: unknown intent {label:?}", i + 1))
        })
        .collect::<Result<_, _>>()?;
    if labels.len() != expected {
        return Err(format!(
            "{path}: {} predictions for {expected} labelled lines",
            labels.len()
        ));
    }
    Ok(labels)
}

fn rows_for_peer(labelled: &[(String, usize, Vec<usize>)], preds: &[IntentId]) -> Vec<eval::Row> {
    labelled
        .iter()
        .zip(preds)
        .map(|((t, gold, extras), &p)| eval::Row {
            gold: IntentId::ALL[*gold],
            extras: extras.iter().map(|x| IntentId::ALL[*x]).collect(),
            predicted: p,
            confident: true,
            confidence: 1.0,
            traditional: learn::is_traditional(t),
            // A peer has no payout rule of its own: its urge_shipment is its decision.
            payout: p == IntentId::UrgeShipment,
        })
        .collect()
}

/// Our engine's rows: as it decides (an abstention is `other`), and its top guesses. With
/// `model`, the engine's rules over that model (one trained at run time) instead of the shipped one.
pub fn rows_for_engine(
    labelled: &[(String, usize, Vec<usize>)],
    model: Option<&learn::Packed>,
) -> (Vec<eval::Row>, Vec<eval::Row>) {
    let mut decided = Vec::with_capacity(labelled.len());
    let mut guesses = Vec::with_capacity(labelled.len());
    for (t, gold, extras) in labelled {
        let c = match model {
            Some(m) => classify_light_with(m, t),
            None => classify_light(t),
        };
        let row = eval::Row {
            gold: IntentId::ALL[*gold],
            extras: extras.iter().map(|x| IntentId::ALL[*x]).collect(),
            predicted: c.intent,
            confident: c.confident,
            confidence: c.confidence,
            traditional: learn::is_traditional(t),
            payout: c.pays(),
        };
        decided.push(eval::Row {
            predicted: if c.confident {
                c.intent
            } else {
                IntentId::Other
            },
            ..row.clone()
        });
        guesses.push(row);
    }
    (decided, guesses)
}

fn flag_values<'a>(args: &'a [String], name: &str) -> Vec<&'a str> {
    args.windows(2)
        .filter(|w| w[0] == name)
        .map(|w| w[1].as_str())
        .collect()
}

fn summary_line(name: &str, r: &eval::Report) -> String {
    format!(
        "{:<22} {:>8.4} {:>8.4} {:>9.4} {:>9.4} {:>9}",
        name,
        r.accuracy,
        r.macro_f1,
        r.urge_trigger.precision,
        r.urge_trigger.recall,
        r.wrongful_payouts
    )
}

/// Runs `assistant eval`; Ok(false) when the gate is set and fails.
pub fn run_eval(args: &[String]) -> Result<bool, Box<dyn std::error::Error>> {
    let file = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .ok_or(EVAL_USAGE)?;
    let labelled = read_labelled(file)?;
    if labelled.is_empty() {
        return Err(format!("{file}: no labelled lines").into());
    }
    let value = |name: &str| flag_values(args, name).last().map(|v| v.to_string());
    if let Some(p) = value("--predictions") {
        // One peer's predictions on their own (the form scripts/peer.sh used first).
        let rows = rows_for_peer(&labelled, &read_predictions(&p, labelled.len())?);
        let report = eval::score(&rows);
        println!("{report}");
        print_costly(&report, &rows, &labelled, 0);
        return Ok(true);
    }
    let show: usize = value("--show-errors")
        .map(|v| v.parse())
        .transpose()
        .map_err(|_| "--show-errors takes a number")?
        .unwrap_or(0);
    // `--train FILE`: the same engine over a model trained here from another corpus, to measure a
    // corpus change without rebuilding (the shipped model is trained by the build script).
    let trained = value("--train")
        .map(|path| -> Result<Vec<u8>, String> {
            let corpus = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let model = learn::train_from_tsv(&corpus).map_err(|e| format!("{path}: {e}"))?;
            println!("(model trained from {path})");
            Ok(model.to_bytes())
        })
        .transpose()?;
    let packed = trained
        .as_deref()
        .map(|b| learn::Packed::parse(b).ok_or("the trained model does not pack"))
        .transpose()?;
    let started = std::time::Instant::now();
    let (decided, guesses) = rows_for_engine(&labelled, packed.as_ref());
    let elapsed = started.elapsed();
    let ours = eval::score(&decided);
    println!("=== ours: {file} ===");
    println!("{ours}");
    let g = eval::score(&guesses);
    println!(
        "top guess, abstentions included: accuracy {:.4}, macro_f1 {:.4}, urge_shipment precision {:.4}, recall {:.4}",
        g.accuracy, g.macro_f1, g.urge.precision, g.urge.recall
    );
    println!(
        "classified {} lines in {:.1} ms",
        decided.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    print_costly(&ours, &decided, &labelled, show);
    if args.iter().any(|a| a == "--payout-errors") {
        print_payout_errors(&guesses, &labelled);
    }

    let mut table = vec![summary_line("ours", &ours)];
    for spec in flag_values(args, "--peer") {
        let (name, path) = spec
            .split_once('=')
            .ok_or("--peer takes NAME=PREDICTIONS.txt")?;
        let rows = rows_for_peer(&labelled, &read_predictions(path, labelled.len())?);
        let report = eval::score(&rows);
        println!("\n=== peer {name}: {file} ===");
        println!("{report}");
        print_costly(&report, &rows, &labelled, 0);
        table.push(summary_line(name, &report));
    }
    println!("\n=== side by side: {file} ({} lines) ===", labelled.len());
    println!(
        "{:<22} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "engine", "accuracy", "macro_f1", "payout_p", "payout_r", "wrongful"
    );
    for line in table {
        println!("{line}");
    }
    if let Some(min) = value("--gate-payout-precision") {
        let min: f64 = min
            .parse()
            .map_err(|_| "--gate-payout-precision takes a number")?;
        let p = ours.urge_trigger.precision;
        let pass = p >= min;
        println!(
            "\nGATE payout precision {p:.4} {} {min:.2} on {file}: {}",
            if pass { ">=" } else { "<" },
            if pass { "PASS" } else { "FAIL" }
        );
        return Ok(pass);
    }
    Ok(true)
}

/// `--payout-errors`: every 催发货 line the payout decision missed, with what the engine made of it
/// (its top guess, and `unsure` when it abstained), and every wrongful payout: where recall and
/// precision go, line by line.
fn print_payout_errors(rows: &[eval::Row], labelled: &[(String, usize, Vec<usize>)]) {
    let u = IntentId::UrgeShipment;
    println!("\npayout decisions missed (gold urge_shipment, not paid: the engine's top guess)");
    for (r, (t, _, _)) in rows.iter().zip(labelled) {
        if r.gold == u && !r.payout {
            let sure = if r.confident { "" } else { " unsure" };
            let (p, c) = (r.predicted.as_str(), r.confidence);
            println!("  {p:<18} {c:.3}{sure:<7} {t}");
        }
    }
    println!("wrongful payouts (paid, urge_shipment neither the label nor also_ok)");
    for (r, (t, _, _)) in rows.iter().zip(labelled) {
        if r.payout && r.gold != u && !r.extras.contains(&u) {
            println!("  {:<18} {t}", r.gold.as_str());
        }
    }
}

fn print_costly(
    report: &eval::Report,
    rows: &[eval::Row],
    labelled: &[(String, usize, Vec<usize>)],
    examples: usize,
) {
    println!("\nconfusions that cost most (gold -> predicted: cost; a wrongful payout counts 5)");
    for (g, p, cost) in report.costly_pairs(rows, 8) {
        println!("  {:<18} -> {:<18} {cost}", g.as_str(), p.as_str());
        if examples == 0 {
            continue;
        }
        let mut shown = 0;
        for (r, (t, _, _)) in rows.iter().zip(labelled) {
            let right = r.predicted == r.gold || r.extras.contains(&r.predicted);
            if !right && r.gold == g && r.predicted == p && shown < examples {
                println!("      {}{t}", if r.payout { "[payout] " } else { "" });
                shown += 1;
            }
        }
    }
}

/// `assistant eval-turns FILE`: a multi-turn set (`context<TAB>text<TAB>intent`, the context the
/// buyer's earlier lines joined by " / "), scored with the conversation and with the message
/// alone.
pub fn run_eval_turns(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let file = args.get(1).ok_or("usage: assistant eval-turns FILE.tsv")?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let (mut with, mut alone, mut n) = (Vec::new(), Vec::new(), 0usize);
    let mut misses = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [context, message, gold] = cols[..] else {
            return Err(format!("{file} line {}: want context<TAB>text<TAB>intent", i + 1).into());
        };
        let gold = IntentId::parse(gold.trim())
            .ok_or_else(|| format!("{file} line {}: unknown intent {gold:?}", i + 1))?;
        let recent: Vec<&str> = context
            .split(" / ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let row = |c: assistant_domain::intent::Classification| eval::Row {
            gold,
            extras: Vec::new(),
            predicted: if c.confident {
                c.intent
            } else {
                IntentId::Other
            },
            confident: c.confident,
            confidence: c.confidence,
            traditional: false,
            payout: c.pays(),
        };
        // The buyer's last confident intent before this message, as intake keeps it.
        let mut previous = None;
        for (k, line) in recent.iter().enumerate() {
            let c = classify_in_conversation(line, previous, &recent[..k]);
            if c.confident && c.intent != IntentId::Other {
                previous = Some(c.intent);
            }
        }
        let in_conversation = classify_in_conversation(message, previous, &recent);
        if in_conversation.intent != gold || !in_conversation.confident {
            misses.push(format!(
                "  {context} / {message}: {} (gold {})",
                if in_conversation.confident {
                    in_conversation.intent.as_str()
                } else {
                    "unsure"
                },
                gold.as_str()
            ));
        }
        with.push(row(in_conversation));
        alone.push(row(classify_light(message)));
        n += 1;
    }
    let (w, a) = (eval::score(&with), eval::score(&alone));
    println!("multi-turn set {file}: {n} conversations");
    println!(
        "{:<28} {:>8} {:>8} {:>9} {:>9}",
        "reading", "accuracy", "macro_f1", "payout_p", "payout_r"
    );
    for (name, r) in [
        ("the message alone", &a),
        ("with the buyer's last lines", &w),
    ] {
        println!(
            "{:<28} {:>8.4} {:>8.4} {:>9.4} {:>9.4}",
            name, r.accuracy, r.macro_f1, r.urge_trigger.precision, r.urge_trigger.recall
        );
    }
    println!("wrong with the conversation ({}):", misses.len());
    for m in misses {
        println!("{m}");
    }
    Ok(())
}

/// `assistant bench intent [FILE.tsv] [--rounds N]`: run in a fresh process, so the first figure
/// is the cold start: the time until the engine is ready (`prime`: the model's layout checked, its
/// pages read, the cue automata built, two messages classified). Then every line of the file
/// (default dev.tsv), N rounds, each message timed on its own as intake classifies it (with
/// evidence), single thread: p50, p99 and max.
pub fn run_speed(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    prime();
    let ready = started.elapsed();
    let file = args
        .get(2)
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "shared/data/intents/dev.tsv".into());
    let rounds: usize = flag_values(args, "--rounds")
        .last()
        .map(|v| v.parse())
        .transpose()
        .map_err(|_| "--rounds takes a whole number")?
        .unwrap_or(20);
    let texts: Vec<String> = read_labelled(&file)?.into_iter().map(|r| r.0).collect();
    let mut ns: Vec<u128> = Vec::with_capacity(texts.len() * rounds);
    for _ in 0..rounds {
        for t in &texts {
            let s = Instant::now();
            std::hint::black_box(classify(std::hint::black_box(t)));
            ns.push(s.elapsed().as_nanos());
        }
    }
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    println!(
        "ready (cold, prime)  {:.3} ms",
        ready.as_secs_f64() * 1000.0
    );
    println!(
        "per message ({} timings, {file} x {rounds}): p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        ns.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
