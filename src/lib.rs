//! Dragoman: a reverse proxy that translates between cloud image APIs.

#![forbid(unsafe_code)]

pub mod access;
pub mod admin;
pub mod backend;
pub mod banner;
pub mod cli;
pub mod config;
pub mod connection;
pub mod dialect;
pub mod environment;
pub mod fuzzing;
pub mod head_guard;
pub mod identity;
pub mod live;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod request_id;
pub mod server;
pub mod tls;
pub mod translate;
