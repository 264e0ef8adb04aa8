//! shops: arbitrary bytes as a whole API Gateway event or as the body of `events/shops-put.json`
//! (the platform onboarding a shop), through the handler (identity, route, path, header and body
//! parsing and the work behind them) on the seeded in-memory store. Every answer must be a mapped
//! status with a JSON body; nothing may panic.
#![no_main]

use assistant_aws::routes::ShopsRoute;
use assistant_fuzz::{block_on, fixtures, fuzz_http, NOW};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz_http::<ShopsRoute>(data, fixtures::SHOPS_PUT, |store, e| {
        block_on(shops::handle(store, e, NOW))
    });
});
