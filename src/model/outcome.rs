//! What a backend returns for an operation: the images, the page, the
//! metadata or nothing, for the edge to render in its dialect.

use super::{Image, ListPage, Metadata};

/// The outcome of an operation, for the edge to render. Moved once from
/// backend to encoder, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Image(Image),
    Images(Vec<Image>),
    List(ListPage),
    /// An image's metadata, or the one item a metadata write set.
    Metadata(Metadata),
    /// Done, with nothing to show (a delete answered 204).
    Done,
}
