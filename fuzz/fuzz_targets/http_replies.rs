//! replies: arbitrary bytes as a whole API Gateway event or as the body of
//! `events/replies-put.json`, through the handler (identity, route, path, body parsing and the work
//! behind them) on the seeded in-memory store. Every answer must be a mapped status with a JSON
//! body; nothing may panic.
#![no_main]

use assistant_aws::routes::RepliesRoute;
use assistant_fuzz::{block_on, fixtures, fuzz_http, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz_http::<RepliesRoute>(data, fixtures::REPLIES_PUT, |store, e| {
        block_on(replies::handle(store, e, NOW))
    });
});
