//! Hostway FlexCloud's image, as its "Image" and "ImageList" pages show it.

use time::macros::format_description;

use crate::dialect::Dialect::{GoGrid, Hostway, OpenStack};
use crate::dialect::contract::{Contract, Field, Presence::*, Representation, Shape::*, Wrapping, is_time};

/// The closed status vocabulary.
pub const STATUSES: &[&str] = &["ACTIVE", "SAVING", "DELETED"];

fn created(s: &str) -> bool {
    is_time(s, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"))
}

const LINK: &[Field] = &[Field::new("href", Always, Text), Field::new("rel", Always, Words(&["self", "bookmark"]))];

const ZONES: Field = Field::new("zones", Always, List(&Text)).lost(&[Hostway, GoGrid], "`[]`");

/// The canonical image fields (`model::COMPARED`) an upstream of this
/// dialect never fills: Hostway's image has no word for these (its `updated` is always null).
pub const UNCARRIED: &[&str] = &[
    "updated",
    "description",
    "os",
    "architecture",
    "public",
    "min_disk_gb",
    "min_ram_mb",
    "size_bytes",
    "server_id",
    "metadata",
];

pub const CONTRACT: Contract = Contract {
    dialect: Hostway,
    uncarried: UNCARRIED,
    image: Representation {
        fields: &[
            Field::new("id", Always, Text),
            Field::new("name", Always, Text),
            Field::new("status", Always, Words(STATUSES)).lost(&[Hostway, OpenStack, GoGrid], "`ACTIVE`"),
            Field::new("created", Always, Format("YYYY-MM-DDTHH:MM:SS", created)),
            Field::new("updated", Nullable, Text),
            Field::new("links", Always, List(&Object(LINK))),
            ZONES,
        ],
        closed: false,
    },
    summary: Some(Representation {
        fields: &[
            Field::new("id", Always, Text),
            Field::new("name", Always, Text),
            Field::new("links", Always, List(&Object(LINK))),
            ZONES,
        ],
        closed: false,
    }),
    show: Wrapping::Key("image"),
    list: Representation { fields: &[Field::new("images", Always, List(&Map))], closed: true },
    items: "images",
    faults: &[
        "itemNotFound",
        "badRequest",
        "unauthorized",
        "forbidden",
        "badMethod",
        "overLimit",
        "computeFault",
        "serviceUnavailable",
        "notImplemented",
        "conflictingRequest",
        "badMediaType",
    ],
    error: Representation {
        fields: &[
            Field::new("message", Always, Text),
            Field::new("code", Always, Integer),
            Field::new("details", WhenKnown, Text),
            Field::new("errorid", WhenKnown, Text),
        ],
        closed: false,
    },
};
