//! The primary's and the mirror's outcomes of one read, compared in the
//! canonical model: image by image (matched by id), field by field, leaving
//! out the fields either backend's dialect cannot carry.

use crate::dialect::{Dialect, contract};
use crate::model::{ErrorKind, GatewayError, Image, Outcome, differences};

/// The field a difference names when an image is on one side only.
pub const PRESENCE: &str = "image";
/// The field a difference names when the two outcomes are not both images.
pub const OUTCOME: &str = "outcome";

/// How the two outcomes compare.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Different(Vec<Difference>),
    /// Nothing to compare: one side failed (not a not-found), and why.
    Failed(String),
}

/// One field of one image the two sides disagree on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The image's id; empty when the difference is about the whole outcome.
    pub image: String,
    pub field: &'static str,
    pub primary: String,
    pub mirror: String,
}

/// The backends' dialects, for what both can carry (`None`: the embedded
/// catalog, which carries everything).
#[derive(Debug, Clone, Copy)]
pub struct Sides {
    pub primary: Option<Dialect>,
    pub mirror: Option<Dialect>,
}

impl Sides {
    /// True when both sides carry `field`.
    fn both_carry(&self, field: &str) -> bool {
        [self.primary, self.mirror].into_iter().flatten().all(|d| !contract::uncarried(d).contains(&field))
    }
}

/// Compares the primary's outcome of a read with the mirror's.
pub fn compare(
    primary: &Result<Outcome, GatewayError>,
    mirror: &Result<Outcome, GatewayError>,
    sides: Sides,
) -> Verdict {
    match (found(primary), found(mirror)) {
        (Found::Images(a), Found::Images(b)) => {
            let found = image_differences(&a, &b, sides);
            if found.is_empty() { Verdict::Same } else { Verdict::Different(found) }
        }
        (Found::Failed(a), Found::Failed(b)) if a == b => Verdict::Same,
        (_, Found::Failed(why)) => Verdict::Failed(format!("mirror: {why}")),
        (Found::Failed(why), _) => Verdict::Failed(format!("primary: {why}")),
        (Found::Other(a), Found::Other(b)) if a == b => Verdict::Same,
        (a, b) => Verdict::Different(vec![Difference {
            image: String::new(),
            field: OUTCOME,
            primary: a.describe(),
            mirror: b.describe(),
        }]),
    }
}

/// What one side's outcome shows.
enum Found<'a> {
    /// The images it shows (none for a not-found).
    Images(Vec<&'a Image>),
    /// Another outcome (metadata, done).
    Other(&'a Outcome),
    /// A failure other than not-found, in a few words.
    Failed(String),
}

impl Found<'_> {
    fn describe(&self) -> String {
        match self {
            Found::Images(images) => format!("{} images", images.len()),
            Found::Other(Outcome::Metadata(_)) => "metadata".to_owned(),
            Found::Other(_) => "done".to_owned(),
            Found::Failed(why) => why.clone(),
        }
    }
}

fn found(outcome: &Result<Outcome, GatewayError>) -> Found<'_> {
    match outcome {
        Ok(Outcome::Image(image)) => Found::Images(vec![image]),
        Ok(Outcome::Images(images)) => Found::Images(images.iter().collect()),
        Ok(Outcome::List(page)) => Found::Images(page.images.iter().collect()),
        Ok(other) => Found::Other(other),
        Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => Found::Images(Vec::new()),
        Err(e) => Found::Failed(e.to_string()),
    }
}

/// The differences of the images both sides show, matched by id; an image
/// on one side only is a difference of [`PRESENCE`].
fn image_differences(primary: &[&Image], mirror: &[&Image], sides: Sides) -> Vec<Difference> {
    let mut found = Vec::new();
    let presence = |image: &Image, primary: &str, mirror: &str| Difference {
        image: image.id.as_str().to_owned(),
        field: PRESENCE,
        primary: primary.to_owned(),
        mirror: mirror.to_owned(),
    };
    for a in primary {
        match mirror.iter().find(|b| b.id == a.id) {
            Some(b) => found.extend(differences(a, b, |f| sides.both_carry(f)).into_iter().map(|d| Difference {
                image: a.id.as_str().to_owned(),
                field: d.field,
                primary: d.primary,
                mirror: d.mirror,
            })),
            None => found.push(presence(a, "present", "absent")),
        }
    }
    for b in mirror.iter().filter(|b| !primary.iter().any(|a| a.id == b.id)) {
        found.push(presence(b, "absent", "present"));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageId, Side};

    fn image(id: &str, name: &str) -> Image {
        Image { id: ImageId::new(id), name: name.into(), size_bytes: Some(10), ..Image::default() }
    }

    fn not_found() -> GatewayError {
        GatewayError::image_not_found("7")
    }

    /// Both sides of one dialect, by its configured name.
    fn sides(primary: &str, mirror: &str) -> Sides {
        Sides { primary: Dialect::from_name(primary), mirror: Dialect::from_name(mirror) }
    }

    #[test]
    fn a_renamed_and_a_missing_image_are_the_only_differences() {
        let primary = Ok(Outcome::Images(vec![image("1", "a"), image("2", "b"), image("3", "c")]));
        let mirror = Ok(Outcome::Images(vec![image("3", "c"), image("1", "a-moved")]));
        let Verdict::Different(found) = compare(&primary, &mirror, sides("openstack", "openstack")) else { panic!() };
        let fields: Vec<_> = found.iter().map(|d| (d.image.as_str(), d.field)).collect();
        assert_eq!(fields, [("1", "name"), ("2", PRESENCE)]);
        assert_eq!(compare(&primary, &primary, sides("openstack", "openstack")), Verdict::Same);
    }

    #[test]
    fn fields_either_dialect_cannot_carry_are_not_compared() {
        let mut other = image("1", "a");
        other.size_bytes = None;
        let primary = Ok(Outcome::Image(image("1", "a")));
        let mirror = Ok(Outcome::Image(other));
        let Verdict::Different(found) = compare(&primary, &mirror, sides("openstack", "openstack")) else { panic!() };
        assert_eq!(found[0].field, "size_bytes");
        // Hostway has no size: against a Hostway upstream it is not compared
        assert_eq!(compare(&primary, &mirror, sides("openstack", "hostway")), Verdict::Same);
    }

    #[test]
    fn a_not_found_is_an_absent_image_and_a_failure_is_no_comparison() {
        let primary = Ok(Outcome::Image(image("7", "a")));
        let Verdict::Different(found) = compare(&primary, &Err(not_found()), sides("openstack", "openstack")) else {
            panic!()
        };
        assert_eq!(
            (found[0].field, found[0].primary.as_str(), found[0].mirror.as_str()),
            (PRESENCE, "present", "absent")
        );
        assert_eq!(compare(&Err(not_found()), &Err(not_found()), sides("openstack", "openstack")), Verdict::Same);
        let down = GatewayError::new(ErrorKind::UpstreamUnavailable, Side::Upstream, "connection refused");
        assert!(
            matches!(compare(&primary, &Err(down), sides("openstack", "openstack")), Verdict::Failed(why) if why.starts_with("mirror: "))
        );
    }
}
