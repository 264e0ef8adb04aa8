//! The one integration-test binary: handlers fed the events/ fixtures, whole flows, identity and
//! bad input, all against DynamoDB Local with fresh tables per test; the template check; and the
//! real `intake` binary under `cargo lambda watch`; openapi.yaml against the template.

mod bad_input;
mod compensation;
mod contract;
mod faults;
mod fixtures;
mod flow;
mod grants;
mod lambda_watch;
mod limits;
mod openapi;
mod orders;
mod push;
mod shops;
mod support;
mod template;
mod views;
mod workbench;
