//! What the gateway knows about Hostway besides its codecs.

use super::Hostway;
use crate::dialect::contract::Contract;
use crate::dialect::profile::{
    CallerAuth, GivenCredentials, NamedVariables, Profile, Seed, Tenancy, TenantField, UpstreamVariables,
};
use crate::dialect::{Credentials, Format};
use crate::model::{ErrorKind, GatewayError, Image, Side};
use crate::request_id::{REPLY_HEADERS, UPSTREAM_HEADERS};

impl Profile for Hostway {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::Basic
    }

    /// Another account's path is an unknown account, as FlexCloud answers.
    fn tenancy(&self) -> Tenancy {
        Tenancy::Scoped {
            field: TenantField::Account,
            refusal: |named, _own| {
                let kind = ErrorKind::NotFound { resource: "account", id: named.to_owned() };
                GatewayError::new(kind, Side::Downstream, format!("account {named} not found"))
            },
        }
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        match (given.user, given.password) {
            (Some(user), Some(password)) => Ok(Credentials::Basic { user, password }),
            _ => Err("both user and password"),
        }
    }

    fn keystone_upstream(&self) -> bool {
        false
    }

    fn environment(&self) -> UpstreamVariables {
        UpstreamVariables::Named(NamedVariables {
            hint: "HOSTWAY_USERNAME and HOSTWAY_PASSWORD (and HOSTWAY_ACCOUNT)",
            user: Some("HOSTWAY_USERNAME"),
            password: Some("HOSTWAY_PASSWORD"),
            scope: Some("HOSTWAY_ACCOUNT"),
            ..NamedVariables::default()
        })
    }

    fn reply_request_id_headers(&self) -> &'static [http::HeaderName] {
        &REPLY_HEADERS
    }

    fn upstream_request_id_headers(&self) -> &'static [http::HeaderName] {
        &UPSTREAM_HEADERS
    }

    fn collection_path(&self) -> &'static str {
        "/accounts/demo/flexcloud/images"
    }

    fn body_content_type(&self) -> &'static str {
        "application/json"
    }

    fn error_status_follows_kind(&self) -> bool {
        true
    }

    fn formats(&self) -> &'static [Format] {
        &[Format::Json]
    }

    fn sample_path(&self, id: Option<&str>, _image: Option<&Image>, _format: &str) -> String {
        match id {
            Some(id) => format!("/accounts/demo/flexcloud/images/{id}"),
            None => "/accounts/demo/flexcloud/images/detail".into(),
        }
    }

    fn contract(&self) -> &'static Contract {
        &super::contract::CONTRACT
    }

    fn seed(&self) -> Option<Seed> {
        Some(Seed { id: Some("133"), body: include_str!("seed_133.json") })
    }
}
