//! Nova's image, as its response schema (`_image_response`) declares it.

use time::macros::format_description;

use crate::dialect::Dialect::{Foreman, GoGrid, OpenStack};
use crate::dialect::contract::{Contract, Field, Presence::*, Representation, Shape::*, Wrapping, is_time};

/// The schema's status vocabulary.
pub const STATUSES: &[&str] = &["ACTIVE", "SAVING", "DELETED", "ERROR", "UNKNOWN"];

fn timestamp(s: &str) -> bool {
    is_time(s, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
}

const LINK: &[Field] = &[
    Field::new("href", Always, Text),
    Field::new("rel", Always, Words(&["self", "bookmark", "alternate"])),
    Field::new("type", WhenKnown, Text),
];

const SERVER: &[Field] = &[Field::new("id", Always, Text), Field::new("links", Always, List(&Object(LINK)))];

/// The canonical image fields (`model::COMPARED`) an upstream of this
/// dialect never fills: Nova's image has no zones nor visibility.
pub const UNCARRIED: &[&str] = &["zones", "public"];

pub const CONTRACT: Contract = Contract {
    dialect: OpenStack,
    uncarried: UNCARRIED,
    image: Representation {
        fields: &[
            Field::new("OS-DCF:diskConfig", WhenKnown, Words(&["AUTO", "MANUAL"])),
            Field::new("OS-EXT-IMG-SIZE:size", Always, Integer)
                .lost(&[OpenStack], "`0`, Nova's own for an unknown size"),
            Field::new("created", Always, Format("YYYY-MM-DDTHH:MM:SSZ", timestamp)),
            Field::new("id", Always, Text),
            Field::new("links", Always, List(&Object(LINK))),
            Field::new("metadata", Always, Map),
            Field::new("minDisk", Always, Integer).lost(&[OpenStack], "`0`"),
            Field::new("minRam", Always, Integer).lost(&[OpenStack], "`0`"),
            Field::new("name", Nullable, Text),
            Field::new("progress", Always, Integer),
            Field::new("server", WhenKnown, Object(SERVER)).lost(&[OpenStack, GoGrid], "absent"),
            Field::new("status", Always, Words(STATUSES)),
            // Nova allows null; Glance sets it at insert, so the edge never shows null
            Field::new("updated", Always, Format("YYYY-MM-DDTHH:MM:SSZ", timestamp))
                .lost(&[OpenStack, GoGrid, Foreman], "the `created` value"),
        ],
        closed: true,
    },
    summary: Some(Representation {
        fields: &[
            Field::new("id", Always, Text),
            Field::new("links", Always, List(&Object(LINK))),
            Field::new("name", Nullable, Text),
        ],
        closed: true,
    }),
    show: Wrapping::Key("image"),
    list: Representation {
        fields: &[Field::new("images", Always, List(&Map)), Field::new("images_links", WhenKnown, List(&Object(LINK)))],
        closed: true,
    },
    items: "images",
    faults: &[
        "badRequest",
        "unauthorized",
        "forbidden",
        "itemNotFound",
        "badMethod",
        "conflictingRequest",
        "overLimit",
        "badMediaType",
        "notImplemented",
        "serviceUnavailable",
        "computeFault",
    ],
    error: Representation {
        fields: &[Field::new("code", Always, Integer), Field::new("message", Always, Text)],
        closed: false,
    },
};
