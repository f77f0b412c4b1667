//! What the gateway knows about OpenStack Compute besides its codecs.

use super::OpenStack;
use crate::dialect::Credentials;
use crate::dialect::contract::Contract;
use crate::dialect::ids;
use crate::dialect::profile::{CallerAuth, GivenCredentials, Profile, Seed, Tenancy, TenantField, UpstreamVariables};
use crate::model::{GatewayError, IdRule, Image};
use crate::request_id::{OPENSTACK_REPLY_HEADERS, OPENSTACK_UPSTREAM_HEADERS};

impl Profile for OpenStack {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::Token
    }

    /// Another project's path is Nova's 400.
    fn tenancy(&self) -> Tenancy {
        Tenancy::Scoped {
            field: TenantField::Project,
            refusal: |named, own| {
                GatewayError::bad_request(format!(
                    "Malformed request URL: URL's project_id '{named}' doesn't match Context's project_id '{own}'"
                ))
            },
        }
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        given.token.map(Credentials::Token).ok_or("a token, or auth_url and keystone credentials")
    }

    fn keystone_upstream(&self) -> bool {
        true
    }

    fn environment(&self) -> UpstreamVariables {
        UpstreamVariables::Keystone {
            hint: "OS_CLOUD (with a clouds.yaml), or OS_AUTH_URL with OS_USERNAME or OS_USER_ID, OS_PASSWORD and \
                   OS_PROJECT_NAME or OS_PROJECT_ID (or OS_APPLICATION_CREDENTIAL_ID and _SECRET), or OS_TOKEN with \
                   a URL",
        }
    }

    /// Nova's own, and the one openstacksdk logs.
    fn reply_request_id_headers(&self) -> &'static [http::HeaderName] {
        &OPENSTACK_REPLY_HEADERS
    }

    /// oslo.middleware takes `X-Openstack-Request-Id` as the global request id.
    fn upstream_request_id_headers(&self) -> &'static [http::HeaderName] {
        &OPENSTACK_UPSTREAM_HEADERS
    }

    fn collection_path(&self) -> &'static str {
        "/v2/demo/images"
    }

    fn sample_path(&self, id: Option<&str>, _image: Option<&Image>, _format: &str) -> String {
        match id {
            Some(id) => format!("/v2/demo/images/{id}"),
            None => "/v2/demo/images/detail".into(),
        }
    }

    /// UUIDs, or whatever opaque id the upstream behind it has (Hostway names,
    /// numbers); looked up by id only.
    fn image_ids(&self) -> IdRule {
        IdRule { id: ids::is_opaque_id, name: None }
    }

    fn contract(&self) -> &'static Contract {
        &super::contract::CONTRACT
    }

    fn seed(&self) -> Option<Seed> {
        Some(Seed { id: Some("70a599e0-31e7-49b7-b260-868f441e862b"), body: include_str!("seed_70a599e0.json") })
    }
}
