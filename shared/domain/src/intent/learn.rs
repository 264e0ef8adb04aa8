//! The learned part of the intent engine: text normalisation, features and a multinomial
//! logistic-regression model. Self-contained (no `crate::` paths) because the build script compiles
//! this same file to train the model from `shared/data/intents/train.tsv` at build time.

use std::collections::HashMap;

/// The labels, in the order of `IntentId::ALL`.
pub const LABELS: [&str; 10] = [
    "urge_shipment",
    "logistics",
    "change_address",
    "cancel_order",
    "refund_return",
    "invoice",
    "product_question",
    "price_promotion",
    "complaint_quality",
    "other",
];
pub const K: usize = LABELS.len();

/// Stands for any emoji or pictograph.
pub const EMOJI: char = '☺';
/// Stands for a long digit run (an order or tracking number).
pub const NUMBER: char = '#';

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F | 0x200D)
}

/// Full width to half width, lower case, Traditional to Simplified, white space dropped.
/// Digits are kept: order numbers are read from this form.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .chars()
        .filter_map(|c| {
            let c = match c {
                '\u{3000}' => ' ',
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '。' => '.',
                '、' => ',',
                _ => c,
            };
            (!c.is_whitespace()).then(|| c.to_ascii_lowercase())
        })
        .collect();
    let mut simplified = if folded.chars().any(super::maybe_traditional) {
        fast2s::convert(&folded)
    } else {
        folded
    };
    // Variants the converter leaves alone but buyers use for the same word.
    for (from, to) in [("甚么", "什么"), ("出货", "发货"), ("寄出", "发出")] {
        if simplified.contains(from) {
            simplified = simplified.replace(from, to);
        }
    }
    simplified
}

/// Whether a text carries Traditional characters (the converter changes it).
pub fn is_traditional(text: &str) -> bool {
    fast2s::convert(text) != text
}

/// The model's view of a text: normalised, emoji as one symbol, long digit runs as one symbol,
/// other digits as 0, repeated punctuation folded.
pub fn model_text(text: &str) -> String {
    let norm = normalize(text);
    let mut out = String::with_capacity(norm.len());
    let mut digits = 0usize;
    let mut run = String::new();
    let flush = |out: &mut String, run: &mut String, digits: &mut usize| {
        if *digits >= 6 {
            out.push(NUMBER);
        } else {
            for _ in 0..*digits {
                out.push('0');
            }
        }
        run.clear();
        *digits = 0;
    };
    let mut last: Option<char> = None;
    for c in norm.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            run.push(c);
            continue;
        }
        flush(&mut out, &mut run, &mut digits);
        let c = if is_emoji(c) { EMOJI } else { c };
        if c == '\u{FE0F}' || c == '\u{200D}' {
            continue;
        }
        // "???" and "？？？！！" say the same as "?!".
        if c.is_ascii_punctuation() && last == Some(c) {
            continue;
        }
        if c == EMOJI && last == Some(EMOJI) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    flush(&mut out, &mut run, &mut digits);
    out
}

fn fnv(kind: u8, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ kind as u64;
    h = h.wrapping_mul(0x0100_0000_01b3);
    for b in s.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hand-written cues that a few characters of n-grams cannot see well: they become features like
/// any other, and the model learns how much each one weighs.
pub const CUES: &[(&str, &[&str])] = &[
    // About another shop or platform, not this one.
    (
        "他店",
        &[
            "别家",
            "别的店",
            "另一家",
            "另外一家",
            "隔壁",
            "拼多多",
            "淘宝",
            "京东上",
            "其他店",
            "别人家",
            "别的商家",
        ],
    ),
    // Not bought yet: a pre-sale question.
    (
        "未购",
        &[
            "还没买",
            "还没下单",
            "没下单",
            "现在拍",
            "现在买",
            "现在下单",
            "如果",
            "想买",
            "打算买",
            "下单的话",
            "拍下后",
            "下单后",
            "买的话",
            "准备买",
        ],
    ),
    // About arrival: the parcel is on its way.
    (
        "到货",
        &[
            "到哪",
            "还没到",
            "能到",
            "会到",
            "号到",
            "多久到",
            "什么时候到",
            "到了吗",
            "派送",
            "物流",
            "快递员",
            "驿站",
        ],
    ),
    // Acknowledging, not asking.
    (
        "知悉",
        &[
            "就行",
            "就好",
            "谢谢",
            "好的",
            "辛苦",
            "不急",
            "慢慢",
            "不着急",
            "不用催",
            "收到了",
        ],
    ),
    // Already shipped.
    (
        "已发",
        &[
            "已发货",
            "已经发",
            "寄出",
            "发出了",
            "显示发货",
            "发货了就",
            "看到发货",
        ],
    ),
    // 发 in the sense of going bad.
    ("变质", &["发霉", "发黄", "发黑", "发臭", "发硬", "假货"]),
];

/// All cue words in one automaton: one pass over the text finds every cue.
fn cue_matcher() -> &'static (aho_corasick::AhoCorasick, Vec<usize>) {
    static MATCHER: std::sync::OnceLock<(aho_corasick::AhoCorasick, Vec<usize>)> =
        std::sync::OnceLock::new();
    MATCHER.get_or_init(|| {
        let mut words = Vec::new();
        let mut group = Vec::new();
        for (g, (_, ws)) in CUES.iter().enumerate() {
            for w in *ws {
                words.push(*w);
                group.push(g);
            }
        }
        let ac = aho_corasick::AhoCorasick::new(words).expect("cue words build an automaton");
        (ac, group)
    })
}

/// The cues a text shows, in `CUES` order.
pub fn cues(model_text: &str) -> impl Iterator<Item = &'static str> {
    let (ac, group) = cue_matcher();
    let mut seen = [false; 8];
    for m in ac.find_overlapping_iter(model_text) {
        seen[group[m.pattern().as_usize()]] = true;
    }
    CUES.iter()
        .enumerate()
        .filter(move |(i, _)| seen[*i])
        .map(|(_, (name, _))| *name)
}

/// The hash of a character n-gram: FNV-1a over the code points, seeded by n.
fn gram_hash(chars: &[char]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ chars.len() as u64;
    h = h.wrapping_mul(0x0100_0000_01b3);
    for c in chars {
        h = (h ^ *c as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The model text as characters between boundary marks.
fn bounded(model_text: &str, chars: &mut Vec<char>) {
    chars.clear();
    chars.push('^');
    chars.extend(model_text.chars());
    chars.push('$');
}

/// The hashed features of a text; a repeated n-gram counts each time it occurs.
pub fn features(model_text: &str, out: &mut Vec<u64>) {
    thread_local! {
        static CHARS: std::cell::RefCell<Vec<char>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    out.clear();
    for cue in cues(model_text) {
        out.push(fnv(20, cue));
    }
    CHARS.with(|cell| {
        let chars = &mut *cell.borrow_mut();
        bounded(model_text, chars);
        for n in 1..=3usize {
            if chars.len() < n {
                break;
            }
            for w in chars.windows(n) {
                if n == 1 && (w[0] == '^' || w[0] == '$') {
                    continue;
                }
                out.push(gram_hash(w));
            }
        }
    });
    // Latin words (English, pinyin) and their pairs: "fa huo", "when ship".
    if model_text.bytes().any(|b| b.is_ascii_alphabetic()) {
        let words: Vec<&str> = model_text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .collect();
        let mut buf = String::new();
        for w in &words {
            out.push(fnv(10, w));
        }
        for pair in words.windows(2) {
            buf.clear();
            buf.push_str(pair[0]);
            buf.push(' ');
            buf.push_str(pair[1]);
            out.push(fnv(11, &buf));
        }
    }
    let len = model_text.chars().count();
    let bucket = match len {
        0..=2 => "tiny",
        3..=6 => "short",
        7..=20 => "medium",
        _ => "long",
    };
    out.push(fnv(12, bucket));
}

/// The text of every n-gram feature of a text, for evidence: hash -> text.
pub fn feature_texts(model_text: &str) -> Vec<(u64, String)> {
    let mut chars = Vec::new();
    bounded(model_text, &mut chars);
    let mut out = Vec::new();
    for n in 1..=3usize {
        if chars.len() < n {
            break;
        }
        for w in chars.windows(n) {
            if n == 1 && (w[0] == '^' || w[0] == '$') {
                continue;
            }
            let s: String = w.iter().filter(|c| **c != '^' && **c != '$').collect();
            out.push((gram_hash(w), s));
        }
    }
    for w in model_text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        out.push((fnv(10, w), w.to_string()));
    }
    for cue in cues(model_text) {
        out.push((fnv(20, cue), format!("规则:{cue}")));
    }
    out
}

/// A trained model: per feature, one weight per label; per label, a bias; and the softmax
/// temperature fitted on held-out data so that probabilities are calibrated.
#[derive(Debug, Clone)]
pub struct Model {
    pub index: HashMap<u64, u32, BuildIdentity>,
    pub weights: Vec<[f32; K]>,
    pub bias: [f32; K],
    pub temperature: f32,
}

/// Feature keys are already hashes: use them as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildIdentity;
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity(u64);
impl std::hash::Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
impl std::hash::BuildHasher for BuildIdentity {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

/// One training example: features, primary label, extra acceptable labels.
pub struct Example {
    pub features: Vec<u64>,
    pub label: usize,
    pub extras: Vec<usize>,
}

pub fn label_index(name: &str) -> Option<usize> {
    LABELS.iter().position(|l| *l == name)
}

/// Reads `text<TAB>intent[<TAB>extra,extra]` lines; bad lines are reported, not skipped silently.
pub fn parse_tsv(text: &str) -> Result<Vec<(String, usize, Vec<usize>)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let t = cols.next().unwrap_or_default().trim().to_string();
        let label = cols.next().unwrap_or_default().trim();
        let label = label_index(label)
            .ok_or_else(|| format!("line {}: unknown intent {label:?}", n + 1))?;
        let extras = cols
            .next()
            .map(|e| {
                e.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        label_index(x)
                            .ok_or_else(|| format!("line {}: unknown extra intent {x:?}", n + 1))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        if t.is_empty() {
            return Err(format!("line {}: empty text", n + 1));
        }
        out.push((t, label, extras));
    }
    Ok(out)
}

fn softmax(scores: &mut [f32; K], temperature: f32) {
    let max = scores.iter().cloned().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = ((*s - max) / temperature).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

impl Model {
    /// Raw scores (logits) for a feature set.
    pub fn logits(&self, features: &[u64]) -> [f32; K] {
        let mut sum = [0.0f32; K];
        for f in features {
            if let Some(&i) = self.index.get(f) {
                let w = &self.weights[i as usize];
                for k in 0..K {
                    sum[k] += w[k];
                }
            }
        }
        let scale = 1.0 / (features.len().max(1) as f32).sqrt();
        let mut scores = self.bias;
        for k in 0..K {
            scores[k] += sum[k] * scale;
        }
        scores
    }

    /// Calibrated probabilities.
    pub fn probabilities(&self, features: &[u64]) -> [f32; K] {
        let mut p = self.logits(features);
        softmax(&mut p, self.temperature);
        p
    }

    /// A feature's weight for a label (0 when unknown).
    pub fn weight(&self, feature: u64, label: usize) -> f32 {
        self.index
            .get(&feature)
            .map(|&i| self.weights[i as usize][label])
            .unwrap_or(0.0)
    }

    /// Trains by SGD on the softmax loss with L2 decay; deterministic for the same examples.
    pub fn train(examples: &[Example], epochs: usize) -> Model {
        let mut index: HashMap<u64, u32, BuildIdentity> = HashMap::with_hasher(BuildIdentity);
        for e in examples {
            for f in &e.features {
                let next = index.len() as u32;
                index.entry(*f).or_insert(next);
            }
        }
        let mut model = Model {
            weights: vec![[0.0; K]; index.len()],
            index,
            bias: [0.0; K],
            temperature: 1.0,
        };
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let l2 = 1e-5f32;
        for epoch in 0..epochs {
            // Fisher-Yates with a fixed xorshift: the same model from the same corpus, always.
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                order.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let lr = 0.5 / (1.0 + epoch as f32 * 0.3);
            for &i in &order {
                let e = &examples[i];
                let mut p = model.logits(&e.features);
                softmax(&mut p, 1.0);
                let mut target = [0.0f32; K];
                if e.extras.is_empty() {
                    target[e.label] = 1.0;
                } else {
                    target[e.label] = 0.75;
                    for x in &e.extras {
                        target[*x] += 0.25 / e.extras.len() as f32;
                    }
                }
                let scale = 1.0 / (e.features.len().max(1) as f32).sqrt();
                for k in 0..K {
                    let g = p[k] - target[k];
                    model.bias[k] -= lr * g * 0.1;
                    for f in &e.features {
                        let idx = model.index[f] as usize;
                        let w = &mut model.weights[idx][k];
                        *w -= lr * (g * scale + l2 * *w);
                    }
                }
            }
        }
        model
    }

    /// The temperature that minimises the negative log-likelihood of `held_out`.
    pub fn fit_temperature(&mut self, held_out: &[Example]) {
        let nll = |t: f32| -> f32 {
            held_out
                .iter()
                .map(|e| {
                    let mut p = self.logits(&e.features);
                    softmax(&mut p, t);
                    -(p[e.label].max(1e-9)).ln()
                })
                .sum()
        };
        let mut best = (1.0f32, f32::MAX);
        let mut t = 0.3f32;
        while t <= 4.0 {
            let v = nll(t);
            if v < best.1 {
                best = (t, v);
            }
            t += 0.05;
        }
        self.temperature = best.0;
    }

    /// A compact little-endian form: temperature, bias, n, then n × (key, K weights).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries: Vec<(u64, u32)> = self.index.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_unstable();
        let mut out = Vec::with_capacity(8 + 4 * K + entries.len() * (8 + 4 * K));
        out.extend_from_slice(&self.temperature.to_le_bytes());
        for b in self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (key, i) in entries {
            out.extend_from_slice(&key.to_le_bytes());
            for w in self.weights[i as usize] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Model> {
        let f32_at = |at: usize| -> Option<f32> {
            Some(f32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
        };
        let temperature = f32_at(0)?;
        let mut bias = [0.0; K];
        for (k, b) in bias.iter_mut().enumerate() {
            *b = f32_at(4 + 4 * k)?;
        }
        let mut at = 4 + 4 * K;
        let n = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        let mut index = HashMap::with_capacity_and_hasher(n, BuildIdentity);
        let mut weights = Vec::with_capacity(n);
        for i in 0..n {
            let key = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
            at += 8;
            let mut w = [0.0f32; K];
            for x in w.iter_mut() {
                *x = f32_at(at)?;
                at += 4;
            }
            weights.push(w);
            index.insert(key, i as u32);
        }
        Some(Model {
            index,
            weights,
            bias,
            temperature,
        })
    }
}

/// Trains the shipped model from the corpus text: temperature fitted on every tenth example
/// held out, then the weights trained on everything.
pub fn train_from_tsv(corpus: &str) -> Result<Model, String> {
    let rows = parse_tsv(corpus)?;
    let mut feats = Vec::new();
    let examples: Vec<Example> = rows
        .iter()
        .map(|(t, label, extras)| {
            features(&model_text(t), &mut feats);
            Example {
                features: feats.clone(),
                label: *label,
                extras: extras.clone(),
            }
        })
        .collect();
    let (fit, held): (Vec<usize>, Vec<usize>) = (0..examples.len()).partition(|i| i % 10 != 0);
    let pick = |ids: &[usize]| -> Vec<Example> {
        ids.iter()
            .map(|&i| Example {
                features: examples[i].features.clone(),
                label: examples[i].label,
                extras: examples[i].extras.clone(),
            })
            .collect()
    };
    let mut probe = Model::train(&pick(&fit), EPOCHS);
    probe.fit_temperature(&pick(&held));
    let mut model = Model::train(&examples, EPOCHS);
    model.temperature = probe.temperature;
    Ok(model)
}

pub const EPOCHS: usize = 100;
