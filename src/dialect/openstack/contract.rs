//! Nova's image, as its response schema (`_image_response`) declares it.

use time::macros::format_description;

use crate::dialect::Dialect::{Foreman, GoGrid, OpenStack};
use crate::dialect::contract::{Contract, Field, Presence::*, Representation, Shape, Shape::*, Wrapping, is_time};

/// The schema's status vocabulary.
pub const STATUSES: &[&str] = &["ACTIVE", "SAVING", "DELETED", "ERROR", "UNKNOWN"];

fn timestamp(s: &str) -> bool {
    is_time(s, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
}

/// A link of relation `rel`.
macro_rules! link {
    ($rel:literal) => {
        Object(&[Field::new("href", Always, Text), Field::new("rel", Always, Words(&[$rel]))])
    };
}

/// An image's links, exactly these three (the schema's `minItems` and
/// `maxItems`): its own, its bookmark and the image service's.
const IMAGE_LINKS: Shape = Tuple(&[
    link!("self"),
    link!("bookmark"),
    Object(&[
        Field::new("href", Always, Text),
        Field::new("rel", Always, Words(&["alternate"])),
        Field::new("type", Always, Words(&["application/vnd.openstack.image"])),
    ]),
]);

const SERVER: &[Field] =
    &[Field::new("id", Always, Text), Field::new("links", Always, Tuple(&[link!("self"), link!("bookmark")]))];

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
            Field::new("links", Always, IMAGE_LINKS),
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
            Field::new("links", Always, IMAGE_LINKS),
            Field::new("name", Nullable, Text),
        ],
        closed: true,
    }),
    show: Wrapping::Key("image"),
    list: Representation {
        fields: &[
            Field::new("images", Always, List(&Map)),
            Field::new("images_links", WhenKnown, List(&link!("next"))),
        ],
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
