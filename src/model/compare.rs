//! Two images of one id compared field by field, for the migration mirror:
//! which canonical fields differ, and how, in a few words.

use std::fmt::Debug;

use super::Image;

/// Every canonical field [`differences`] compares, by the name metrics and
/// the mirror's report use. Dialect-owned extras and the backend's own
/// status word are not compared: no other dialect could match them.
pub const COMPARED: &[&str] = &[
    "name",
    "status",
    "created",
    "updated",
    "description",
    "os",
    "architecture",
    "public",
    "min_disk_gb",
    "min_ram_mb",
    "size_bytes",
    "server_id",
    "zones",
    "metadata",
];

/// One field two images disagree on: its name and each side's value, short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDifference {
    pub field: &'static str,
    pub primary: String,
    pub mirror: String,
}

/// The longest value a difference quotes, in characters.
const SHOWN: usize = 60;

/// The fields of [`COMPARED`] that `compared` admits and on which `primary`
/// and `mirror` differ, in [`COMPARED`]'s order.
pub fn differences(primary: &Image, mirror: &Image, compared: impl Fn(&str) -> bool) -> Vec<FieldDifference> {
    let mut found = Vec::new();
    let mut check = |field: &'static str, a: &dyn Debug, b: &dyn Debug, same: bool| {
        if !same && compared(field) {
            found.push(FieldDifference { field, primary: short(a), mirror: short(b) });
        }
    };
    let (a, b) = (primary, mirror);
    check("name", &a.name, &b.name, a.name == b.name);
    check("status", &a.status, &b.status, a.status == b.status);
    check("created", &a.created, &b.created, a.created == b.created);
    check("updated", &a.updated, &b.updated, a.updated == b.updated);
    check("description", &a.description, &b.description, a.description == b.description);
    check("os", &a.os, &b.os, a.os == b.os);
    check("architecture", &a.architecture, &b.architecture, a.architecture == b.architecture);
    check("public", &a.public, &b.public, a.public == b.public);
    check("min_disk_gb", &a.min_disk_gb, &b.min_disk_gb, a.min_disk_gb == b.min_disk_gb);
    check("min_ram_mb", &a.min_ram_mb, &b.min_ram_mb, a.min_ram_mb == b.min_ram_mb);
    check("size_bytes", &a.size_bytes, &b.size_bytes, a.size_bytes == b.size_bytes);
    check("server_id", &a.server_id, &b.server_id, a.server_id == b.server_id);
    check("zones", &a.zones, &b.zones, a.zones == b.zones);
    check("metadata", &a.metadata, &b.metadata, a.metadata == b.metadata);
    found
}

/// A value's debug form, cut to [`SHOWN`] characters.
fn short(value: &dyn Debug) -> String {
    let full = format!("{value:?}");
    match full.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &full[..at]),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admitted_fields_that_differ_are_named() {
        let a = Image { name: "centos".into(), size_bytes: Some(1), ..Image::default() };
        let b = Image { name: "centos-moved".into(), size_bytes: Some(2), ..Image::default() };
        let all = differences(&a, &b, |_| true);
        assert_eq!(all.iter().map(|d| d.field).collect::<Vec<_>>(), ["name", "size_bytes"]);
        assert_eq!(all[0].primary, "\"centos\"");
        assert_eq!(all[0].mirror, "\"centos-moved\"");
        let names = differences(&a, &b, |f| f != "size_bytes");
        assert_eq!(names.len(), 1);
        assert!(differences(&a, &a, |_| true).is_empty());
    }

    #[test]
    fn long_values_are_cut() {
        let a = Image { name: "x".repeat(500).into(), ..Image::default() };
        let d = differences(&a, &Image::default(), |_| true);
        assert_eq!(d[0].primary.chars().count(), SHOWN + 1);
    }
}
