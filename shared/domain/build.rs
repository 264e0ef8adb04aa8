//! Trains the intent model from `shared/data/intents/train.tsv` at build time, deterministically,
//! with the same code the engine runs (`src/intent/learn.rs`), and writes it to OUT_DIR.

#[allow(dead_code)]
#[path = "src/intent/learn.rs"]
mod learn;

/// While training there is no table of Traditional characters yet: convert every text.
fn maybe_traditional(_: char) -> bool {
    true
}

fn main() {
    let manifest =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let corpus = manifest.join("../data/intents/train.tsv");
    println!("cargo:rerun-if-changed={}", corpus.display());
    println!("cargo:rerun-if-changed=src/intent/learn.rs");
    let text = std::fs::read_to_string(&corpus)
        .unwrap_or_else(|e| panic!("reading {}: {e}", corpus.display()));
    let model =
        learn::train_from_tsv(&text).unwrap_or_else(|e| panic!("{}: {e}", corpus.display()));
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"))
        .join("intent_model.bin");
    std::fs::write(&out, model.to_bytes())
        .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));

    // Which characters of the Basic Multilingual Plane the converter changes: one bit each, so
    // that Simplified text (most messages) skips the converter entirely.
    let mut bits = vec![0u8; 0x10000 / 8];
    for cp in 0x2E80u32..0x10000 {
        if let Some(c) = char::from_u32(cp) {
            let s = c.to_string();
            if fast2s::convert(&s) != s {
                bits[cp as usize / 8] |= 1 << (cp % 8);
            }
        }
    }
    let out = out.with_file_name("traditional_bits.bin");
    std::fs::write(&out, bits).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
