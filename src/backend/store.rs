//! The durable form of the catalog: one redb file, one row per image, each
//! write one committed transaction, so a crash (even `kill -9`) mid-write
//! leaves either the old image or the new one, never half of either.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::model::{GatewayError, Image};

/// Image id → stored row.
const IMAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("images");

/// A stored image and its place in the catalog's order.
#[derive(Serialize, Deserialize)]
struct Row {
    seq: u64,
    image: Image,
}

pub struct Store {
    db: Closing,
}

/// The open database, closed without a panic: redb commits when it closes
/// a file, and that commit panics on some corrupt files.
struct Closing(Option<Database>);

impl std::ops::Deref for Closing {
    type Target = Database;

    fn deref(&self) -> &Database {
        self.0.as_ref().expect("the database is open until the store is dropped")
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            let _ = without_panics("closing it", || {
                drop(db);
                Ok(())
            });
        }
    }
}

/// redb's page cache, in bytes. The catalog serves reads from memory, so
/// redb reads the file once, at start; after that its cache only holds the
/// pages writes touch. With redb's default (1 GiB) the start alone would keep
/// every page of a large catalog file cached, beside the catalog itself.
const CACHE_BYTES: usize = 4 << 20;

/// Catalog facts beside the images: the next numeric id to give.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_id";

impl Store {
    /// Opens the catalog file at `path`, or creates it when there is none
    /// (then `created` is true). A file that is not a catalog — empty,
    /// corrupt, some other database — is refused with redb's reason and
    /// left as it is: never re-seeded, never a panic.
    pub fn open(path: &Path) -> Result<(Self, bool), GatewayError> {
        let at = path.display();
        let created = !path.exists();
        let db = without_panics(&format!("catalog file {at}"), || {
            let mut builder = Database::builder();
            builder.set_cache_size(CACHE_BYTES);
            let db = if created { builder.create(path) } else { builder.open(path) };
            let db = db.map_err(|e| open_error(path, e))?;
            if created {
                let txn = db.begin_write().map_err(|e| storage("cannot start a write", e))?;
                txn.open_table(IMAGES).map_err(|e| storage("cannot create the images table", e))?;
                txn.open_table(META).map_err(|e| storage("cannot create the meta table", e))?;
                txn.commit().map_err(|e| storage("cannot commit", e))?;
            }
            Ok(db)
        })?;
        let store = Self { db: Closing(Some(db)) };
        if !created {
            // reads every row once, and commits nothing as closing the file
            // would: a corrupt page, or a corrupt allocator state that only a
            // write reads, is found now, not on first use
            without_panics(&format!("catalog file {at}"), || {
                store.load()?;
                let txn = store.db.begin_write().map_err(|e| storage("cannot start a write", e))?;
                txn.commit().map_err(|e| storage("cannot commit", e))
            })?;
        }
        Ok((store, created))
    }

    /// True when opening failed because another process holds the file open.
    pub fn is_in_use(e: &GatewayError) -> bool {
        let cause = e.cause.as_deref().and_then(|c| c.downcast_ref::<redb::DatabaseError>());
        matches!(cause, Some(redb::DatabaseError::DatabaseAlreadyOpen))
    }

    /// Every stored image with its place in the catalog's order, in that order.
    pub fn load(&self) -> Result<Vec<(u64, Image)>, GatewayError> {
        let txn = self.db.begin_read().map_err(|e| storage("cannot start a read", e))?;
        let table = txn.open_table(IMAGES).map_err(|e| storage("not a dragoman catalog: no images table", e))?;
        let mut rows = Vec::new();
        for entry in table.iter().map_err(|e| storage("cannot read images", e))? {
            let (_, value) = entry.map_err(|e| storage("cannot read an image", e))?;
            let row: Row =
                serde_json::from_slice(value.value()).map_err(|e| storage("a stored image is corrupt", e))?;
            rows.push(row);
        }
        rows.sort_by_key(|row| row.seq);
        Ok(rows.into_iter().map(|row| (row.seq, row.image)).collect())
    }

    /// The next numeric id the catalog gives, 0 when none was stored.
    pub fn next_id(&self) -> Result<u64, GatewayError> {
        let txn = self.db.begin_read().map_err(|e| storage("cannot start a read", e))?;
        let table = match txn.open_table(META) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(storage("cannot open the meta table", e)),
        };
        Ok(table.get(NEXT_ID).map_err(|e| storage("cannot read the next id", e))?.map_or(0, |v| v.value()))
    }

    /// Stores (or replaces) images, removes ids and records the next id, all
    /// in one transaction.
    pub fn write(&self, put: &[(u64, &Image)], remove: &[&str], next_id: u64) -> Result<(), GatewayError> {
        let txn = self.db.begin_write().map_err(|e| storage("cannot start a write", e))?;
        {
            let mut table = txn.open_table(IMAGES).map_err(|e| storage("cannot open the images table", e))?;
            for (seq, image) in put {
                let row = serde_json::to_vec(&RowRef { seq: *seq, image })
                    .map_err(|e| storage("cannot encode an image", e))?;
                table.insert(image.id.as_str(), row.as_slice()).map_err(|e| storage("cannot store an image", e))?;
            }
            for id in remove {
                table.remove(*id).map_err(|e| storage("cannot remove an image", e))?;
            }
            let mut meta = txn.open_table(META).map_err(|e| storage("cannot open the meta table", e))?;
            meta.insert(NEXT_ID, next_id).map_err(|e| storage("cannot store the next id", e))?;
        }
        txn.commit().map_err(|e| storage("cannot commit", e))
    }
}

/// Why a catalog file did not open: in use by another process (each
/// process needs a file of its own), or redb's reason.
fn open_error(path: &Path, e: redb::DatabaseError) -> GatewayError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => GatewayError::internal(format!(
            "catalog file {} is in use by another process: the durable catalog is single-node, \
             so each process needs a file of its own",
            path.display()
        ))
        .with_cause(e),
        e => storage(format!("cannot open catalog file {}", path.display()), e),
    }
}

/// Runs `open`, turning a panic inside redb (which some corrupt files
/// cause) into an error naming `what`; the panic message is not printed.
fn without_panics<T>(what: &str, open: impl FnOnce() -> Result<T, GatewayError>) -> Result<T, GatewayError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(open));
    std::panic::set_hook(hook);
    outcome.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        Err(GatewayError::internal(format!("catalog storage: {what} is corrupt: redb failed reading it ({reason})")))
    })
}

#[derive(Serialize)]
struct RowRef<'a> {
    seq: u64,
    image: &'a Image,
}

/// A storage error whose message carries redb's own reason.
fn storage(what: impl Into<String>, e: impl std::error::Error + Send + Sync + 'static) -> GatewayError {
    GatewayError::internal(format!("catalog storage: {}: {e}", what.into())).with_cause(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageId, ImageStatus};

    #[test]
    fn images_survive_reopening_in_order() {
        let dir = std::env::temp_dir().join(format!("dragoman-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalog.redb");
        let a = Image {
            id: ImageId::new("b-2"),
            name: "second".into(),
            status: ImageStatus::Trashed,
            created: Some(time::macros::datetime!(2011-09-30 02:38:57 UTC)),
            metadata: [("architecture".into(), "x86_64".into())].into(),
            extra: [("gogrid.price".into(), 0.5.into())].into(),
            ..Image::default()
        };
        let b = Image { id: ImageId::new("a-1"), name: "first".into(), ..Image::default() };
        let _ = std::fs::remove_file(&path);
        {
            let (store, created) = Store::open(&path).unwrap();
            assert!(created);
            store.write(&[(2, &a), (1, &b)], &[], 7).unwrap();
        }
        let (store, created) = Store::open(&path).unwrap();
        assert!(!created);
        assert_eq!(store.load().unwrap(), [(1, b.clone()), (2, a.clone())]);
        store.write(&[], &["a-1"], 8).unwrap();
        assert_eq!(store.load().unwrap(), [(2, a)]);
        assert_eq!(store.next_id().unwrap(), 8);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn files_that_are_not_catalogs_are_refused_and_left_untouched() {
        let dir = std::env::temp_dir().join(format!("dragoman-store-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("catalog.redb");
        let _ = std::fs::remove_file(&path);
        drop(Store::open(&path).unwrap());
        let good = std::fs::read(&path).unwrap();
        let mut corrupt: Vec<Vec<u8>> = vec![Vec::new(), b"not a database".to_vec()];
        // deterministic corruptions: bytes flipped across the whole file
        for step in 1..30usize {
            let mut bytes = good.clone();
            let at = (step * 7919) % bytes.len();
            for b in &mut bytes[at..(at + 64).min(good.len())] {
                *b ^= 0x5a;
            }
            corrupt.push(bytes);
        }
        let mut refused = 0;
        for bytes in corrupt {
            std::fs::write(&path, &bytes).unwrap();
            match Store::open(&path) {
                Err(e) => {
                    assert!(e.message.contains("catalog"), "{e}");
                    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is left as it was");
                    refused += 1;
                }
                // a flip in unused space leaves a valid catalog
                Ok((store, created)) => assert!(!created && store.load().is_ok()),
            }
        }
        assert!(refused >= 2, "the empty and foreign files at least");
        let _ = std::fs::remove_dir_all(dir);
    }
}
