//! What the gateway knows about Hostway besides its codecs.

use super::Hostway;
use crate::dialect::Credentials;
use crate::dialect::contract::Contract;
use crate::dialect::profile::{
    CallerAuth, GivenCredentials, NamedVariables, Profile, Seed, Tenancy, TenantField, UpstreamVariables,
};
use crate::model::{ErrorKind, GatewayError, Image, Resource, Side};

impl Profile for Hostway {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::Basic
    }

    /// Another account's path is an unknown account, as FlexCloud answers.
    fn tenancy(&self) -> Tenancy {
        Tenancy::Scoped {
            field: TenantField::Account,
            refusal: |named, _own| {
                let kind = ErrorKind::NotFound { resource: Resource::Tenant, id: named.to_owned() };
                GatewayError::new(kind, Side::Downstream, format!("account {named} not found"))
            },
        }
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        given.basic()
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

    fn collection_path(&self) -> &'static str {
        "/accounts/demo/flexcloud/images"
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
