//! What the gateway knows about the fifth dialect besides its codecs.

use super::Fifth;
use crate::dialect::contract::{Contract, Field, Presence, Representation, Shape, Wrapping};
use crate::dialect::profile::{
    CallerAuth, GivenCredentials, NamedVariables, Profile, Seed, Tenancy, UpstreamVariables,
};
use crate::dialect::{Credentials, Dialect};
use crate::model::{COMPARED, Image};

impl Profile for Fifth {
    fn caller_auth(&self) -> CallerAuth {
        CallerAuth::Basic
    }

    fn tenancy(&self) -> Tenancy {
        Tenancy::Unscoped
    }

    fn upstream_credentials(&self, given: GivenCredentials) -> Result<Credentials, &'static str> {
        given.basic()
    }

    fn environment(&self) -> UpstreamVariables {
        UpstreamVariables::Named(NamedVariables {
            hint: "FIFTH_USERNAME and FIFTH_PASSWORD",
            user: Some("FIFTH_USERNAME"),
            password: Some("FIFTH_PASSWORD"),
            ..NamedVariables::default()
        })
    }

    fn collection_path(&self) -> &'static str {
        "/fifth/images"
    }

    fn sample_path(&self, id: Option<&str>, _image: Option<&Image>, _format: &str) -> String {
        match id {
            Some(id) => format!("/fifth/images/{id}"),
            None => "/fifth/images".into(),
        }
    }

    fn contract(&self) -> &'static Contract {
        &CONTRACT
    }

    /// No document: the catalog's samples are the other dialects'.
    fn seed(&self) -> Option<Seed> {
        None
    }
}

/// The canonical image as JSON: its id and name always, the rest when known.
const CONTRACT: Contract = Contract {
    dialect: Dialect::Fifth,
    // its upstream carries a name and nothing else it could be compared on:
    // every compared field but the name, which comes first
    uncarried: COMPARED.split_first().expect("compared fields").1,
    image: Representation {
        fields: &[Field::new("id", Presence::Always, Shape::Text), Field::new("name", Presence::Always, Shape::Text)],
        closed: false,
    },
    summary: None,
    show: Wrapping::Key("image"),
    list: Representation { fields: &[Field::new("images", Presence::Always, Shape::List(&Shape::Map))], closed: true },
    items: "images",
    faults: &[],
    error: Representation { fields: &[Field::new("error", Presence::Always, Shape::Text)], closed: true },
};
