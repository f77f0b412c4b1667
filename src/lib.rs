//! Dragoman: a reverse proxy that translates between cloud image APIs.

pub mod backend;
pub mod dialect;
pub mod model;
