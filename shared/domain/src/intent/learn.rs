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
    // Not shipped yet, or the buyer asks whether it has (rule 1 and 4 of GUIDE.md).
    (
        "未发",
        &[
            "没发货",
            "没有发货",
            "还没发",
            "不发货",
            "没发出",
            "未发货",
            "没出库",
            "不出库",
            "待出库",
            "等待出库",
            "待发货",
            "等待发货",
            "备货中",
            "发货了没",
            "发货了吗",
            "发货没",
            "发了没",
            "发没发",
            "有没有发",
            "是否发货",
            "是否已发",
            "发出来没",
            "发出了没",
            "出库了没",
            "出库了吗",
            "都不发",
            "还不发",
            // a buyer who suspects the shop forgot or skipped the order
            "忘记发",
            "忘了发",
            "忘记给我发",
            "忘了给我发",
            "没给我发货",
            "漏了我",
        ],
    ),
    // Missing, wrong or damaged goods.
    (
        "货损",
        &[
            "少了",
            "少发",
            "漏发",
            "少寄",
            "漏寄",
            "少装",
            "只有两",
            "只有三",
            "缺了",
            "缺件",
            "只有一",
            "只收到",
            "发错",
            "寄错",
            "坏了",
            "坏的",
            "破了",
            "破损",
            "碎了",
            "裂了",
            "漏了",
            "漏液",
            "压坏",
            "压扁",
            "划痕",
            "瑕疵",
            "不好用",
            "用不了",
            "没反应",
            "质量",
            "异味",
            "过期",
            "掉色",
            "开线",
        ],
    ),
    // Price, shipping fee, coupons, gifts, price protection.
    (
        "价钱",
        &[
            "包邮",
            "邮费",
            "运费",
            "快递费",
            "价保",
            "保价",
            "价格保护",
            "差价",
            "降价",
            "便宜",
            "优惠",
            "券",
            "赠品",
            "送什么",
            "送的",
            "返现",
            "红包",
            "满减",
            "打折",
            "折扣",
            "改价",
            "涨价",
            "福袋",
        ],
    ),
    // The product itself: size, use, warranty, stock.
    (
        "商品",
        &[
            "保修",
            "质保",
            "几个",
            "几片",
            "几粒",
            "几斤",
            "多大",
            "多重",
            "多厚",
            "尺码",
            "码数",
            "尺寸",
            "材质",
            "怎么用",
            "怎么使用",
            "使用方法",
            "说明书",
            "安装",
            "有货吗",
            "库存",
            "补货",
            "正品",
            "保质期",
            "适合",
            "区别",
        ],
    ),
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
    let mut seen = [false; 16];
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
        Self::train_seeded(examples, epochs, 0x2545_F491_4F6C_DD1D)
    }

    /// The average of [`SEEDS`] models trained in different example orders: a linear model too
    /// (same size, same speed), with less of the variance one shuffle order puts in the weights.
    pub fn train_averaged(examples: &[Example], epochs: usize) -> Model {
        let mut avg = Self::train_seeded(examples, epochs, SEEDS[0]);
        for seed in &SEEDS[1..] {
            let m = Self::train_seeded(examples, epochs, *seed);
            for (f, &i) in &avg.index {
                let j = m.index[f] as usize;
                for k in 0..K {
                    avg.weights[i as usize][k] += m.weights[j][k];
                }
            }
            for k in 0..K {
                avg.bias[k] += m.bias[k];
            }
        }
        let n = SEEDS.len() as f32;
        for w in avg.weights.iter_mut() {
            for x in w.iter_mut() {
                *x /= n;
            }
        }
        for b in avg.bias.iter_mut() {
            *b /= n;
        }
        avg
    }

    /// Trains with a given shuffle seed.
    pub fn train_seeded(examples: &[Example], epochs: usize, seed: u64) -> Model {
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
        let mut seed = seed;
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

    /// The shipped form ([`Packed`]): weights quantised to one signed byte each with one scale
    /// per label, features whose every weight rounds to zero left out (they add exactly nothing),
    /// keys sorted and bucketed by their top bits so that lookups need no table built at start.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut scale = [0.0f32; K];
        for w in &self.weights {
            for k in 0..K {
                scale[k] = scale[k].max(w[k].abs() / 127.0);
            }
        }
        for s in scale.iter_mut() {
            if *s == 0.0 {
                *s = 1.0;
            }
        }
        let mut entries: Vec<(u64, [i8; K])> = self
            .index
            .iter()
            .map(|(key, &i)| {
                let w = &self.weights[i as usize];
                let mut q = [0i8; K];
                for k in 0..K {
                    q[k] = (w[k] / scale[k]).round().clamp(-127.0, 127.0) as i8;
                }
                (Packed::mix(*key), q)
            })
            .filter(|(_, q)| q.iter().any(|x| *x != 0))
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        let n = entries.len();
        assert!(
            entries
                .windows(2)
                .all(|w| Packed::stored(w[0].0) != Packed::stored(w[1].0)
                    || Packed::bucket(w[0].0) != Packed::bucket(w[1].0)),
            "two features share their stored key bits"
        );
        let mut out = Vec::with_capacity(Packed::HEADER + n * (4 + K));
        out.extend_from_slice(Packed::MAGIC);
        out.extend_from_slice(&self.temperature.to_le_bytes());
        for b in self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        for s in scale {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend_from_slice(&(n as u32).to_le_bytes());
        // offsets[b] = the first entry whose bucket is ≥ b, for b in 0..=BUCKETS.
        let mut at = 0usize;
        for b in 0..=Packed::BUCKETS {
            while at < n && Packed::bucket(entries[at].0) < b {
                at += 1;
            }
            out.extend_from_slice(&(at as u32).to_le_bytes());
        }
        for (key, _) in &entries {
            out.extend_from_slice(&Packed::stored(*key).to_le_bytes());
        }
        for (_, q) in &entries {
            out.extend(q.iter().map(|x| *x as u8));
        }
        out
    }
}

/// The model as it ships, read in place from its bytes (no table built at cold start):
/// `MAGIC`, temperature, K biases, K scales (f32), n (u32), `BUCKETS + 1` bucket offsets (u32),
/// n sorted keys, then n × K weights (i8, times the label's scale), all little-endian. A key is
/// stored as the 32 bits after its bucket's 12 (u32): an unknown feature is mistaken for a known
/// one only when 44 of its 64 hash bits match, about once in 10^8 lookups.
#[derive(Debug, Clone, Copy)]
pub struct Packed<'a> {
    temperature: f32,
    bias: [f32; K],
    scale: [f32; K],
    n: usize,
    offsets: &'a [u8],
    keys: &'a [u8],
    weights: &'a [u8],
}

impl<'a> Packed<'a> {
    pub const MAGIC: &'static [u8; 4] = b"IMq8";
    const BUCKET_BITS: u32 = 12;
    pub const BUCKETS: usize = 1 << Self::BUCKET_BITS;
    const HEADER: usize = 4 + 4 + 8 * K + 4 + 4 * (Self::BUCKETS + 1);

    /// Feature hashes (FNV) differ mostly in some bits; murmur3's finaliser, a bijection, spreads
    /// every bit over all 64 before buckets and stored bits are taken.
    fn mix(mut key: u64) -> u64 {
        key ^= key >> 33;
        key = key.wrapping_mul(0xff51_afd7_ed55_8ccd);
        key ^= key >> 33;
        key = key.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        key ^ (key >> 33)
    }

    fn bucket(mixed: u64) -> usize {
        (mixed >> (64 - Self::BUCKET_BITS)) as usize
    }

    /// The key bits kept below the bucket's: in the same order as the whole keys within a bucket.
    fn stored(mixed: u64) -> u32 {
        (mixed >> (32 - Self::BUCKET_BITS)) as u32
    }

    /// Checks the layout (sizes, offsets in order and in range); None when it does not hold.
    pub fn parse(bytes: &'a [u8]) -> Option<Packed<'a>> {
        let f32_at = |at: usize| -> Option<f32> {
            Some(f32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
        };
        if bytes.get(..4)? != Self::MAGIC {
            return None;
        }
        let temperature = f32_at(4)?;
        let (mut bias, mut scale) = ([0.0; K], [0.0; K]);
        for k in 0..K {
            bias[k] = f32_at(8 + 4 * k)?;
            scale[k] = f32_at(8 + 4 * K + 4 * k)?;
        }
        let at = 8 + 8 * K;
        let n = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let offsets = bytes.get(at + 4..Self::HEADER)?;
        let keys = bytes.get(Self::HEADER..Self::HEADER + 4 * n)?;
        let weights = bytes.get(Self::HEADER + 4 * n..)?;
        if weights.len() != n * K || !temperature.is_finite() || temperature <= 0.0 {
            return None;
        }
        let packed = Packed {
            temperature,
            bias,
            scale,
            n,
            offsets,
            keys,
            weights,
        };
        let offs: Vec<usize> = (0..=Self::BUCKETS).map(|b| packed.offset(b)).collect();
        if offs[0] != 0 || offs[Self::BUCKETS] != n || offs.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        Some(packed)
    }

    /// How many features carry weight.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn offset(&self, bucket: usize) -> usize {
        let at = 4 * bucket;
        u32::from_le_bytes(self.offsets[at..at + 4].try_into().expect("4 bytes")) as usize
    }

    fn key(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.keys[4 * i..4 * i + 4].try_into().expect("4 bytes"))
    }

    /// The entry of a feature, if it carries weight.
    fn find(&self, feature: u64) -> Option<usize> {
        let feature = Self::mix(feature);
        let b = Self::bucket(feature);
        let (mut lo, mut hi) = (self.offset(b), self.offset(b + 1));
        let feature = Self::stored(feature);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.key(mid).cmp(&feature) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn row(&self, i: usize) -> &'a [u8] {
        &self.weights[K * i..K * i + K]
    }

    /// Raw scores (logits) for a feature set.
    pub fn logits(&self, features: &[u64]) -> [f32; K] {
        let mut sum = [0i32; K];
        for f in features {
            if let Some(i) = self.find(*f) {
                for (s, w) in sum.iter_mut().zip(self.row(i)) {
                    *s += *w as i8 as i32;
                }
            }
        }
        let norm = 1.0 / (features.len().max(1) as f32).sqrt();
        let mut scores = self.bias;
        for k in 0..K {
            scores[k] += sum[k] as f32 * self.scale[k] * norm;
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
        self.find(feature)
            .map(|i| self.row(i)[label] as i8 as f32 * self.scale[label])
            .unwrap_or(0.0)
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
    let mut probe = Model::train_averaged(&pick(&fit), EPOCHS);
    probe.fit_temperature(&pick(&held));
    let mut model = Model::train_averaged(&examples, EPOCHS);
    model.temperature = probe.temperature;
    Ok(model)
}

pub const EPOCHS: usize = 100;
/// The shuffle seeds of the averaged models (xorshift states: never zero).
pub const SEEDS: [u64; 3] = [
    0x2545_F491_4F6C_DD1D,
    0x9E37_79B9_7F4A_7C15,
    0xD1B5_4A32_D192_ED03,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A small model trained from a few lines, and its packed form.
    fn trained() -> Model {
        let corpus = "什么时候发货\turge_shipment\n怎么还不发货\turge_shipment\n\
                      快递到哪了\tlogistics\n物流怎么不动了\tlogistics\n\
                      我要改地址\tchange_address\n能开发票吗\tinvoice\n";
        let mut model = train_from_tsv(corpus).expect("valid corpus");
        // A feature whose every weight rounds to zero once quantised.
        model.index.insert(42, model.weights.len() as u32);
        model.weights.push([1e-9; K]);
        model
    }

    #[test]
    fn the_packed_model_scores_as_the_trained_one_within_its_rounding() {
        let model = trained();
        let bytes = model.to_bytes();
        let packed = Packed::parse(&bytes).expect("its own bytes parse");
        assert_eq!(
            packed.len(),
            model.index.len() - 1,
            "the all-zero feature is left out"
        );
        assert_eq!(packed.weight(42, 0), 0.0);
        let mut feats = Vec::new();
        for text in ["什么时候发货啊", "快递到哪了", "发票", "完全无关的一句话"]
        {
            features(&model_text(text), &mut feats);
            let (a, b) = (model.probabilities(&feats), packed.probabilities(&feats));
            for k in 0..K {
                assert!((a[k] - b[k]).abs() < 0.02, "{text}: {a:?} vs {b:?}");
            }
            let best = |p: &[f32; K]| (0..K).max_by(|x, y| p[*x].total_cmp(&p[*y]));
            assert_eq!(best(&a), best(&b), "{text}");
        }
        // Every known feature is found, with its weight to within half a quantisation step.
        for (key, &i) in &model.index {
            for k in 0..K {
                let step = packed.scale[k];
                let w = model.weights[i as usize][k];
                assert!((packed.weight(*key, k) - w).abs() <= step / 2.0 + 1e-6);
            }
        }
    }

    #[test]
    fn bytes_that_are_not_a_packed_model_are_refused() {
        let bytes = trained().to_bytes();
        assert!(
            Packed::parse(&bytes[..bytes.len() - 1]).is_none(),
            "truncated"
        );
        assert!(Packed::parse(&bytes[..100]).is_none(), "header only");
        assert!(Packed::parse(&[]).is_none());
        let mut other = bytes.clone();
        other[0] = b'X';
        assert!(Packed::parse(&other).is_none(), "wrong magic");
        let mut unordered = bytes.clone();
        let offsets = 8 + 8 * K + 4;
        unordered[offsets + 4..offsets + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Packed::parse(&unordered).is_none(), "offsets out of range");
    }
}
