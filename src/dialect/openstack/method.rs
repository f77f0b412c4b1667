//! Nova's API methods, as its routes name them (`images.show`,
//! `servers.create_image`): what a reply may depend on.

/// The Nova API method a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NovaMethod {
    /// `versions.index`: the version list at `/`.
    VersionsIndex,
    /// `versions.show`: one version document.
    VersionsShow,
    ImagesIndex,
    ImagesDetail,
    ImagesShow,
    ImagesDelete,
    MetadataIndex,
    /// `image_metadata.create`: merge into the metadata.
    MetadataCreate,
    /// `image_metadata.update_all`: replace the metadata.
    MetadataUpdateAll,
    MetadataShow,
    MetadataUpdate,
    MetadataDelete,
    /// `servers.action`, before its body names the action.
    ServersAction,
    /// `createImage` answered with a `Location` (2.1–2.44).
    CreateImage,
    /// `createImage` answered with `{"image_id"}` (2.45 on).
    CreateImageWithId,
}
