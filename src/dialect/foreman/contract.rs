//! Foreman's image, as the v2 rabl views (`main`) and the Foreman API document show it:
//! every field always present, ids as integers.

use time::macros::format_description;

use crate::dialect::Dialect::{Foreman, GoGrid, OpenStack};
use crate::dialect::contract::{Contract, Field, Presence::*, Representation, Shape::*, Wrapping, is_time};

/// The operating system label of an image whose upstream names none.
pub const UNKNOWN_OS: &str = "Unknown";
/// The architecture of an image whose upstream names none: the only one
/// Foreman seeds, and its id there.
pub const DEFAULT_ARCHITECTURE: (i64, &str) = (1, "x86_64");
/// The template user of an image whose upstream names none (the Foreman API document).
pub const DEFAULT_USERNAME: &str = "root";

fn stamp(s: &str) -> bool {
    is_time(s, format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC"))
}

const SORT: &[Field] = &[Field::new("by", Nullable, Text), Field::new("order", Nullable, Text)];

/// The canonical image fields (`model::COMPARED`) an upstream of this
/// dialect never fills: Foreman's image has no status, description, visibility, zones, minimums, size, source server nor metadata.
pub const UNCARRIED: &[&str] =
    &["status", "description", "public", "zones", "min_disk_gb", "min_ram_mb", "size_bytes", "server_id", "metadata"];

pub const CONTRACT: Contract = Contract {
    dialect: Foreman,
    uncarried: UNCARRIED,
    image: Representation {
        fields: &[
            Field::new("id", Always, Integer),
            Field::new("name", Always, Text),
            Field::new("operatingsystem_id", Always, Integer)
                .lost(&[Foreman, GoGrid, OpenStack], "an id derived from the operating system's name"),
            Field::new("operatingsystem_name", Always, Text).lost(&[Foreman, GoGrid, OpenStack], "`Unknown`"),
            Field::new("compute_resource_id", Always, Integer),
            Field::new("compute_resource_name", Always, Text).lost(&[Foreman], "the compute resource of the path"),
            Field::new("architecture_id", Always, Integer)
                .lost(&[Foreman, GoGrid, OpenStack], "`1` (`x86_64`), else an id derived from the name"),
            Field::new("architecture_name", Always, Text).lost(&[Foreman, GoGrid, OpenStack], "`x86_64`"),
            Field::new("uuid", Always, Text),
            Field::new("username", Always, Text).lost(&[Foreman], "`root`"),
            Field::new("created_at", Always, Format("YYYY-MM-DD HH:MM:SS UTC", stamp)),
            Field::new("updated_at", Always, Format("YYYY-MM-DD HH:MM:SS UTC", stamp))
                .lost(&[Foreman, GoGrid, OpenStack], "`created_at`"),
            Field::new("user_data", WhenKnown, Boolean),
        ],
        closed: false,
    },
    summary: None,
    show: Wrapping::Bare,
    list: Representation {
        fields: &[
            Field::new("total", Always, Integer),
            Field::new("subtotal", Always, Integer),
            Field::new("page", Always, Integer),
            Field::new("per_page", Always, Integer),
            Field::new("search", Nullable, Text),
            Field::new("sort", Always, Object(SORT)),
            Field::new("results", Always, List(&Map)),
        ],
        closed: true,
    },
    items: "results",
    faults: &[],
    error: Representation { fields: &[Field::new("error", Always, Map)], closed: false },
};
