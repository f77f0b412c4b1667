//! The canonical language every dialect translates into and out of.
//!
//! The model knows no dialect: it names what an image *is* and what a caller
//! *asks for*. Each `dialect` module maps its own wire format onto these types.
//!
//! | canonical status | meaning                                   |
//! |------------------|-------------------------------------------|
//! | `Active`         | ready to use                              |
//! | `Saving`         | being saved, uploaded or migrated         |
//! | `Trashed`        | deleted but restorable                    |
//! | `Deleted`        | deleted for good, or being deleted        |
//! | `Error`          | failed                                    |
//! | `Unknown`        | any state the model has no word for       |
//!
//! Ids are opaque strings ([`ImageId`]) and pass through unchanged; a dialect
//! whose ids are numbers renders numeric ids as JSON numbers.

mod bounds;
mod compare;
mod error;
mod filter;
mod image;
mod op;
mod outcome;
mod page;
mod paginate;
mod write;

pub use bounds::{IdRule, MAX_ID_BYTES, RequestBounds, is_unsafe_char, is_valid_id, safe_text};
pub use compare::{COMPARED, FieldDifference, differences};
pub use error::{ErrorKind, GatewayError, Resource, Side};
pub use image::{Extra, Image, ImageId, ImageStatus, Metadata, Text};
pub use op::{Filter, GetMany, ImageOp, ListQuery, LookupKey, Shown, ShownName, Sort, SortField, View};
pub use outcome::Outcome;
pub use page::{ListPage, PageRequest, PageStart};
pub use paginate::{paginate, paginate_owned};
pub use write::{Adopt, Alike, Checks, ImagePatch, Reference, Snapshot, Unique, WriteGuard, WriteOp};
