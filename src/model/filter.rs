//! What a list's conditions select and how a listing is ordered: the
//! judgement a backend applies when its upstream cannot.

use serde_json::Value;

use super::{Filter, Image, ImageId, ImageOp, Sort, SortField, Text};

impl Filter {
    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// The filter without the conditions every image an upstream of the
    /// dialect whose extras are named `namespace` decodes meets (see
    /// [`super::Shown::reads`]).
    pub fn for_upstream(&self, namespace: &str) -> Filter {
        let mut filter = self.clone();
        filter.shown.retain(|condition| !condition.holds_for_all_of(namespace));
        filter
    }

    /// True when `image` meets every condition.
    pub fn matches(&self, image: &Image) -> bool {
        fn eq(want: &Option<String>, have: &Option<Text>) -> bool {
            want.as_ref().is_none_or(|w| have.as_deref() == Some(w.as_str()))
        }
        self.id.as_ref().is_none_or(|id| *id == image.id)
            && self.name.as_ref().is_none_or(|n| *n == image.name)
            && self.name_like.as_ref().is_none_or(|n| contains_ignoring_case(&image.name, n))
            && self.changed_since.is_none_or(|t| image.updated.or(image.created).is_some_and(|u| u >= t))
            && self.min_ram_mb.is_none_or(|m| image.min_ram_mb.unwrap_or(0) >= m)
            && self.min_disk_gb.is_none_or(|m| image.min_disk_gb.unwrap_or(0) >= m)
            && eq(&self.server_id, &image.server_id)
            && self.zone.as_ref().is_none_or(|z| image.zones.iter().any(|have| have == z))
            && eq(&self.os, &image.os)
            && eq(&self.architecture, &image.architecture)
            && self.extra.iter().all(|(k, v)| image.extra.get(k.as_str()).is_some_and(|have| value_is(have, v)))
            && self.shown.iter().all(|condition| condition.matches(image))
    }
}

/// True when a JSON value's plain string form equals `want`.
fn value_is(have: &Value, want: &str) -> bool {
    match have {
        Value::String(s) => s == want,
        Value::Number(n) => n.to_string() == want,
        Value::Bool(b) => b.to_string() == want,
        _ => false,
    }
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

impl Sort {
    /// Orders two images by this sort's field and direction.
    pub fn compare(&self, a: &Image, b: &Image) -> std::cmp::Ordering {
        let ord = match self.field {
            SortField::Id => compare_ids(a.id.as_str(), b.id.as_str()),
            SortField::Name => a.name.cmp(&b.name),
            SortField::Created => a.created.cmp(&b.created),
            SortField::Updated => a.updated.cmp(&b.updated),
            SortField::Os => a.os.cmp(&b.os),
            SortField::Architecture => a.architecture.cmp(&b.architecture),
        };
        if self.descending { ord.reverse() } else { ord }
    }
}

/// Numeric ids order as numbers, others as strings.
fn compare_ids(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

impl ImageOp {
    /// The id an operation on one image names.
    pub fn image_id(&self) -> Option<&str> {
        match self {
            ImageOp::Show(id) => Some(id.as_str()),
            ImageOp::Write(write) => write.image_id().map(ImageId::as_str),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageId, ImageStatus};

    fn image() -> Image {
        Image {
            id: ImageId::new("250"),
            name: "CentOS Web".into(),
            status: ImageStatus::Active,
            public: Some(false),
            min_ram_mb: Some(512),
            zones: vec!["AUS001".into()],
            extra: [("gogrid.type".into(), Value::from("Web Server")), ("foreman.architecture_id".into(), 7.into())]
                .into(),
            ..Image::default()
        }
    }

    #[test]
    fn empty_filter_matches_everything() {
        assert!(Filter::default().is_empty());
        assert!(Filter::default().matches(&image()));
    }

    #[test]
    fn each_condition_can_exclude() {
        let img = image();
        let cases: Vec<(Filter, bool)> = vec![
            (Filter { name: Some("CentOS Web".into()), ..Default::default() }, true),
            (Filter { name: Some("centos web".into()), ..Default::default() }, false),
            (Filter { name_like: Some("os w".into()), ..Default::default() }, true),
            (Filter { min_ram_mb: Some(512), ..Default::default() }, true),
            (Filter { min_ram_mb: Some(1024), ..Default::default() }, false),
            (Filter { min_disk_gb: Some(1), ..Default::default() }, false),
            (Filter { zone: Some("AUS001".into()), ..Default::default() }, true),
            (Filter { zone: Some("TPA".into()), ..Default::default() }, false),
            (Filter { extra: vec![("gogrid.type".into(), "Web Server".into())], ..Default::default() }, true),
            (Filter { extra: vec![("foreman.architecture_id".into(), "7".into())], ..Default::default() }, true),
            (Filter { extra: vec![("gogrid.type".into(), "Database Server".into())], ..Default::default() }, false),
            (Filter { os: Some("CentOS".into()), ..Default::default() }, false),
        ];
        for (filter, expected) in cases {
            assert_eq!(filter.matches(&img), expected, "{filter:?}");
        }
    }

    #[test]
    fn numeric_ids_sort_as_numbers() {
        let sort = Sort { field: SortField::Id, descending: false };
        let a = Image { id: ImageId::new("9"), ..Image::default() };
        let b = Image { id: ImageId::new("10"), ..Image::default() };
        assert_eq!(sort.compare(&a, &b), std::cmp::Ordering::Less);
        let desc = Sort { descending: true, ..sort };
        assert_eq!(desc.compare(&a, &b), std::cmp::Ordering::Greater);
    }
}
