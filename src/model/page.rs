//! A page asked for and a page answered: where it starts, how long it is,
//! and what each dialect needs to describe it (offset, counts, more).

use super::{Image, ImageId};

/// Where a page starts: after a known id (OpenStack markers) or at an
/// offset into the filtered, ordered list (GoGrid and Foreman page numbers).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PageStart {
    #[default]
    First,
    After(ImageId),
    Offset(usize),
}

/// A page asked for by the caller. `limit: None` asks for everything (still
/// bounded by configuration).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub start: PageStart,
    pub limit: Option<usize>,
}

/// One page of a listing, with what each dialect needs to describe it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub images: Vec<Image>,
    /// Offset of the first image in the filtered listing, when known.
    pub offset: Option<usize>,
    /// How many images match the filter, when known.
    pub matched: Option<usize>,
    /// How many images the scope holds before filtering, when known.
    pub total: Option<usize>,
    /// True when images follow this page.
    pub more: bool,
}
