//! The text normaliser (`intent::learn`): any UTF-8 text. Never panics; the normal form has no
//! white space and no ASCII capitals.
#![no_main]

use assistant_domain::intent::learn::{is_traditional, model_text, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let normal = normalize(text);
    assert!(
        !normal
            .chars()
            .any(|c| c.is_whitespace() || c.is_ascii_uppercase()),
        "{text:?} -> {normal:?}"
    );
    let _ = is_traditional(text);
    let _ = model_text(text);
});
