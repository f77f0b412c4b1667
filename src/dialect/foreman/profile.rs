//! What the gateway knows about Foreman besides its codecs.

use super::Foreman;
use super::image::own_compute_resource;
use crate::dialect::contract::Contract;
use crate::dialect::profile::{
    CallerAuth, GivenCredentials, NamedVariables, Profile, Seed, Tenancy, TenantField, UpstreamVariables,
};
use crate::dialect::{Credentials, percent_encode_segment};
use crate::model::{ErrorKind, GatewayError, Image, Resource, Side};

impl Profile for Foreman {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::Basic
    }

    /// Another compute resource's path is Foreman's 404; a client naming
    /// no compute resource may use any.
    fn tenancy(&self) -> Tenancy {
        Tenancy::Scoped {
            field: TenantField::ComputeResource,
            refusal: |named, _own| {
                let kind = ErrorKind::NotFound { resource: Resource::Tenant, id: named.to_owned() };
                GatewayError::new(kind, Side::Downstream, format!("compute resource {named} not found"))
            },
        }
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        given.basic()
    }

    fn environment(&self) -> UpstreamVariables {
        UpstreamVariables::Named(NamedVariables {
            hint: "FOREMAN_USERNAME and FOREMAN_PASSWORD (and FOREMAN_SERVER_URL, FOREMAN_COMPUTE_RESOURCE)",
            user: Some("FOREMAN_USERNAME"),
            password: Some("FOREMAN_PASSWORD"),
            scope: Some("FOREMAN_COMPUTE_RESOURCE"),
            url: Some("FOREMAN_SERVER_URL"),
            ..NamedVariables::default()
        })
    }

    fn collection_path(&self) -> &'static str {
        "/api/compute_resources/980190962/images"
    }

    /// A show is under the image's own compute resource, if it names one.
    fn sample_path(&self, id: Option<&str>, image: Option<&Image>, _format: &str) -> String {
        match id {
            Some(id) => {
                let own = image.and_then(own_compute_resource);
                let compute_resource = own.as_deref().map_or("1".into(), percent_encode_segment);
                format!("/api/compute_resources/{compute_resource}/images/{id}")
            }
            None => "/api/compute_resources/1/images".into(),
        }
    }

    /// The document's sample is a list reply.
    fn contract(&self) -> &'static Contract {
        &super::contract::CONTRACT
    }

    fn seed(&self) -> Option<Seed> {
        Some(Seed { id: None, body: include_str!("seed_980190962.json") })
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::environment::{Environment, upstream};

    #[test]
    fn foreman_takes_hammers_server_url() {
        let vars = [("FOREMAN_SERVER_URL", "https://foreman.example"), ("FOREMAN_USERNAME", "admin")];
        let env =
            Environment { vars: vars.map(|(k, v)| (k.to_owned(), v.to_owned())).into(), ..Environment::default() };
        let up = upstream(Dialect::Foreman, &env).unwrap();
        assert_eq!(up.url.as_deref(), Some("https://foreman.example"));
        assert_eq!(up.credentials.user.as_deref(), Some("admin"));
    }
}
