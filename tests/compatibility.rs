//! docs/COMPATIBILITY.md, checked against the code: the edge table is made
//! by decoding a sample request of each feature in each dialect, the upstream
//! table from each upstream codec's capabilities, so neither can drift.

use bytes::Bytes;
use dragoman::dialect::{Dialect, EdgeRequest, Paging};
use dragoman::model::{Filter, ImageOp, ImageStatus, LookupKey, PageStart, SortField};

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
            holds: |r| filter(r).status == Some(ImageStatus::Saving),
        },
        EdgeFeature {
            name: "filter by visibility",
            samples: [
                Some("/accounts/demo/flexcloud/images/detail?type=BASE"),
                None,
                Some("/api/grid/image/list?isPublic=true"),
                None,
            ],
            holds: |r| filter(r).public == Some(true),
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

/// Decodes a sample; GoGrid samples get the common parameters every call carries.
fn decode(dialect: Dialect, path: &str) -> Result<EdgeRequest, String> {
    let path = match dialect {
        Dialect::GoGrid => format!("{path}{}{GG}", if path.contains('?') { '&' } else { '?' }),
        _ => path.to_owned(),
    };
    let req = http::Request::get(path).body(()).unwrap();
    let (parts, ()) = req.into_parts();
    let edge = dialect.edge();
    let mut ctx = edge.context(&parts, "http://gw");
    edge.decode(&mut ctx, &parts, &Bytes::new()).map_err(|e| e.to_string())
}

fn edge_table() -> String {
    let mut out = String::from("| feature | hostway | openstack | gogrid | foreman |\n|---|---|---|---|---|\n");
    for feature in edge_features() {
        let mut row = format!("| {} |", feature.name);
        for (dialect, sample) in Dialect::ALL.into_iter().zip(feature.samples) {
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
    let mut rows: Vec<(String, [String; 4])> = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(Dialect) -> String| {
        rows.push((name.to_owned(), Dialect::ALL.map(f)));
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
    let filters: [(&str, Filter); 8] = [
        ("filter by name", Filter { name: Some("x".into()), ..Filter::default() }),
        ("filter by status", Filter { status: Some(ImageStatus::Active), ..Filter::default() }),
        ("filter by visibility", Filter { public: Some(true), ..Filter::default() }),
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
    let (edge, upstream) = (edge_table(), upstream_table());
    if std::env::var_os("DRAGOMAN_PRINT_TABLES").is_some() {
        println!("{edge}\n{upstream}");
    }
    assert_eq!(section(&doc, "edge"), edge, "docs/COMPATIBILITY.md edge table is stale");
    assert_eq!(section(&doc, "upstream"), upstream, "docs/COMPATIBILITY.md upstream table is stale");
}
