//! The embedded in-memory catalog. It starts with the sample images of the
//! four API documents, decoded by each dialect's own upstream codec, so every
//! image is visible through every dialect.
//!
//! Reads take a snapshot through `arc-swap`: no lock on the hot path.
//! Given a path, the catalog is durable: it is kept in a redb file, seeded
//! with the samples only when the file is created. Numeric ids are never
//! given twice: the next one is kept in the file. A write copies the list of
//! pointers to images (bounded by `max_images`) and only the image it
//! changes, so that readers never wait and writers copy little.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use http::{HeaderMap, StatusCode};
use time::OffsetDateTime;

use super::store::Store;
use crate::dialect::profile::Seed;
use crate::dialect::{Dialect, UpstreamCall};
use crate::model::{
    ErrorKind, GatewayError, GetMany, Image, ImageId, ImageOp, ImageStatus, ListQuery, LookupKey, Outcome, Resource,
    Side, Text, Unique, WriteOp, paginate,
};

pub struct Catalog {
    images: ArcSwap<Vec<Arc<Image>>>,
    /// Held by writers only: reads never wait for it.
    writer: Mutex<Order>,
    /// One commit at a time is all redb runs: the others wait here, as tasks,
    /// rather than each holding a blocking thread (and its heap) while queued.
    commit_turn: tokio::sync::Semaphore,
    store: Option<Store>,
    /// Most images held; creates past it are refused.
    max_images: usize,
    /// Largest image, as stored; writes past it are refused.
    max_image_bytes: usize,
}

/// Each image's place in the catalog's order, for the store, and the next
/// numeric id to give.
#[derive(Default)]
struct Order {
    seq: HashMap<ImageId, u64>,
    next: u64,
    next_id: u64,
}

impl Order {
    fn of(rows: &[(u64, Image)], stored_next_id: u64) -> Self {
        let seq: HashMap<ImageId, u64> = rows.iter().map(|(seq, image)| (image.id.clone(), *seq)).collect();
        let next = rows.iter().map(|(seq, _)| seq + 1).max().unwrap_or(0);
        let past_max =
            rows.iter().filter_map(|(_, image)| image.id.as_number()).max().map_or(1, |n| n.max(0) as u64 + 1);
        Self { seq, next, next_id: stored_next_id.max(past_max) }
    }

    fn place(&mut self, id: &ImageId) -> u64 {
        if let Some(seq) = self.seq.get(id) {
            return *seq;
        }
        let seq = self.next;
        self.next += 1;
        self.seq.insert(id.clone(), seq);
        seq
    }
}

impl Catalog {
    pub fn new(images: Vec<Image>) -> Self {
        Self::from_rows(numbered(images), None, 0)
    }

    fn from_rows(rows: Vec<(u64, Image)>, store: Option<Store>, next_id: u64) -> Self {
        let writer = Mutex::new(Order::of(&rows, next_id));
        let images = rows.into_iter().map(|(_, image)| Arc::new(image)).collect();
        let (max_images, max_image_bytes) = (usize::MAX, usize::MAX);
        let commit_turn = tokio::sync::Semaphore::new(1);
        Self { images: ArcSwap::from_pointee(images), writer, commit_turn, store, max_images, max_image_bytes }
    }

    /// The same catalog, refusing creates past `images` images and writes of
    /// images larger than `image_bytes` as stored.
    pub fn with_bounds(mut self, images: usize, image_bytes: usize) -> Self {
        (self.max_images, self.max_image_bytes) = (images, image_bytes);
        self
    }

    /// The catalog of the documents' sample images, in memory only.
    pub fn with_samples() -> Result<Self, GatewayError> {
        Ok(Self::new(sample_images()?))
    }

    /// A catalog kept in the redb file at `path`: what it holds, or the
    /// samples when it is new.
    pub fn open(path: &Path) -> Result<Self, GatewayError> {
        let (store, created) = Store::open(path)?;
        if created {
            let rows = numbered(sample_images()?);
            let next_id = Order::of(&rows, 0).next_id;
            let put: Vec<(u64, &Image)> = rows.iter().map(|(seq, image)| (*seq, image)).collect();
            store.write(&put, &[], next_id)?;
            return Ok(Self::from_rows(rows, Some(store), next_id));
        }
        let (rows, next_id) = (store.load()?, store.next_id()?);
        Ok(Self::from_rows(rows, Some(store), next_id))
    }

    /// Refuses a catalog file that exists but cannot be opened and read; a
    /// missing one is fine, it will be created, and one a running gateway
    /// holds open is its own.
    pub fn check(path: &Path) -> Result<(), GatewayError> {
        if !path.exists() {
            return Ok(());
        }
        match Store::open(path) {
            Err(e) if Store::is_in_use(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    /// The turn to commit a durable write: held while the write runs.
    pub async fn commit_turn(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.commit_turn.acquire().await.expect("the commit semaphore is never closed")
    }

    /// True when what the catalog holds survives a restart.
    pub fn is_durable(&self) -> bool {
        self.store.is_some()
    }

    pub fn len(&self) -> usize {
        self.images.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn execute(&self, op: &ImageOp) -> Result<Outcome, GatewayError> {
        let images = self.images.load();
        match op {
            ImageOp::Show(id) => find(&images, id).map(|image| Outcome::Image(image.clone())),
            ImageOp::GetMany(get) => Ok(Outcome::Images(get_many(&images, get))),
            ImageOp::List(query) => list(&images, query),
            ImageOp::Write(write) => {
                let written = self.write(write);
                let labels = crate::metrics::ResultLabels::of(written.is_ok());
                crate::metrics::metrics().catalog_writes.get_or_create(labels).inc();
                written
            }
        }
    }

    /// Refuses an image larger, as stored, than `max_image_bytes`.
    fn check_size(&self, image: &Image) -> Result<(), GatewayError> {
        let size = serde_json::to_vec(image).map_or(usize::MAX, |row| row.len());
        if size <= self.max_image_bytes {
            return Ok(());
        }
        let message = format!("the image would take {size} bytes, more than the catalog's {}", self.max_image_bytes);
        Err(GatewayError::new(ErrorKind::PayloadTooLarge, Side::Downstream, message))
    }

    /// Carries out a change on a copy of the catalog, stores it, and only
    /// then makes it visible: a failure leaves no half-state behind.
    fn write(&self, op: &WriteOp) -> Result<Outcome, GatewayError> {
        let mut order = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let creates = matches!(op, WriteOp::Snapshot(_) | WriteOp::Register(..));
        if creates && self.len() >= self.max_images {
            return Err(GatewayError::new(
                ErrorKind::Conflict,
                Side::Downstream,
                format!("the catalog holds its most images ({})", self.max_images),
            ));
        }
        let mut images: Vec<Arc<Image>> = self.images.load().as_ref().clone();
        let new_id = ImageId::new(order.next_id.to_string());
        let change = apply(&mut images, op, new_id, OffsetDateTime::now_utc())?;
        for image in change.put.iter().filter_map(|id| find(&images, id).ok()) {
            self.check_size(image)?;
        }
        if creates {
            order.next_id += 1;
        }
        if change.put.is_empty() && change.removed.is_empty() {
            return Ok(change.outcome);
        }
        if let Some(store) = &self.store {
            let put: Vec<(u64, &Image)> = change
                .put
                .iter()
                .filter_map(|id| find(&images, id).ok())
                .map(|image| (order.place(&image.id), image))
                .collect();
            let removed: Vec<&str> = change.removed.iter().map(ImageId::as_str).collect();
            store.write(&put, &removed, order.next_id)?;
        } else {
            for id in &change.put {
                order.place(id);
            }
        }
        for id in &change.removed {
            order.seq.remove(id);
        }
        self.images.store(Arc::new(images));
        Ok(change.outcome)
    }
}

/// What a write did: the images it stored or removed, and its outcome.
struct Change {
    put: Vec<ImageId>,
    removed: Vec<ImageId>,
    outcome: Outcome,
}

impl Change {
    fn put(id: &ImageId, outcome: Outcome) -> Self {
        Self { put: vec![id.clone()], removed: Vec::new(), outcome }
    }
}

fn find<'a>(images: &'a [Arc<Image>], id: &ImageId) -> Result<&'a Image, GatewayError> {
    images
        .iter()
        .find(|image| image.id == *id)
        .map(AsRef::as_ref)
        .ok_or_else(|| GatewayError::image_not_found(id.as_str()))
}

/// The image to change: a copy of it alone, when readers still hold it.
fn find_mut<'a>(images: &'a mut [Arc<Image>], id: &ImageId) -> Result<&'a mut Image, GatewayError> {
    images
        .iter_mut()
        .find(|image| image.id == *id)
        .map(Arc::make_mut)
        .ok_or_else(|| GatewayError::image_not_found(id.as_str()))
}

/// Images numbered in their order.
fn numbered(images: Vec<Image>) -> Vec<(u64, Image)> {
    images.into_iter().enumerate().map(|(i, image)| (i as u64, image)).collect()
}

/// Applies one write to the catalog's images; a created image gets `new_id`,
/// numeric so that the dialects with numeric ids (GoGrid, Foreman) can name it.
fn apply(
    images: &mut Vec<Arc<Image>>,
    op: &WriteOp,
    new_id: ImageId,
    now: OffsetDateTime,
) -> Result<Change, GatewayError> {
    match op {
        WriteOp::Snapshot(snapshot) => {
            let id = if snapshot.uuid_id { ImageId::new(uuid::Uuid::new_v4().to_string()) } else { new_id };
            let image = Image {
                id,
                name: snapshot.name.as_str().into(),
                status: ImageStatus::Active,
                created: Some(now),
                updated: Some(now),
                description: snapshot.description.as_deref().map(Text::from),
                public: Some(false),
                server_id: Some(snapshot.server_id.as_str().into()),
                metadata: snapshot.metadata.clone(),
                ..Image::default()
            };
            let change = Change::put(&image.id, Outcome::Image(image.clone()));
            images.push(Arc::new(image));
            Ok(change)
        }
        WriteOp::Register(given, checks) => {
            let mut image = Image { id: new_id, created: Some(now), updated: Some(now), ..given.clone() };
            for reference in &checks.references {
                match images.iter().find(|known| reference.shown_by.matches(known)) {
                    Some(shown) => (reference.adopt.0)(shown, &mut image),
                    None if reference.optional => {}
                    None => {
                        // the write cannot be carried out as given, as with a taken value
                        let message = format!("could not find {} with id: {}", reference.record, reference.id);
                        return Err(GatewayError::new(ErrorKind::Conflict, Side::Downstream, message));
                    }
                }
            }
            // the references are read as the record is built, before it is validated
            let takes = |unique: &Unique, other: &Image| {
                unique.taken.matches(other) && unique.alike.is_none_or(|alike| (alike.0)(&image, other))
            };
            if let Some(taken) = checks.unique.iter().find(|u| images.iter().any(|other| takes(u, other))) {
                let message = format!("{} has already been taken", taken.field);
                return Err(GatewayError::new(ErrorKind::Conflict, Side::Downstream, message));
            }
            let change = Change::put(&image.id, Outcome::Image(image.clone()));
            images.push(Arc::new(image));
            Ok(change)
        }
        WriteOp::Update { id, patch } => {
            let image = find_mut(images, id)?;
            let before = image.clone();
            patch.apply(image);
            if *image == before {
                // an update that changes nothing writes nothing, and the image keeps its time
                return Ok(Change { put: Vec::new(), removed: Vec::new(), outcome: Outcome::Image(before) });
            }
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Image(image.clone())))
        }
        WriteOp::Delete { id, trash: true } => {
            let image = find_mut(images, id)?;
            image.status = ImageStatus::Trashed;
            image.backend_status = None;
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Image(image.clone())))
        }
        WriteOp::Delete { id, trash: false } => {
            let at = images.iter().position(|image| image.id == *id);
            let mut image =
                Arc::unwrap_or_clone(images.remove(at.ok_or_else(|| GatewayError::image_not_found(id.as_str()))?));
            image.status = ImageStatus::Deleted;
            image.backend_status = None;
            Ok(Change { put: Vec::new(), removed: vec![id.clone()], outcome: Outcome::Image(image) })
        }
        WriteOp::Restore(id) => {
            let image = find_mut(images, id)?;
            if image.status != ImageStatus::Trashed {
                return Err(GatewayError::new(
                    ErrorKind::Conflict,
                    Side::Downstream,
                    format!("image {id} is not in the trash"),
                ));
            }
            image.status = ImageStatus::Active;
            image.backend_status = None;
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Image(image.clone())))
        }
        WriteOp::SetMetadata { id, items, replace } => {
            let image = find_mut(images, id)?;
            if *replace {
                image.metadata.clone_from(items);
            } else {
                image.metadata.extend(items.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Metadata(image.metadata.clone())))
        }
        WriteOp::SetMetadataItem { id, key, value } => {
            let image = find_mut(images, id)?;
            image.metadata.insert(key.as_str().into(), value.clone());
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Metadata([(key.as_str().into(), value.clone())].into())))
        }
        WriteOp::DeleteMetadataItem { id, key } => {
            let image = find_mut(images, id)?;
            if image.metadata.remove(key.as_str()).is_none() {
                let kind = ErrorKind::NotFound { resource: Resource::MetadataItem, id: key.clone() };
                return Err(GatewayError::new(
                    kind,
                    Side::Downstream,
                    format!("image {id} has no metadata item {key}"),
                ));
            }
            image.updated = Some(now);
            Ok(Change::put(id, Outcome::Done))
        }
    }
}

/// The documents' sample images, decoded by each dialect's own codec.
fn sample_images() -> Result<Vec<Image>, GatewayError> {
    let mut images = Vec::new();
    for dialect in Dialect::ALL {
        let Some(Seed { id, body }) = dialect.profile().seed() else { continue };
        let call = match id {
            Some(id) => UpstreamCall::Show(ImageId::new(id)),
            None => UpstreamCall::List {
                filter: Default::default(),
                sort: None,
                view: Default::default(),
                start: Default::default(),
                limit: None,
            },
        };
        match dialect.upstream().decode(&call, StatusCode::OK, &HeaderMap::new(), body.as_bytes())? {
            Outcome::Image(image) => images.push(image),
            Outcome::Images(list) => images.extend(list),
            Outcome::List(page) => images.extend(page.images),
            Outcome::Metadata(_) | Outcome::Done => {}
        }
    }
    Ok(images)
}

fn list(images: &[Arc<Image>], query: &ListQuery) -> Result<Outcome, GatewayError> {
    paginate(images, query, &query.filter).map(Outcome::List)
}

/// The images a get-many names, in the order named, each once.
fn get_many(images: &[Arc<Image>], get: &GetMany) -> Vec<Image> {
    let mut found: Vec<Image> = Vec::new();
    for value in &get.values {
        for image in images.iter().filter(|image| lookup_matches(image, get, value)) {
            if !found.iter().any(|f| f.id == image.id) {
                found.push(Image::clone(image));
            }
        }
    }
    found
}

/// Names match the unique name the caller's edge shows, else the display
/// name or GoGrid's unique system name.
fn lookup_matches(image: &Image, get: &GetMany, value: &str) -> bool {
    let by_id = image.id.as_str() == value;
    let by_name = match get.shown_name {
        Some(shown) => shown.matches(image, value),
        None => image.name == value || image.extra_str("gogrid.name") == Some(value),
    };
    match get.key {
        LookupKey::Id => by_id,
        LookupKey::Name => by_name,
        LookupKey::IdOrName => by_id || by_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Filter, ImagePatch, PageRequest, PageStart, Snapshot};

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
        assert_eq!(err.kind, ErrorKind::NotFound { resource: Resource::Image, id: "nope".into() });
    }

    #[test]
    fn get_many_keeps_the_order_asked_and_skips_unknowns() {
        let c = catalog();
        let get = GetMany {
            key: LookupKey::IdOrName,
            values: vec!["298486374".into(), "x".into(), "centos-1".into()],
            shown_name: None,
        };
        let Outcome::Images(found) = c.execute(&ImageOp::GetMany(get)).unwrap() else { panic!() };
        let ids: Vec<&str> = found.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["298486374", "980190962"]);
        let by_system_name = GetMany {
            key: LookupKey::Name,
            values: vec!["GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e".into()],
            shown_name: None,
        };
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

    fn write(c: &Catalog, op: WriteOp) -> Result<Outcome, GatewayError> {
        c.execute(&ImageOp::Write(op))
    }

    fn shown(c: &Catalog, id: &str) -> Result<Image, GatewayError> {
        match c.execute(&ImageOp::Show(ImageId::new(id)))? {
            Outcome::Image(image) => Ok(image),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn new_images_get_the_next_numeric_id() {
        let c = catalog();
        let snapshot = Snapshot { server_id: "srv-1".into(), name: "nightly".into(), ..Snapshot::default() };
        let Outcome::Image(saved) = write(&c, WriteOp::Snapshot(snapshot)).unwrap() else { panic!() };
        assert_eq!(saved.id.as_str(), "980190963");
        assert_eq!(saved.server_id.as_deref(), Some("srv-1"));
        assert_eq!(shown(&c, "980190963").unwrap(), saved);
        let Outcome::Image(registered) =
            write(&c, WriteOp::Register(Image { name: "tpl".into(), ..Image::default() }, Default::default())).unwrap()
        else {
            panic!()
        };
        assert_eq!(registered.id.as_str(), "980190964");
        assert!(registered.created.is_some());
    }

    #[test]
    fn a_deleted_id_is_never_given_again() {
        let c = catalog();
        let register = || WriteOp::Register(Image { name: "tpl".into(), ..Image::default() }, Default::default());
        let Outcome::Image(first) = write(&c, register()).unwrap() else { panic!() };
        write(&c, WriteOp::Delete { id: first.id.clone(), trash: false }).unwrap();
        let Outcome::Image(second) = write(&c, register()).unwrap() else { panic!() };
        assert_ne!(second.id, first.id);
    }

    #[test]
    fn creates_past_the_image_bound_and_images_past_the_size_bound_are_refused() {
        let c = catalog().with_bounds(catalog().len() + 1, 4096);
        let named =
            |name: String| WriteOp::Register(Image { name: name.into(), ..Image::default() }, Default::default());
        let err = write(&c, named("n".repeat(5000))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::PayloadTooLarge, "{err}");
        assert_eq!(c.len(), catalog().len(), "nothing was added");
        write(&c, named("fits".into())).unwrap();
        let err = write(&c, named("one too many".into())).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict, "{err}");
    }

    #[test]
    fn a_snapshot_named_by_uuid_gets_a_fresh_uuid() {
        let c = catalog();
        let snapshot = Snapshot { server_id: "s".into(), name: "n".into(), uuid_id: true, ..Snapshot::default() };
        let Outcome::Image(saved) = write(&c, WriteOp::Snapshot(snapshot)).unwrap() else { panic!() };
        let id = uuid::Uuid::parse_str(saved.id.as_str()).expect("a uuid");
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(shown(&c, saved.id.as_str()).unwrap(), saved);
    }

    #[test]
    fn trash_is_restorable_and_a_hard_delete_is_not() {
        let c = catalog();
        write(&c, WriteOp::Delete { id: ImageId::new("250"), trash: true }).unwrap();
        assert_eq!(shown(&c, "250").unwrap().status, ImageStatus::Trashed);
        write(&c, WriteOp::Restore(ImageId::new("250"))).unwrap();
        assert_eq!(shown(&c, "250").unwrap().status, ImageStatus::Active);
        let err = write(&c, WriteOp::Restore(ImageId::new("250"))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);

        let Outcome::Image(gone) = write(&c, WriteOp::Delete { id: ImageId::new("133"), trash: false }).unwrap() else {
            panic!()
        };
        assert_eq!((gone.id.as_str(), gone.status), ("133", ImageStatus::Deleted));
        assert!(matches!(shown(&c, "133").unwrap_err().kind, ErrorKind::NotFound { .. }));
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn metadata_merges_replaces_and_removes() {
        let c = catalog();
        let id = ImageId::new("70a599e0-31e7-49b7-b260-868f441e862b");
        let items = [("kernel_id".into(), "k2".into()), ("new".into(), "v".into())].into();
        let Outcome::Metadata(merged) =
            write(&c, WriteOp::SetMetadata { id: id.clone(), items, replace: false }).unwrap()
        else {
            panic!()
        };
        assert_eq!(merged.len(), 5);
        assert_eq!(merged["kernel_id"], "k2");
        let only = [("a".into(), "b".into())].into();
        write(&c, WriteOp::SetMetadata { id: id.clone(), items: only, replace: true }).unwrap();
        assert_eq!(shown(&c, id.as_str()).unwrap().metadata.len(), 1);
        let missing = write(&c, WriteOp::DeleteMetadataItem { id: id.clone(), key: "zz".into() }).unwrap_err();
        assert_eq!(missing.kind, ErrorKind::NotFound { resource: Resource::MetadataItem, id: "zz".into() });
        assert_eq!(write(&c, WriteOp::DeleteMetadataItem { id, key: "a".into() }).unwrap(), Outcome::Done);
    }

    #[test]
    fn an_update_that_changes_nothing_writes_nothing() {
        let c = catalog();
        let before = shown(&c, "980190962").unwrap();
        let same_name = ImagePatch { name: Some(before.name.to_string()), ..ImagePatch::default() };
        for patch in [ImagePatch::default(), same_name] {
            let Outcome::Image(after) = write(&c, WriteOp::Update { id: ImageId::new("980190962"), patch }).unwrap()
            else {
                panic!()
            };
            assert_eq!(after, before);
            assert_eq!(shown(&c, "980190962").unwrap(), before, "updated_at did not move");
        }
    }

    #[test]
    fn a_failed_write_changes_nothing() {
        let c = catalog();
        let patch = ImagePatch { name: Some("x".into()), ..ImagePatch::default() };
        let err = write(&c, WriteOp::Update { id: ImageId::new("nope"), patch }).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::NotFound { .. }));
        assert_eq!(c.len(), 5);
    }

    #[test]
    fn a_durable_catalog_keeps_writes_and_order_across_reopening() {
        let dir = std::env::temp_dir().join(format!("dragoman-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalog.redb");
        let _ = std::fs::remove_file(&path);
        {
            let c = Catalog::open(&path).unwrap();
            let patch = ImagePatch { name: Some("renamed".into()), ..ImagePatch::default() };
            write(&c, WriteOp::Update { id: ImageId::new("250"), patch }).unwrap();
            write(&c, WriteOp::Delete { id: ImageId::new("133"), trash: false }).unwrap();
            let snapshot = Snapshot { server_id: "s".into(), name: "new".into(), ..Snapshot::default() };
            write(&c, WriteOp::Snapshot(snapshot)).unwrap();
        }
        let c = Catalog::open(&path).unwrap();
        let ids: Vec<String> = c.images.load().iter().map(|i| i.id.to_string()).collect();
        assert_eq!(ids, ["70a599e0-31e7-49b7-b260-868f441e862b", "250", "980190962", "298486374", "980190963"]);
        assert_eq!(shown(&c, "250").unwrap().name, "renamed");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_file_whose_redb_tables_are_corrupt_is_refused_without_a_panic_and_left_untouched() {
        let dir = std::env::temp_dir().join(format!("dragoman-corrupt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalog.redb");
        let _ = std::fs::remove_file(&path);
        drop(Catalog::open(&path).unwrap());
        // one byte of a table definition in redb's system table (redb 4.6's
        // layout of a new catalog): redb panics on it — in a debug build as
        // it reads the table, in a release build only as it commits, and
        // closing the file commits
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[4629], 111, "the layout of a new catalog file changed: find another byte");
        bytes[4629] = 212;
        std::fs::write(&path, &bytes).unwrap();
        let err = Catalog::check(&path).unwrap_err();
        assert!(err.message.contains("is corrupt: redb failed reading it"), "{err}");
        assert!(Catalog::open(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is left untouched");
        let _ = std::fs::remove_dir_all(dir);
    }
}
