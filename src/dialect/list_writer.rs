//! A list reply written image by image: the same bytes whether the list is
//! whole in memory or streamed as the upstream's reply arrives
//! (`docs/PERFORMANCE.md`, "Streamed lists").

use super::{Reply, ReplyBody};
use crate::model::{Image, ImageId};

/// How an edge writes a list reply whose shape needs nothing before its
/// images that only the whole list knows (no count, no total): its head,
/// each image, then its tail.
pub trait ListWriter: Send + Sync {
    /// Roughly what one image takes, to size buffers.
    fn image_bytes(&self) -> usize;
    /// Everything before the first image.
    fn head(&self, out: &mut Vec<u8>);
    /// One image; `first` when no image came before it.
    fn image(&self, out: &mut Vec<u8>, image: &Image, first: bool);
    /// Everything after the last image: `more` when images follow this
    /// page, `last` the id of the last image written.
    fn tail(&self, out: &mut Vec<u8>, more: bool, last: Option<&ImageId>);
    /// The reply around a list body: its status and headers.
    fn reply(&self, body: ReplyBody) -> Reply;

    /// The whole reply for a list held in memory.
    fn whole(&self, images: &[Image], more: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity((images.len() + 1) * self.image_bytes());
        self.head(&mut out);
        for (i, image) in images.iter().enumerate() {
            self.image(&mut out, image, i == 0);
        }
        self.tail(&mut out, more, images.last().map(|image| &image.id));
        out
    }
}
