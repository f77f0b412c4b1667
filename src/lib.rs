//! Dragoman: a reverse proxy that translates between cloud image APIs.

pub mod dialect;
pub mod model;
