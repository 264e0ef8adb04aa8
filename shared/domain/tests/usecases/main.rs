//! The use cases on the in-memory twin (`assistant-testkit`), in one test binary: whole flows in
//! milliseconds, over the testkit's demo shop. The same store contract holds for DynamoDB
//! (tests/integration/contract.rs), so what passes here holds there.

mod access;
mod bad_input;
mod bounded_reads;
mod compensation;
mod flows;
mod opening;
mod order_flow;
mod push;
mod rooms;
mod workbench;
