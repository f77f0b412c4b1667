//! The embedded in-memory catalog. It starts with the sample images of the
//! four API documents, decoded by each dialect's own upstream codec, so every
//! image is visible through every dialect.
//!
//! Reads take a snapshot through `arc-swap`: no lock on the hot path.
//! Given a path, the catalog is durable: it is kept in a redb file, seeded
//! with the samples on first start.

use std::path::Path;

use arc_swap::ArcSwap;
use http::{HeaderMap, StatusCode};

use super::store::Store;
use crate::dialect::{Dialect, Outcome, UpstreamCall};
use crate::model::{GatewayError, GetMany, Image, ImageId, ImageOp, ListQuery, LookupKey, paginate};

/// The sample bodies the catalog starts with, each in its own dialect.
const SEED: [(Dialect, &str, &str); 4] = [
    (Dialect::Hostway, "133", include_str!("seed/hostway_133.json")),
    (Dialect::OpenStack, "70a599e0-31e7-49b7-b260-868f441e862b", include_str!("seed/openstack_70a599e0.json")),
    (Dialect::GoGrid, "250", include_str!("seed/gogrid_250.json")),
    (Dialect::Foreman, "", include_str!("seed/foreman_980190962.json")),
];

pub struct Catalog {
    images: ArcSwap<Vec<Image>>,
    store: Option<Store>,
}

impl Catalog {
    pub fn new(images: Vec<Image>) -> Self {
        Self { images: ArcSwap::from_pointee(images), store: None }
    }

    /// The catalog of the documents' sample images, in memory only.
    pub fn with_samples() -> Result<Self, GatewayError> {
        Ok(Self::new(sample_images()?))
    }

    /// A catalog kept in the redb file at `path`: what it holds, or the
    /// samples when it is new.
    pub fn open(path: &Path) -> Result<Self, GatewayError> {
        let store = Store::open(path)?;
        let mut images = store.load()?;
        if images.is_empty() {
            images = sample_images()?;
            let rows: Vec<(u64, &Image)> = images.iter().enumerate().map(|(i, image)| (i as u64, image)).collect();
            store.write(&rows, &[])?;
        }
        Ok(Self { images: ArcSwap::from_pointee(images), store: Some(store) })
    }

    /// True when what the catalog holds survives a restart.
    pub fn is_durable(&self) -> bool {
        self.store.is_some()
    }
}

/// The documents' sample images, decoded by each dialect's own codec.
fn sample_images() -> Result<Vec<Image>, GatewayError> {
    let mut images = Vec::new();
    for (dialect, id, body) in SEED {
        let call = if id.is_empty() {
            UpstreamCall::List {
                filter: Default::default(),
                sort: None,
                view: Default::default(),
                start: Default::default(),
                limit: None,
            }
        } else {
            UpstreamCall::Show(ImageId::new(id))
        };
        match dialect.upstream().decode(&call, StatusCode::OK, &HeaderMap::new(), body.as_bytes())? {
            Outcome::Image(image) => images.push(image),
            Outcome::Images(list) => images.extend(list),
            Outcome::List(page) => images.extend(page.images),
        }
    }
    Ok(images)
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.images.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn execute(&self, op: &ImageOp) -> Result<Outcome, GatewayError> {
        let images = self.images.load();
        match op {
            ImageOp::Show(id) => images
                .iter()
                .find(|image| image.id == *id)
                .cloned()
                .map(Outcome::Image)
                .ok_or_else(|| GatewayError::image_not_found(id.as_str())),
            ImageOp::GetMany(get) => Ok(Outcome::Images(get_many(&images, get))),
            ImageOp::List(query) => list(&images, query),
        }
    }
}

fn list(images: &[Image], query: &ListQuery) -> Result<Outcome, GatewayError> {
    paginate(images, query, &query.filter).map(Outcome::List)
}

/// The images a get-many names, in the order named, each once.
fn get_many(images: &[Image], get: &GetMany) -> Vec<Image> {
    let mut found: Vec<Image> = Vec::new();
    for value in &get.values {
        for image in images.iter().filter(|image| lookup_matches(image, get.key, value)) {
            if !found.iter().any(|f| f.id == image.id) {
                found.push(image.clone());
            }
        }
    }
    found
}

/// Names match the display name or GoGrid's unique system name.
fn lookup_matches(image: &Image, key: LookupKey, value: &str) -> bool {
    let by_id = image.id.as_str() == value;
    let by_name = image.name == value || image.extra_str("gogrid.name") == Some(value);
    match key {
        LookupKey::Id => by_id,
        LookupKey::Name => by_name,
        LookupKey::IdOrName => by_id || by_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, Filter, PageRequest, PageStart};

    fn catalog() -> Catalog {
        Catalog::with_samples().expect("the sample bodies decode")
    }

    #[test]
    fn starts_with_the_documents_sample_images() {
        let ids: Vec<String> = catalog().images.load().iter().map(|i| i.id.to_string()).collect();
        assert_eq!(ids, ["133", "70a599e0-31e7-49b7-b260-868f441e862b", "250", "980190962", "298486374"]);
    }

    #[test]
    fn show_finds_by_id_and_reports_missing_ones() {
        let c = catalog();
        match c.execute(&ImageOp::Show(ImageId::new("250"))).unwrap() {
            Outcome::Image(image) => assert_eq!(image.name, "n"),
            other => panic!("unexpected {other:?}"),
        }
        let err = c.execute(&ImageOp::Show(ImageId::new("nope"))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound { resource: "image", id: "nope".into() });
    }

    #[test]
    fn get_many_keeps_the_order_asked_and_skips_unknowns() {
        let c = catalog();
        let get = GetMany { key: LookupKey::IdOrName, values: vec!["298486374".into(), "x".into(), "centos-1".into()] };
        let Outcome::Images(found) = c.execute(&ImageOp::GetMany(get)).unwrap() else { panic!() };
        let ids: Vec<&str> = found.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["298486374", "980190962"]);
        let by_system_name =
            GetMany { key: LookupKey::Name, values: vec!["GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e".into()] };
        let Outcome::Images(found) = c.execute(&ImageOp::GetMany(by_system_name)).unwrap() else { panic!() };
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id.as_str(), "250");
    }

    #[test]
    fn lists_page_and_count() {
        let c = catalog();
        let query = ListQuery {
            filter: Filter { name_like: Some("centos".into()), ..Filter::default() },
            page: PageRequest { start: PageStart::Offset(1), limit: Some(1) },
            ..ListQuery::default()
        };
        let Outcome::List(page) = c.execute(&ImageOp::List(query)).unwrap() else { panic!() };
        assert_eq!(page.images.len(), 1);
        assert_eq!(page.images[0].name, "centos-2");
        assert_eq!((page.offset, page.matched, page.total, page.more), (Some(1), Some(2), Some(5), false));
    }
}
