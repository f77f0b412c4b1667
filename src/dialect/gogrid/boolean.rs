//! GoGrid's boolean parameters (`isPublic=true`), read by the list filter
//! and by the writes alike.

use crate::model::GatewayError;

/// `true` or `false`, in any case.
pub(super) fn boolean(name: &str, value: &str) -> Result<bool, GatewayError> {
    match value {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        v => Err(GatewayError::bad_request(format!("invalid {name} parameter: {v}: expected true or false"))),
    }
}
