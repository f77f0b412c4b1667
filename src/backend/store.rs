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
    db: Database,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, GatewayError> {
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => GatewayError::internal(format!(
                "catalog file {} is in use by another process: the durable catalog is single-node, \
                 so each process needs a file of its own",
                path.display()
            )),
            e => storage(format!("cannot open catalog file {}", path.display()), e),
        })?;
        let txn = db.begin_write().map_err(|e| storage("cannot start a write", e))?;
        txn.open_table(IMAGES).map_err(|e| storage("cannot open the images table", e))?;
        txn.commit().map_err(|e| storage("cannot commit", e))?;
        Ok(Self { db })
    }

    /// Every stored image with its place in the catalog's order, in that order.
    pub fn load(&self) -> Result<Vec<(u64, Image)>, GatewayError> {
        let txn = self.db.begin_read().map_err(|e| storage("cannot start a read", e))?;
        let table = txn.open_table(IMAGES).map_err(|e| storage("cannot open the images table", e))?;
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

    /// Stores (or replaces) images and removes ids, all in one transaction.
    pub fn write(&self, put: &[(u64, &Image)], remove: &[&str]) -> Result<(), GatewayError> {
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
        }
        txn.commit().map_err(|e| storage("cannot commit", e))
    }
}

#[derive(Serialize)]
struct RowRef<'a> {
    seq: u64,
    image: &'a Image,
}

fn storage(what: impl Into<String>, e: impl std::error::Error + Send + Sync + 'static) -> GatewayError {
    GatewayError::internal(format!("catalog storage: {}", what.into())).with_cause(e)
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
            metadata: [("architecture".to_owned(), "x86_64".into())].into(),
            extra: [("gogrid.price".to_owned(), 0.5.into())].into(),
            ..Image::default()
        };
        let b = Image { id: ImageId::new("a-1"), name: "first".into(), ..Image::default() };
        {
            let store = Store::open(&path).unwrap();
            store.write(&[(2, &a), (1, &b)], &[]).unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.load().unwrap(), [(1, b.clone()), (2, a.clone())]);
        store.write(&[], &["a-1"]).unwrap();
        assert_eq!(store.load().unwrap(), [(2, a)]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
