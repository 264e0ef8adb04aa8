//! Scoring an intent engine (ours, or a peer's predictions) on a labelled file: per-intent
//! precision, recall and F1, the confusion matrix, macro-F1, accuracy, the urge_shipment figures
//! (as predicted, and as a payout trigger: confident predictions only), Traditional-line accuracy
//! and calibration. A message with extra acceptable labels counts as right when any is predicted.

use super::IntentId;
use std::fmt;

const K: usize = 10;

#[derive(Debug, Clone)]
pub struct Row {
    pub gold: IntentId,
    pub extras: Vec<IntentId>,
    pub predicted: IntentId,
    /// Whether the engine committed (for a peer without abstention: always true).
    pub confident: bool,
    pub confidence: f64,
    pub traditional: bool,
    /// The payout decision (`Classification::payout_trigger`; for a peer: it predicted
    /// urge_shipment).
    pub payout: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub rows: usize,
    pub per_intent: Vec<(IntentId, Metrics)>,
    /// confusion[gold][predicted], gold taken as the predicted label when that is acceptable.
    pub confusion: [[u64; K]; K],
    pub macro_f1: f64,
    pub accuracy: f64,
    pub urge: Metrics,
    /// The payout decision (`payout_trigger`) taken as a prediction of urge_shipment: what pays.
    pub urge_trigger: Metrics,
    /// Payout decisions on lines where urge_shipment is no acceptable label.
    pub wrongful_payouts: u64,
    pub traditional_rows: usize,
    pub traditional_accuracy: f64,
    pub abstained: usize,
    /// Expected calibration error over 10 confidence bins.
    pub ece: f64,
}

fn metrics(tp: u64, fp: u64, fn_: u64) -> Metrics {
    let p = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        0.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f1 = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    Metrics {
        precision: p,
        recall: r,
        f1,
        support: tp + fn_,
    }
}

fn effective_gold(r: &Row) -> IntentId {
    if r.predicted == r.gold || r.extras.contains(&r.predicted) {
        r.predicted
    } else {
        r.gold
    }
}

pub fn score(rows: &[Row]) -> Report {
    let mut confusion = [[0u64; K]; K];
    for r in rows {
        confusion[effective_gold(r) as usize][r.predicted as usize] += 1;
    }
    let per_intent: Vec<(IntentId, Metrics)> = IntentId::ALL
        .iter()
        .map(|&i| {
            let k = i as usize;
            let tp = confusion[k][k];
            let fp: u64 = (0..K).filter(|g| *g != k).map(|g| confusion[g][k]).sum();
            let fn_: u64 = (0..K).filter(|p| *p != k).map(|p| confusion[k][p]).sum();
            (i, metrics(tp, fp, fn_))
        })
        .collect();
    let present: Vec<&Metrics> = per_intent
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.support > 0)
        .collect();
    let macro_f1 = present.iter().map(|m| m.f1).sum::<f64>() / present.len().max(1) as f64;
    let correct = rows
        .iter()
        .filter(|r| effective_gold(r) == r.predicted)
        .count();
    let urge = per_intent[IntentId::UrgeShipment as usize].1.clone();
    let u = IntentId::UrgeShipment;
    let is_u = |r: &Row| r.gold == u || r.extras.contains(&u);
    let tp = rows.iter().filter(|r| r.payout && is_u(r)).count() as u64;
    let fp = rows.iter().filter(|r| r.payout && !is_u(r)).count() as u64;
    let fn_ = rows.iter().filter(|r| r.gold == u && !r.payout).count() as u64;
    let urge_trigger = metrics(tp, fp, fn_);
    let trad: Vec<&Row> = rows.iter().filter(|r| r.traditional).collect();
    let trad_ok = trad
        .iter()
        .filter(|r| effective_gold(r) == r.predicted)
        .count();
    let mut bins = [(0u64, 0.0f64, 0u64); 10];
    for r in rows {
        let b = ((r.confidence * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += r.confidence;
        bins[b].2 += (effective_gold(r) == r.predicted) as u64;
    }
    let ece = bins
        .iter()
        .filter(|b| b.0 > 0)
        .map(|b| {
            (b.0 as f64 / rows.len() as f64) * (b.2 as f64 / b.0 as f64 - b.1 / b.0 as f64).abs()
        })
        .sum();
    Report {
        rows: rows.len(),
        per_intent,
        confusion,
        macro_f1,
        accuracy: correct as f64 / rows.len().max(1) as f64,
        urge,
        urge_trigger,
        wrongful_payouts: fp,
        traditional_rows: trad.len(),
        traditional_accuracy: trad_ok as f64 / trad.len().max(1) as f64,
        abstained: rows.iter().filter(|r| !r.confident).count(),
        ece,
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<18} {:>9} {:>7} {:>7} {:>8}",
            "intent", "precision", "recall", "f1", "support"
        )?;
        for (i, m) in &self.per_intent {
            writeln!(
                f,
                "{:<18} {:>9.3} {:>7.3} {:>7.3} {:>8}",
                i.as_str(),
                m.precision,
                m.recall,
                m.f1,
                m.support
            )?;
        }
        writeln!(f, "\nconfusion (rows: gold, columns: predicted)")?;
        write!(f, "{:<18}", "")?;
        for i in IntentId::ALL {
            write!(f, " {:>5}", &i.as_str()[..5.min(i.as_str().len())])?;
        }
        writeln!(f)?;
        for g in IntentId::ALL {
            write!(f, "{:<18}", g.as_str())?;
            for p in IntentId::ALL {
                write!(f, " {:>5}", self.confusion[g as usize][p as usize])?;
            }
            writeln!(f)?;
        }
        writeln!(f, "\nrows                    {}", self.rows)?;
        writeln!(f, "accuracy                {:.4}", self.accuracy)?;
        writeln!(f, "macro_f1                {:.4}", self.macro_f1)?;
        writeln!(f, "urge_shipment precision {:.4}", self.urge.precision)?;
        writeln!(f, "urge_shipment recall    {:.4}", self.urge.recall)?;
        writeln!(
            f,
            "payout precision        {:.4}  (payout_trigger: what can pay a coupon)",
            self.urge_trigger.precision
        )?;
        writeln!(f, "payout recall           {:.4}", self.urge_trigger.recall)?;
        writeln!(f, "wrongful payouts        {}", self.wrongful_payouts)?;
        writeln!(
            f,
            "traditional accuracy    {:.4}  ({} rows)",
            self.traditional_accuracy, self.traditional_rows
        )?;
        writeln!(f, "abstained               {}", self.abstained)?;
        write!(f, "calibration error (ECE) {:.4}", self.ece)
    }
}

impl Report {
    /// The confusion pairs (gold, predicted) that cost most, most first: a wrong payout
    /// decision weighs most, then every other mistake once.
    pub fn costly_pairs(&self, rows: &[Row], n: usize) -> Vec<(IntentId, IntentId, u64)> {
        let mut cost = [[0u64; K]; K];
        for r in rows {
            let g = effective_gold(r);
            if g != r.predicted {
                let u = IntentId::UrgeShipment;
                let money = r.payout && !(r.gold == u || r.extras.contains(&u));
                cost[g as usize][r.predicted as usize] += if money { 5 } else { 1 };
            }
        }
        let mut pairs: Vec<(IntentId, IntentId, u64)> = IntentId::ALL
            .iter()
            .flat_map(|&g| IntentId::ALL.iter().map(move |&p| (g, p)))
            .map(|(g, p)| (g, p, cost[g as usize][p as usize]))
            .filter(|x| x.2 > 0)
            .collect();
        pairs.sort_by_key(|p| std::cmp::Reverse(p.2));
        pairs.truncate(n);
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntentId::*;

    fn row(gold: IntentId, extras: &[IntentId], predicted: IntentId, confident: bool) -> Row {
        Row {
            gold,
            extras: extras.to_vec(),
            predicted,
            confident,
            confidence: 0.9,
            traditional: false,
            payout: confident && predicted == UrgeShipment,
        }
    }

    #[test]
    fn metrics_are_exact_on_a_small_case() {
        let rows = vec![
            row(UrgeShipment, &[], UrgeShipment, true),
            row(UrgeShipment, &[], Logistics, true),
            row(Logistics, &[], UrgeShipment, true),
            row(Logistics, &[], Logistics, true),
            // an acceptable extra label counts as right
            row(RefundReturn, &[UrgeShipment], UrgeShipment, true),
            // an unsure urge prediction is no trigger
            row(UrgeShipment, &[], UrgeShipment, false),
        ];
        let r = score(&rows);
        assert_eq!(r.urge.support, 4);
        assert!((r.urge.precision - 3.0 / 4.0).abs() < 1e-9);
        assert!((r.urge.recall - 3.0 / 4.0).abs() < 1e-9);
        assert!((r.urge_trigger.precision - 2.0 / 3.0).abs() < 1e-9);
        // tp: rows 1 and 5; missed: row 2 (another intent) and row 6 (unsure)
        assert!((r.urge_trigger.recall - 2.0 / 4.0).abs() < 1e-9);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-9);
        assert_eq!(r.confusion[UrgeShipment as usize][Logistics as usize], 1);
        assert_eq!(r.abstained, 1);
        assert_eq!(r.wrongful_payouts, 1);
        // A wrong payout weighs most.
        let pairs = r.costly_pairs(&rows, 3);
        assert_eq!(pairs[0], (Logistics, UrgeShipment, 5));
        assert_eq!(pairs[1], (UrgeShipment, Logistics, 1));
    }
}
