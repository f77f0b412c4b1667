//! The API versions and microversions the edge tells apart, named once for
//! the paths that choose them and the replies that show them.

/// The two API versions Nova serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V2,
    V21,
}

/// `ctx.method` of a `createImage` answered with `{"image_id"}` (2.45 on).
pub const CREATE_IMAGE_V2_45: &str = "servers.create_image@2.45";
