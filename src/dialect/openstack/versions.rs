//! The API versions and microversions the edge tells apart, named once for
//! the paths that choose them and the replies that show them.

/// The two API versions Nova serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V2,
    V21,
}
