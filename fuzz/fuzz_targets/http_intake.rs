//! intake: arbitrary bytes as a whole API Gateway event or as the body of
//! `events/intake-post-message.json`, through the handler (identity, route, path, body parsing and
//! the work behind them) on the seeded in-memory store. Every answer must be a mapped status with a
//! JSON body; nothing may panic.
#![no_main]

use assistant_aws::routes::IntakeRoute;
use assistant_fuzz::{block_on, check_handled, fixtures, http_event, seeded, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(event) = http_event(data, fixtures::INTAKE_POST) else {
        return;
    };
    let store = seeded();
    check_handled::<IntakeRoute>(event, |e| block_on(intake::handle(&store, e, NOW)));
});
