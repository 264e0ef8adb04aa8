//! suggest: arbitrary bytes as a whole API Gateway event or as the body of
//! `events/suggest-use-solution.json`, through the handler (identity, route, path, body parsing and
//! the work behind them) on the seeded in-memory store. Every answer must be a mapped status with a
//! JSON body; nothing may panic.
#![no_main]

use assistant_aws::routes::SuggestRoute;
use assistant_fuzz::{block_on, check_handled, fixtures, http_event, seeded, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(event) = http_event(data, fixtures::SUGGEST_USE) else {
        return;
    };
    let store = seeded();
    check_handled::<SuggestRoute>(event, |e| block_on(suggest::handle(&store, e, NOW)));
});
