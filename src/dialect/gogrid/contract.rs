//! GoGrid's image object, as the wiki's `Server_Image_(Object)` and every
//! sample show it, with the option objects jclouds and Dasein require.

use crate::dialect::Dialect::{Foreman, GoGrid, Hostway, OpenStack};
use crate::dialect::contract::{Contract, Field, Presence::*, Representation, Shape::*, Wrapping};

pub const STATES: &[&str] = &["Saving", "Available", "Deleted", "Trash", "Migrating"];
pub const TYPES: &[&str] = &["Web Server", "Database Server"];
pub const ARCHITECTURES: &[&str] = &["32-bit", "64-bit"];

/// The `os` option of an image whose upstream says nothing of its operating
/// system: an option object (jclouds and Dasein need one), meaning unknown.
pub const UNKNOWN_OS: (i64, &str, &str) = (0, "Unknown", "Operating system unknown");

const fn option(names: crate::dialect::contract::Shape) -> [Field; 4] {
    [
        Field::new("id", Always, Integer),
        Field::new("name", Always, names),
        Field::new("description", Nullable, Text),
        Field::new("object", Always, Words(&["option"])),
    ]
}

const OS: &[Field] = &option(Text);
const ARCHITECTURE: &[Field] = &option(Words(ARCHITECTURES));
const TYPE: &[Field] = &option(Words(TYPES));
const STATE: &[Field] = &option(Words(STATES));
const OWNER: &[Field] = &[
    Field::new("id", Always, Integer),
    Field::new("name", Always, Text),
    Field::new("object", Always, Words(&["customer"])),
];
const BILLINGTOKEN: &[Field] =
    &[Field::new("id", Always, Integer), Field::new("name", Always, Text), Field::new("price", Always, Number)];
const SUMMARY: &[Field] = &[
    Field::new("total", Always, Integer),
    Field::new("start", Always, Integer),
    Field::new("numpages", Always, Integer),
    Field::new("returned", Always, Integer),
];
/// A failure's summary has no `numpages` (`fx:gogrid/jclouds_test_error_handler.json`).
const FAILURE_SUMMARY: &[Field] = &[
    Field::new("total", Always, Integer),
    Field::new("start", Always, Integer),
    Field::new("returned", Always, Integer),
];

/// The canonical image fields (`model::COMPARED`) an upstream of this
/// dialect never fills: GoGrid's image has no minimums, size nor free-form metadata.
pub const UNCARRIED: &[&str] = &["min_disk_gb", "min_ram_mb", "size_bytes", "metadata"];

pub const CONTRACT: Contract = Contract {
    dialect: GoGrid,
    uncarried: UNCARRIED,
    image: Representation {
        fields: &[
            Field::new("id", Always, Integer),
            Field::new("name", Always, Text).lost(&[GoGrid], "the display name"),
            Field::new("friendlyName", Always, Text),
            Field::new("description", WhenKnown, Text).lost(&[GoGrid, OpenStack], "absent"),
            Field::new("os", Always, Object(OS))
                .lost(&[GoGrid, OpenStack, Foreman], "`{\"id\": 0, \"name\": \"Unknown\"}`"),
            Field::new("architecture", WhenKnown, Object(ARCHITECTURE)).lost(&[GoGrid, OpenStack, Foreman], "absent"),
            Field::new("type", Always, Object(TYPE)).lost(&[GoGrid], "`Web Server`"),
            Field::new("state", Always, Object(STATE)).lost(&[GoGrid, Hostway, OpenStack], "`Available`"),
            Field::new("price", Always, Number).lost(&[GoGrid], "`0`"),
            Field::new("location", Always, Text).lost(&[GoGrid], "`<owner id>/<name>.img`"),
            Field::new("isActive", Always, Boolean).lost(&[GoGrid], "`true`"),
            Field::new("isPublic", Always, Boolean).lost(&[GoGrid], "`false`"),
            Field::new("createdTime", WhenKnown, Integer),
            Field::new("updatedTime", Always, Integer).lost(&[GoGrid, OpenStack, Foreman], "`createdTime`"),
            Field::new("billingtokens", Always, List(&Object(BILLINGTOKEN))).lost(&[GoGrid], "`[]`"),
            Field::new("owner", Always, Object(OWNER))
                .lost(&[GoGrid], "the calling client, with an id derived from its name"),
            Field::new("object", Always, Words(&["serverimage", "image"])),
            Field::new("datacenterlist", WhenKnown, List(&Map)).lost(&[GoGrid, Hostway], "absent"),
        ],
        closed: false,
    },
    summary: None,
    show: Wrapping::Envelope,
    list: Representation {
        fields: &[
            Field::new("list", Always, List(&Map)),
            Field::new("method", Always, Text),
            Field::new("status", Always, Words(&["success", "failure"])),
            Field::new("summary", Always, Object(SUMMARY)),
        ],
        closed: true,
    },
    items: "list",
    faults: &[],
    error: Representation {
        fields: &[
            Field::new(
                "list",
                Always,
                List(&Object(&[
                    Field::new("errorcode", Always, Text),
                    Field::new("message", Always, Text),
                    Field::new("object", Always, Words(&["error"])),
                ])),
            ),
            Field::new("method", Always, Text),
            Field::new("status", Always, Words(&["failure"])),
            Field::new("summary", Always, Object(FAILURE_SUMMARY)),
        ],
        closed: true,
    },
};
