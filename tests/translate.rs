//! `dragoman translate`, run as a user runs it, on the recorded replies of
//! every dialect: each output is checked against the target dialect's
//! documented shape (the keys of its own recorded bodies) and carries the
//! source's values.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::fixture;

/// Runs `dragoman translate ARGS` with `input` on stdin: status, headers, body.
fn translate(args: &[&str], input: &str) -> (u16, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .arg("translate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap_or_else(|| panic!("{text}"));
    let status = head.strip_prefix("HTTP/1.1 ").unwrap_or_else(|| panic!("{head}"))[..3].parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Fields the contracts show only when known (`WhenKnown` in
/// `src/dialect/*/contract.rs`, and docs/COMPATIBILITY.md): left out when
/// the source image has no value for them.
const WHEN_KNOWN: [(&str, &str); 3] =
    [("gogrid", "architecture"), ("gogrid", "description"), ("openstack", "OS-DCF:diskConfig")];

/// Every key of `documented` is in `got`, but those shown only when known.
fn has_documented_keys(got: &Value, documented: &Value, what: &str) {
    let got = got.as_object().unwrap_or_else(|| panic!("{what}: not an object: {got}"));
    let target = what.rsplit("-> ").next().unwrap_or_default();
    let missing: Vec<&String> = documented
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !got.contains_key(*k))
        .filter(|k| !WHEN_KNOWN.contains(&(target, k.as_str())))
        .collect();
    assert!(missing.is_empty(), "{what}: the documented keys {missing:?} are missing from {got:?}");
}

/// A source dialect's recorded replies, and the names they hold.
struct Source {
    dialect: &'static str,
    show: &'static str,
    show_name: &'static str,
    list: &'static str,
    list_names: &'static [&'static str],
    not_found: &'static str,
}

const SOURCES: [Source; 4] = [
    Source {
        dialect: "hostway",
        show: "hostway/docs_Image_get_example.json",
        show_name: "test_debian_image",
        list: "hostway/docs_ImageListDetails_example_2012.json",
        list_names: &["debian", "test by shimde"],
        not_found: "hostway/docs_error_404_itemNotFound_image.json",
    },
    Source {
        dialect: "openstack",
        show: "openstack/image-get-resp.json",
        show_name: "fakeimage7",
        list: "openstack/images-details-get-resp.json",
        list_names: &[
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage6",
            "fakeimage7",
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage123456",
            "fakeimage123456",
        ],
        not_found: "openstack/libcloud__os_keypairs_not_found.json",
    },
    Source {
        dialect: "gogrid",
        show: "gogrid/seed_image_get.json",
        show_name: "n",
        list: "gogrid/wiki_grid.image.list.json",
        list_names: &["Test GSI"],
        not_found: "gogrid/jclouds_test_error_handler.json",
    },
    Source {
        dialect: "foreman",
        show: "foreman/seed_show.json",
        show_name: "centos-1",
        list: "foreman/seed_images_index.json",
        list_names: &["centos-1", "centos-2"],
        not_found: "foreman/errors/error_404_not_found.json",
    },
];

/// The image of a show reply, and the images of a list reply, as each JSON
/// edge documents them; with the documented bodies to compare to.
struct Target {
    dialect: &'static str,
    show: fn(&Value) -> &Value,
    list: fn(&Value) -> &Vec<Value>,
    name: &'static str,
    documented_show: &'static str,
    documented_list: &'static str,
    documented_error: &'static str,
}

const TARGETS: [Target; 4] = [
    Target {
        dialect: "hostway",
        show: |v| &v["image"],
        list: |v| v["images"].as_array().unwrap(),
        name: "name",
        documented_show: "hostway/docs_Image_get_example.json",
        documented_list: "hostway/docs_ImageListDetails_example_2012.json",
        documented_error: "hostway/docs_error_404_itemNotFound_image.json",
    },
    Target {
        dialect: "openstack",
        show: |v| &v["image"],
        list: |v| v["images"].as_array().unwrap(),
        name: "name",
        documented_show: "openstack/image-get-resp.json",
        documented_list: "openstack/images-details-get-resp.json",
        documented_error: "openstack/libcloud__os_keypairs_not_found.json",
    },
    Target {
        dialect: "gogrid",
        show: |v| &v["list"][0],
        list: |v| v["list"].as_array().unwrap(),
        name: "friendlyName",
        documented_show: "gogrid/seed_image_get.json",
        documented_list: "gogrid/wiki_grid.image.list.json",
        documented_error: "gogrid/jclouds_test_error_handler.json",
    },
    Target {
        dialect: "foreman",
        show: |v| v,
        list: |v| v["results"].as_array().unwrap(),
        name: "name",
        documented_show: "foreman/seed_show.json",
        documented_list: "foreman/seed_images_index.json",
        documented_error: "foreman/errors/error_404_not_found.json",
    },
];

#[test]
fn recorded_shows_become_each_edges_documented_image() {
    for source in &SOURCES {
        for target in &TARGETS {
            let what = format!("{} show -> {}", source.dialect, target.dialect);
            let args = ["--from", source.dialect, "--to", target.dialect, "--as", "show"];
            let (status, head, body) = translate(&args, &fixture(source.show));
            assert_eq!(status, 200, "{what}: {body}");
            assert!(head.contains("content-type: application/json"), "{what}: {head}");
            let (got, documented) = (json(&body), json(&fixture(target.documented_show)));
            has_documented_keys(&got, &documented, &what);
            let image = (target.show)(&got);
            has_documented_keys(image, (target.show)(&documented), &what);
            assert_eq!(image[target.name], source.show_name, "{what}: {image}");
        }
    }
}

#[test]
fn recorded_lists_become_each_edges_documented_list() {
    for source in &SOURCES {
        for target in &TARGETS {
            let what = format!("{} list -> {}", source.dialect, target.dialect);
            let args = ["--from", source.dialect, "--to", target.dialect, "--as", "list"];
            let (status, _, body) = translate(&args, &fixture(source.list));
            assert_eq!(status, 200, "{what}: {body}");
            let (got, documented) = (json(&body), json(&fixture(target.documented_list)));
            has_documented_keys(&got, &documented, &what);
            let images = (target.list)(&got);
            let names: Vec<&str> = images.iter().map(|i| i[target.name].as_str().unwrap()).collect();
            assert_eq!(names, source.list_names, "{what}");
            for image in images {
                has_documented_keys(image, &(target.list)(&documented)[0], &what);
            }
        }
    }
}

#[test]
fn recorded_not_found_errors_become_each_edges_documented_error() {
    for source in &SOURCES {
        for target in &TARGETS {
            let what = format!("{} 404 -> {}", source.dialect, target.dialect);
            let args = ["--from", source.dialect, "--to", target.dialect, "--as", "error", "--status", "404"];
            let (status, _, body) = translate(&args, &fixture(source.not_found));
            let (got, documented) = (json(&body), json(&fixture(target.documented_error)));
            has_documented_keys(&got, &documented, &what);
            if target.dialect == "gogrid" {
                // GoGrid's failure envelope, with its error object
                assert_eq!(got["status"], "failure", "{what}: {got}");
                has_documented_keys(&got["list"][0], &documented["list"][0], &what);
                assert_eq!(got["list"][0]["object"], "error", "{what}");
            } else {
                assert_eq!(status, 404, "{what}: {body}");
                let inner = documented.as_object().unwrap().keys().next().unwrap();
                has_documented_keys(&got[inner], &documented[inner], &what);
            }
        }
    }
}

#[test]
fn a_reply_that_does_not_parse_becomes_the_target_dialects_error() {
    for target in &TARGETS {
        let args = ["--from", "openstack", "--to", target.dialect];
        let (status, _, body) = translate(&args, "<html>502 bad gateway</html>");
        assert!(status >= 500, "{}: {status} {body}", target.dialect);
        let (got, documented) = (json(&body), json(&fixture(target.documented_error)));
        if target.dialect == "gogrid" {
            assert_eq!(got["status"], "failure", "{got}");
            has_documented_keys(&got["list"][0], &documented["list"][0], target.dialect);
        } else {
            // the dialect's fault shape: one key, holding what its 404 holds
            let fault = |v: &Value| v.as_object().unwrap().values().next().unwrap().clone();
            has_documented_keys(&fault(&got), &fault(&documented), target.dialect);
        }
        assert!(!body.contains("bad gateway"), "no echo of the upstream body: {body}");
    }
}

#[test]
fn gogrid_edges_answer_in_the_format_asked() {
    let source = fixture("openstack/image-get-resp.json");
    let documented_csv = fixture("gogrid/seed_image_get.csv");
    let (status, head, body) = translate(&["--from", "openstack", "--to", "gogrid", "--format", "csv"], &source);
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/csv"), "{head}");
    let header = |csv: &str| csv.lines().nth(1).unwrap().to_owned();
    // the documented columns, up to those of billing tokens this image has none of
    let documented = header(&documented_csv);
    let documented = documented.split(",billingtokens").next().unwrap();
    assert!(header(&body).starts_with(documented), "{}\n{documented}", header(&body));
    assert!(body.lines().next().unwrap().starts_with("# SUCCESS, /grid/image/get"), "{body}");
    assert!(body.contains(",fakeimage7,"), "{body}");

    let (status, head, body) = translate(&["--from", "openstack", "--to", "gogrid", "--format", "xml"], &source);
    assert_eq!(status, 200);
    assert!(head.contains("xml"), "{head}");
    assert!(body.contains("<response method=\"/grid/image/get\" status=\"success\">"), "{body}");
    assert!(body.contains("<attribute name=\"friendlyName\">fakeimage7</attribute>"), "{body}");
}

#[test]
fn edge_requests_become_the_upstream_request_each_dialect_documents() {
    let cases = [
        // OpenStack's detailed list, asked of a Foreman compute resource
        (
            &["--from", "openstack", "--to", "foreman", "--path", "/v2/demo/images/detail", "--upstream-scope", "3"][..],
            "GET http://upstream/api/v2/compute_resources/3/images?",
        ),
        // GoGrid's get by id, asked of Nova's image proxy
        (
            &["--from", "gogrid", "--to", "openstack", "--path", "/api/grid/image/get?id=250&v=1.3&api_key=k&sig=s"],
            "GET http://upstream/v2.1/demo/images/250\n",
        ),
        // Hostway's show, asked of GoGrid
        (
            &["--from", "hostway", "--to", "gogrid", "--path", "/accounts/demo/flexcloud/images/133"],
            "GET http://upstream/api/grid/image/get?",
        ),
        // Foreman's show, asked of Hostway
        (
            &["--from", "foreman", "--to", "hostway", "--path", "/api/compute_resources/1/images/980190962"],
            "GET http://upstream/accounts/demo/flexcloud/images/980190962\n",
        ),
    ];
    for (args, start) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
            .args(["translate", "--request"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.starts_with(start),
            "{args:?}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.to_ascii_lowercase().contains("authorization"), "no credentials are printed: {text}");
    }
    // an id with a slash stays one path segment
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(["translate", "--request", "--from", "openstack", "--to", "hostway", "--path", "/v2/demo/images/a%2Fb"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("GET http://upstream/accounts/demo/flexcloud/images/a%2Fb\n"), "{text}");
    // a request the edge refuses prints the edge's own error
    let out = Command::new(env!("CARGO_BIN_EXE_dragoman"))
        .args(["translate", "--request", "--from", "openstack", "--to", "hostway", "--method", "POST"])
        .args(["--path", "/v2/demo/images/x/metadata"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"{not json")?;
            child.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("badRequest"), "{text}");
}
