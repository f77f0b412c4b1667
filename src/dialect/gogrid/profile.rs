//! What the gateway knows about GoGrid besides its codecs.

use super::GoGrid;
use crate::dialect::contract::Contract;
use crate::dialect::ids;
use crate::dialect::profile::{
    CallerAuth, GivenCredentials, NamedVariables, Profile, Seed, Tenancy, UpstreamVariables,
};
use crate::dialect::{Credentials, Format};
use crate::model::{IdRule, Image};

impl Profile for GoGrid {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::SignedApiKey
    }

    /// GoGrid paths name no tenant: the API key is the account.
    fn tenancy(&self) -> Tenancy {
        Tenancy::Unscoped
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        match (given.api_key, given.secret) {
            (Some(api_key), Some(secret)) => Ok(Credentials::GoGrid { api_key, secret }),
            _ => Err("api_key and secret"),
        }
    }

    fn environment(&self) -> UpstreamVariables {
        UpstreamVariables::Named(NamedVariables {
            hint: "GOGRID_API_KEY and GOGRID_SHARED_SECRET",
            api_key: Some("GOGRID_API_KEY"),
            secret: Some("GOGRID_SHARED_SECRET"),
            ..NamedVariables::default()
        })
    }

    fn collection_path(&self) -> &'static str {
        "/api/grid/image/list?format=xml"
    }

    fn body_content_type(&self) -> &'static str {
        "application/x-www-form-urlencoded"
    }

    fn error_status_follows_kind(&self) -> bool {
        false
    }

    fn formats(&self) -> &'static [Format] {
        &[Format::Json, Format::Xml, Format::Csv]
    }

    fn sample_path(&self, id: Option<&str>, _image: Option<&Image>, format: &str) -> String {
        match id {
            Some(id) => format!("/api/grid/image/get?id={id}&v=1.3&format={format}"),
            None => format!("/api/grid/image/list?v=1.3&format={format}"),
        }
    }

    /// `long` ids (derived for an upstream without them), or the upstream's
    /// own ids, which keep working (`docs/IDS.md`): opaque ids. `name=` and
    /// `image=` also look images up by name: any text a name can hold.
    fn image_ids(&self) -> IdRule {
        IdRule { id: ids::is_opaque_id, name: Some(holds_name) }
    }

    fn contract(&self) -> &'static Contract {
        &super::contract::CONTRACT
    }

    fn seed(&self) -> Option<Seed> {
        Some(Seed { id: Some("250"), body: include_str!("seed_250.json") })
    }
}

/// A name as GoGrid writes them: not empty, no character a name may not
/// carry (`model::is_unsafe_char`).
fn holds_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(crate::model::is_unsafe_char)
}
