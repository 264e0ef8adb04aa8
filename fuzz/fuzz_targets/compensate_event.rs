//! compensate: arbitrary bytes as the EventBridge schedule event, through the handler on the seeded
//! in-memory store (nothing due). Parsing must never panic and the sweep must succeed.
#![no_main]

use assistant_fuzz::{block_on, seeded, NOW};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<EventBridgeEvent<Value>>(data) else {
        return;
    };
    let store = seeded();
    let report =
        block_on(compensate::handle(&store, &event, NOW)).expect("an empty sweep succeeds");
    assert_eq!(report.examined, 0);
});
