//! The integration tests, one module per concern, linked into one binary so
//! the suite builds and links once.

mod common;
mod protect;

mod bounds;
mod chain;
mod cli;
mod compatibility;
mod config_example;
mod conformance;
mod conformance_formats;
mod durability;
mod errors;
mod expansion;
mod fallback;
mod first_run;
mod fuzz_smoke;
mod golden_foreman;
mod golden_gogrid;
mod golden_hostway;
mod golden_openstack;
mod identity;
mod ids;
mod imports;
mod keystone_session;
mod matrix;
mod mirror;
mod operations;
mod rate_limits;
mod replicas;
mod request_ids;
mod retry_budget;
mod secrets_in_logs;
mod semantics;
mod shutdown;
mod status_page;
mod streamed_lists;
mod tls;
mod translate;
mod upstream_failures;
mod write_chain;
mod write_matrix;
