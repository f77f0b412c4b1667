//! docs/COMPATIBILITY.md, checked against the code: the edge table is made
//! by decoding a sample request of each feature in each dialect, the upstream
//! table from each upstream codec's capabilities, so neither can drift.

use bytes::Bytes;

use crate::common::dialects::shipped;
use dragoman::dialect::{Credentials, Dialect, EdgeRequest, Format, Paging, Target, UpstreamCall};
use dragoman::model::{
    ErrorKind, Filter, Image, ImageId, ImageOp, ImagePatch, LookupKey, PageStart, Shown, Snapshot, SortField, WriteOp,
};

/// A feature, how each dialect asks for it (`None`: it has no way to), and
/// what the decoded request must then hold.
struct EdgeFeature {
    name: &'static str,
    samples: [Option<&'static str>; 4],
    holds: fn(&EdgeRequest) -> bool,
}

const GG: &str = "api_key=k&sig=s&v=1.9&format=json";

fn op(req: &EdgeRequest) -> Option<&ImageOp> {
    match req {
        EdgeRequest::Op(op) => Some(op),
        EdgeRequest::Local(_) => None,
    }
}

/// True when the request filters on one of `fields` as its edge shows it,
/// for `value` (any case).
fn shows(req: &EdgeRequest, fields: &[&str], value: &str) -> bool {
    filter(req).shown.iter().any(|c| fields.contains(&c.field) && c.value.eq_ignore_ascii_case(value))
}

fn filter(req: &EdgeRequest) -> Filter {
    match op(req) {
        Some(ImageOp::List(q)) => q.filter.clone(),
        _ => Filter { id: Some("no list".into()), ..Filter::default() },
    }
}

fn edge_features() -> Vec<EdgeFeature> {
    vec![
        EdgeFeature {
            name: "show an image",
            samples: [
                Some("/accounts/demo/flexcloud/images/7"),
                Some("/v2/demo/images/7"),
                Some("/api/grid/image/get?id=7"),
                Some("/api/compute_resources/1/images/7"),
            ],
            holds: |r| {
                matches!(op(r), Some(ImageOp::Show(id)) if id.as_str() == "7")
                    || matches!(op(r), Some(ImageOp::GetMany(g)) if g.values == ["7"])
            },
        },
        EdgeFeature {
            name: "list images (summary)",
            samples: [Some("/accounts/demo/flexcloud/images"), Some("/v2/demo/images"), None, None],
            holds: |r| matches!(op(r), Some(ImageOp::List(q)) if q.view == dragoman::model::View::Summary),
        },
        EdgeFeature {
            name: "list images in detail",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail"),
                Some("/v2/demo/images/detail"),
                Some("/api/grid/image/list"),
                Some("/api/compute_resources/1/images"),
            ],
            holds: |r| matches!(op(r), Some(ImageOp::List(q)) if q.view == dragoman::model::View::Detail),
        },
        EdgeFeature {
            name: "get many by id, name or either",
            samples: [None, None, Some("/api/grid/image/get?image=7&image=x"), None],
            holds: |r| matches!(op(r), Some(ImageOp::GetMany(g)) if g.key == LookupKey::IdOrName && g.values == ["7", "x"]),
        },
        EdgeFeature {
            name: "filter by name",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail?name=x"),
                Some("/v2/demo/images/detail?name=x"),
                None,
                Some("/api/compute_resources/1/images?search=name%20%3D%20x"),
            ],
            holds: |r| filter(r).name.as_deref() == Some("x"),
        },
        EdgeFeature {
            name: "filter by status",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail?status=SAVING"),
                Some("/v2/demo/images/detail?status=SAVING"),
                Some("/api/grid/image/list?image.state=Saving"),
                None,
            ],
            holds: |r| shows(r, &["status", "state"], "SAVING"),
        },
        EdgeFeature {
            name: "filter by visibility",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail?type=BASE"),
                None,
                Some("/api/grid/image/list?isPublic=true"),
                None,
            ],
            holds: |r| shows(r, &["type", "isPublic"], "BASE") || shows(r, &["isPublic"], "true"),
        },
        EdgeFeature {
            name: "filter by image type",
            samples: [
                None,
                Some("/v2/demo/images/detail?type=snapshot"),
                Some("/api/grid/image/list?image.type=Web%20Server"),
                None,
            ],
            holds: |r| shows(r, &["type"], "snapshot") || shows(r, &["type"], "Web Server"),
        },
        EdgeFeature {
            name: "filter by image property",
            samples: [None, Some("/v2/demo/images/detail?property-architecture=x86_64"), None, None],
            holds: |r| shows(r, &["property"], "architecture=x86_64"),
        },
        EdgeFeature {
            name: "filter by zone or datacenter",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail?zone=AUS001"),
                None,
                Some("/api/grid/image/list?datacenter=AUS001"),
                None,
            ],
            holds: |r| filter(r).zone.as_deref() == Some("AUS001"),
        },
        EdgeFeature {
            name: "filter by change time",
            samples: [None, Some("/v2/demo/images/detail?changes-since=2011-01-01T00:00:00Z"), None, None],
            holds: |r| filter(r).changed_since.is_some(),
        },
        EdgeFeature {
            name: "filter by minimum RAM and disk",
            samples: [None, Some("/v2/demo/images/detail?minRam=512&minDisk=2"), None, None],
            holds: |r| (filter(r).min_ram_mb, filter(r).min_disk_gb) == (Some(512), Some(2)),
        },
        EdgeFeature {
            name: "filter by source server",
            samples: [None, Some("/v2/demo/images/detail?server=http%3A%2F%2Fnova%2Fservers%2Fs-1"), None, None],
            holds: |r| filter(r).server_id.as_deref() == Some("s-1"),
        },
        EdgeFeature {
            name: "order by a field",
            samples: [None, None, None, Some("/api/compute_resources/1/images?order=name%20DESC")],
            holds: |r| matches!(op(r), Some(ImageOp::List(q)) if q.sort.is_some_and(|s| s.descending)),
        },
        EdgeFeature {
            name: "page by marker",
            samples: [None, Some("/v2/demo/images/detail?limit=2&marker=7"), None, None],
            holds: |r| matches!(op(r), Some(ImageOp::List(q)) if q.page.limit == Some(2) && matches!(&q.page.start, PageStart::After(m) if m.as_str() == "7")),
        },
        EdgeFeature {
            name: "page by number",
            samples: [
                None,
                None,
                Some("/api/grid/image/list?num_items=2&page=1"),
                Some("/api/compute_resources/1/images?per_page=2&page=2"),
            ],
            holds: |r| matches!(op(r), Some(ImageOp::List(q)) if q.page.limit == Some(2) && q.page.start == PageStart::Offset(2)),
        },
        EdgeFeature {
            name: "version documents",
            samples: [None, Some("/"), None, Some("/api/status")],
            holds: |r| matches!(r, EdgeRequest::Local(reply) if reply.status() == 200),
        },
        EdgeFeature {
            name: "API description",
            samples: [None, None, None, Some("/apidoc/v2.json")],
            holds: |r| matches!(r, EdgeRequest::Local(reply) if reply.status() == 200),
        },
        EdgeFeature {
            name: "image metadata (read)",
            samples: [None, Some("/v2/demo/images/7/metadata"), None, None],
            holds: |r| matches!(op(r), Some(ImageOp::Show(id)) if id.as_str() == "7"),
        },
    ]
}

fn decode(dialect: Dialect, path: &str) -> Result<EdgeRequest, String> {
    decode_request(dialect, "GET", path, "")
}

/// Decodes a sample request; GoGrid samples get the common parameters every
/// call carries, bodies are JSON.
fn decode_request(dialect: Dialect, method: &str, path: &str, body: &str) -> Result<EdgeRequest, String> {
    let path = match dialect {
        Dialect::GoGrid => format!("{path}{}{GG}", if path.contains('?') { '&' } else { '?' }),
        _ => path.to_owned(),
    };
    let req =
        http::Request::builder().method(method).uri(path).header("content-type", "application/json").body(()).unwrap();
    let (parts, ()) = req.into_parts();
    let edge = dialect.edge();
    let mut ctx = edge.context(&parts, "http://gw");
    edge.decode(&mut ctx, &parts, &Bytes::from(body.to_owned())).map_err(|e| e.to_string())
}

fn edge_table() -> String {
    let mut out = String::from("| feature | hostway | openstack | gogrid | foreman |\n|---|---|---|---|---|\n");
    for feature in edge_features() {
        let mut row = format!("| {} |", feature.name);
        for (dialect, sample) in shipped().zip(feature.samples) {
            let cell = match sample {
                None => "—".to_owned(),
                Some(path) => {
                    assert_eq!(Dialect::for_path(path.split('?').next().unwrap()), Some(dialect), "{path}");
                    let decoded = decode(dialect, path).unwrap_or_else(|e| panic!("{dialect} {path}: {e}"));
                    assert!((feature.holds)(&decoded), "{dialect} {path} does not decode to {}", feature.name);
                    format!("`{path}`")
                }
            };
            row.push_str(&format!(" {cell} |"));
        }
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn upstream_table() -> String {
    let native = "native";
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(Dialect) -> String| {
        rows.push((name.to_owned(), shipped().map(f).collect()));
    };
    let cell = |yes: bool, otherwise: &str| if yes { native.to_owned() } else { otherwise.to_owned() };
    add("show an image", &|_| native.to_owned());
    add("list images", &|_| native.to_owned());
    add("get many", &|d| cell(d.upstream().capabilities().get_many, "emulated: fan-out of shows, bounded"));
    add("page by marker", &|d| cell(d.upstream().capabilities().paging == Paging::Marker, "emulated: walk"));
    add("page by number", &|d| cell(d.upstream().capabilities().paging == Paging::PageNumber, "emulated: walk"));
    add("count matches", &|d| cell(d.upstream().capabilities().reports_total, "emulated: walk"));
    add("order by name", &|d| {
        cell(d.upstream().capabilities().sort_fields.contains(&SortField::Name), "emulated: walk")
    });
    add("order by creation time", &|d| {
        cell(d.upstream().capabilities().sort_fields.contains(&SortField::Created), "emulated: walk")
    });
    let as_shown = Shown::new("status", "ACTIVE", |_, _| true);
    let filters: [(&str, Filter); 7] = [
        ("filter by name", Filter { name: Some("x".into()), ..Filter::default() }),
        (
            "filter by status, visibility or type, as the edge shows them",
            Filter { shown: vec![as_shown], ..Filter::default() },
        ),
        ("filter by zone or datacenter", Filter { zone: Some("z".into()), ..Filter::default() }),
        (
            "filter by change time",
            Filter { changed_since: Some(time::OffsetDateTime::UNIX_EPOCH), ..Filter::default() },
        ),
        ("filter by minimum RAM and disk", Filter { min_ram_mb: Some(1), min_disk_gb: Some(1), ..Filter::default() }),
        ("filter by source server", Filter { server_id: Some("s".into()), ..Filter::default() }),
        ("filter by name fragment", Filter { name_like: Some("x".into()), ..Filter::default() }),
    ];
    for (name, f) in filters {
        add(name, &|d| cell(d.upstream().split_filter(&f).1.is_empty(), "emulated: walk"));
    }
    let mut out = String::from("| operation | hostway | openstack | gogrid | foreman |\n|---|---|---|---|---|\n");
    for (name, cells) in rows {
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    out
}

/// A write, how each dialect asks for it (`METHOD path` and a JSON body),
/// and what the decoded request must then be.
struct EdgeWrite {
    name: &'static str,
    samples: [Option<(&'static str, &'static str, &'static str)>; 4],
    holds: fn(&WriteOp) -> bool,
}

fn edge_writes() -> Vec<EdgeWrite> {
    vec![
        EdgeWrite {
            name: "save an image from a server",
            samples: [
                None,
                Some(("POST", "/v2/demo/servers/s-1/action", r#"{"createImage": {"name": "n"}}"#)),
                Some(("GET", "/api/grid/image/save?server=s-1&friendlyName=n", "")),
                None,
            ],
            holds: |w| matches!(w, WriteOp::Snapshot(s) if s.server_id == "s-1" && s.name == "n"),
        },
        EdgeWrite {
            name: "register a template as an image",
            samples: [
                None,
                None,
                None,
                Some((
                    "POST",
                    "/api/compute_resources/1/images",
                    r#"{"image": {"name": "n", "username": "root", "uuid": "u"}}"#,
                )),
            ],
            holds: |w| matches!(w, WriteOp::Register(image, _) if image.name == "n"),
        },
        EdgeWrite {
            name: "rename an image",
            samples: [
                None,
                None,
                Some(("GET", "/api/grid/image/edit?id=7&friendlyName=n", "")),
                Some(("PUT", "/api/compute_resources/1/images/7", r#"{"image": {"name": "n"}}"#)),
            ],
            holds: |w| matches!(w, WriteOp::Update { id, patch } if id.as_str() == "7" && patch.name.as_deref() == Some("n")),
        },
        EdgeWrite {
            name: "delete an image",
            samples: [
                None,
                Some(("DELETE", "/v2/demo/images/7", "")),
                Some(("GET", "/api/grid/image/delete?id=7", "")),
                Some(("DELETE", "/api/compute_resources/1/images/7", "")),
            ],
            holds: |w| matches!(w, WriteOp::Delete { id, .. } if id.as_str() == "7"),
        },
        EdgeWrite {
            name: "restore an image from the trash",
            samples: [None, None, Some(("GET", "/api/grid/image/restore?id=7", "")), None],
            holds: |w| matches!(w, WriteOp::Restore(id) if id.as_str() == "7"),
        },
        EdgeWrite {
            name: "merge or replace image metadata",
            samples: [None, Some(("POST", "/v2/demo/images/7/metadata", r#"{"metadata": {"k": "v"}}"#)), None, None],
            holds: |w| matches!(w, WriteOp::SetMetadata { items, .. } if items.len() == 1),
        },
        EdgeWrite {
            name: "set one metadata item",
            samples: [None, Some(("PUT", "/v2/demo/images/7/metadata/k", r#"{"meta": {"k": "v"}}"#)), None, None],
            holds: |w| matches!(w, WriteOp::SetMetadataItem { key, .. } if key == "k"),
        },
        EdgeWrite {
            name: "delete one metadata item",
            samples: [None, Some(("DELETE", "/v2/demo/images/7/metadata/k", "")), None, None],
            holds: |w| matches!(w, WriteOp::DeleteMetadataItem { key, .. } if key == "k"),
        },
    ]
}

fn edge_write_table() -> String {
    let mut out = String::from("| write | hostway | openstack | gogrid | foreman |\n|---|---|---|---|---|\n");
    for write in edge_writes() {
        let mut row = format!("| {} |", write.name);
        for (dialect, sample) in shipped().zip(write.samples) {
            let cell = match sample {
                None => "—".to_owned(),
                Some((method, path, body)) => {
                    let decoded =
                        decode_request(dialect, method, path, body).unwrap_or_else(|e| panic!("{dialect} {path}: {e}"));
                    let holds = matches!(op(&decoded), Some(ImageOp::Write(w)) if (write.holds)(w));
                    assert!(holds, "{dialect} {method} {path} does not decode to {}", write.name);
                    format!("`{method} {path}`")
                }
            };
            row.push_str(&format!(" {cell} |"));
        }
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn upstream_write_table() -> String {
    let id = || ImageId::new("7");
    let snapshot = Snapshot { server_id: "s-1".into(), name: "n".into(), ..Snapshot::default() };
    let with_metadata = Snapshot { metadata: [("k".into(), "v".into())].into(), ..snapshot.clone() };
    let rename = ImagePatch { name: Some("n".into()), ..ImagePatch::default() };
    let describe = ImagePatch { description: Some("d".into()), ..ImagePatch::default() };
    let rows: Vec<(&str, WriteOp)> = vec![
        ("save an image from a server", WriteOp::Snapshot(snapshot)),
        ("save an image from a server, with metadata", WriteOp::Snapshot(with_metadata)),
        (
            "register a template as an image",
            WriteOp::Register(Image { name: "n".into(), ..Image::default() }, Default::default()),
        ),
        ("rename an image", WriteOp::Update { id: id(), patch: rename }),
        ("change an image's description", WriteOp::Update { id: id(), patch: describe }),
        ("delete an image", WriteOp::Delete { id: id(), trash: false }),
        ("restore an image from the trash", WriteOp::Restore(id())),
        (
            "merge or replace image metadata",
            WriteOp::SetMetadata { id: id(), items: Default::default(), replace: false },
        ),
        ("set one metadata item", WriteOp::SetMetadataItem { id: id(), key: "k".into(), value: "v".into() }),
        ("delete one metadata item", WriteOp::DeleteMetadataItem { id: id(), key: "k".into() }),
    ];
    let mut out = String::from("| write | hostway | openstack | gogrid | foreman |\n|---|---|---|---|---|\n");
    for (name, write) in rows {
        let cells: Vec<String> = shipped()
            .map(|dialect| {
                let credentials = match dialect {
                    Dialect::OpenStack => Credentials::Token("t".into()),
                    Dialect::GoGrid => Credentials::GoGrid { api_key: "k".into(), secret: "s".into() },
                    _ => Credentials::Basic { user: "u".into(), password: "p".into() },
                };
                let target =
                    Target { base: "http://up", scope: "1", credentials: &credentials, now: 0, format: Format::Json };
                match dialect.upstream().encode(&UpstreamCall::Write(write.clone()), &target) {
                    Ok(_) => "native".to_owned(),
                    Err(e) if matches!(e.kind, ErrorKind::Unsupported { .. }) => "not supported".to_owned(),
                    Err(e) => panic!("{dialect} {name}: {e}"),
                }
            })
            .collect();
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    out
}

/// Per cross pair, the fields of the edge's contract the upstream dialect
/// cannot fill and what the edge shows instead, from the contracts.
fn lost_field_table() -> String {
    let mut out =
        String::from("| edge | upstream | fields that cannot cross: what the edge shows instead |\n|---|---|---|\n");
    for edge in shipped() {
        for upstream in shipped().filter(|u| *u != edge) {
            let lost: Vec<String> = dragoman::dialect::contract::of(edge)
                .lost_from(upstream)
                .map(|f| format!("`{}`: {}", f.name, f.default))
                .collect();
            let cell = if lost.is_empty() { "—".to_owned() } else { lost.join("; ") };
            out.push_str(&format!("| {edge} | {upstream} | {cell} |\n"));
        }
    }
    out
}

/// The text between `<!-- begin NAME -->` and `<!-- end NAME -->`.
fn section<'a>(doc: &'a str, name: &str) -> &'a str {
    let begin = format!("<!-- begin {name} -->\n");
    let start = doc.find(&begin).unwrap_or_else(|| panic!("no {begin:?}")) + begin.len();
    let end = doc[start..].find(&format!("<!-- end {name} -->")).unwrap_or_else(|| panic!("no end {name}"));
    &doc[start..start + end]
}

#[test]
fn the_compatibility_tables_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/COMPATIBILITY.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let tables = [
        ("edge", edge_table()),
        ("upstream", upstream_table()),
        ("edge-writes", edge_write_table()),
        ("upstream-writes", upstream_write_table()),
        ("lost-fields", lost_field_table()),
    ];
    if std::env::var_os("DRAGOMAN_PRINT_TABLES").is_some() {
        for (name, table) in &tables {
            println!("<!-- {name} -->\n{table}");
        }
    }
    for (name, table) in tables {
        assert_eq!(section(&doc, name), table, "docs/COMPATIBILITY.md {name} table is stale");
    }
}
