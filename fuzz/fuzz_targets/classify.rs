//! The classifier: any UTF-8 text, alone and after any previous intent (the first byte picks it).
//! Never panics; confidence is a probability.
#![no_main]

use assistant_domain::intent::{classify, classify_light, classify_with_context, IntentId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let previous = IntentId::ALL
        .get(pick as usize % (IntentId::ALL.len() + 1))
        .copied();
    for c in [
        classify(text),
        classify_light(text),
        classify_with_context(text, previous),
    ] {
        assert!(
            c.confidence.is_finite() && (0.0..=1.0).contains(&c.confidence),
            "{text:?}: confidence {}",
            c.confidence
        );
    }
});
