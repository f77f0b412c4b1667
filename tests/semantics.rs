//! Filters, counts and scopes judge what each edge shows, whatever the
//! backend: the embedded catalog, or a second Dragoman serving another
//! dialect behind it.

use dragoman::config::Config;
use dragoman::dialect::Dialect;
use http::Method;
use serde_json::Value;

use crate::common::dialects::{id_of, listed};
use crate::common::{TestGateway, get, in_front_of, send};

/// A filter the edge offers, and how its list reply shows the filtered field.
struct ShownFilter {
    edge: Dialect,
    /// The unfiltered detail list; the filtered one adds `&{param}={value}`.
    list: &'static str,
    param: &'static str,
    /// The value an image of the list shows for the field, as the filter spells it.
    shown: fn(&Value) -> Option<String>,
}

fn shown_filters() -> Vec<ShownFilter> {
    vec![
        ShownFilter {
            edge: Dialect::Hostway,
            list: "/accounts/demo/flexcloud/images/detail?",
            param: "status",
            shown: |i| i["status"].as_str().map(str::to_owned),
        },
        ShownFilter {
            edge: Dialect::OpenStack,
            list: "/v2/demo/images/detail?",
            param: "status",
            shown: |i| i["status"].as_str().map(str::to_owned),
        },
        ShownFilter {
            edge: Dialect::OpenStack,
            list: "/v2/demo/images/detail?",
            param: "type",
            shown: |i| i["metadata"]["image_type"].as_str().map(str::to_owned),
        },
        ShownFilter {
            edge: Dialect::OpenStack,
            list: "/v2/demo/images/detail?",
            param: "property-architecture",
            shown: |i| i["metadata"]["architecture"].as_str().map(str::to_owned),
        },
        ShownFilter {
            edge: Dialect::GoGrid,
            list: "/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json",
            param: "isPublic",
            shown: |i| i["isPublic"].as_bool().map(|b| b.to_string()),
        },
        ShownFilter {
            edge: Dialect::GoGrid,
            list: "/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json",
            param: "image.state",
            shown: |i| i["state"]["name"].as_str().map(str::to_owned),
        },
        ShownFilter {
            edge: Dialect::GoGrid,
            list: "/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json",
            param: "image.type",
            shown: |i| i["type"]["name"].as_str().map(str::to_owned),
        },
    ]
}

fn images(edge: Dialect, body: &Value) -> Vec<Value> {
    let key = match edge {
        Dialect::Hostway | Dialect::OpenStack => "images",
        Dialect::GoGrid => "list",
        Dialect::Foreman => "results",
        #[cfg(feature = "fifth-dialect")]
        Dialect::Fifth => "images",
    };
    body[key].as_array().unwrap_or_else(|| panic!("no {key} in {body}")).clone()
}

/// For every filter and every value the unfiltered list shows for it (and
/// the other values of its vocabulary), the filtered list holds exactly the
/// images that show that value.
async fn filters_agree_with_the_list(gw: &TestGateway, backend: &str) {
    for f in shown_filters() {
        let all = get(&gw.url(f.list)).await;
        assert_eq!(all.status, 200, "{backend} {}: {}", f.list, all.text());
        let all = images(f.edge, &all.json());
        let mut values: Vec<String> = all.iter().filter_map(f.shown).collect();
        let vocabulary: &[&str] = match f.param {
            "status" => &["ACTIVE", "SAVING", "DELETED"],
            "isPublic" => &["true", "false"],
            "image.state" => &["Available", "Saving", "Trash"],
            "image.type" => &["Web Server", "Database Server"],
            _ => &["snapshot"],
        };
        values.extend(vocabulary.iter().map(|v| v.to_string()));
        values.sort();
        values.dedup();
        for value in values {
            let want: Vec<String> =
                all.iter().filter(|i| (f.shown)(i).as_deref() == Some(&value)).map(|i| id_of(&i["id"])).collect();
            let query: String =
                url::form_urlencoded::Serializer::new(String::new()).append_pair(f.param, &value).finish();
            let path = format!("{}{}{query}", f.list, if f.list.ends_with('?') { "" } else { "&" });
            let got = get(&gw.url(&path)).await;
            assert_eq!(got.status, 200, "{backend} {path}: {}", got.text());
            assert_eq!(listed(f.edge, &got.json()), want, "{backend} {path}");
            if f.edge == Dialect::GoGrid {
                assert_eq!(got.json()["summary"]["total"], want.len(), "{backend} {path} counts what it lists");
            }
        }
    }
}

/// A catalog with an image in GoGrid's trash and one saved by createImage.
async fn changed_catalog() -> TestGateway {
    let gw = TestGateway::start(Config::default()).await;
    let trashed = get(&gw.url("/api/grid/image/delete?id=250&api_key=demo&v=1.3&sig=0&format=json")).await;
    assert_eq!(trashed.status, 200, "{}", trashed.text());
    let saved = send(
        Method::POST,
        &gw.url("/v2/demo/servers/srv-1/action"),
        &[("content-type", "application/json")],
        r#"{"createImage": {"name": "nightly"}}"#,
    )
    .await;
    assert_eq!(saved.status, 202, "{}", saved.text());
    gw
}

#[tokio::test]
async fn filters_judge_what_each_edge_shows() {
    let catalog = changed_catalog().await;
    filters_agree_with_the_list(&catalog, "catalog").await;
    for upstream in [Dialect::OpenStack, Dialect::Hostway] {
        let front = in_front_of(upstream, &catalog).await;
        filters_agree_with_the_list(&front, upstream.name()).await;
    }
}

#[tokio::test]
async fn a_trashed_image_is_found_by_the_status_every_edge_shows() {
    let catalog = changed_catalog().await;
    for (path, status) in [
        ("/accounts/demo/flexcloud/images/detail?status=DELETED", "DELETED"),
        ("/v2/demo/images/detail?status=DELETED", "DELETED"),
    ] {
        let got = get(&catalog.url(path)).await.json();
        assert_eq!(got["images"][0]["id"], "250", "{path}: {got}");
        assert_eq!(got["images"][0]["status"], status, "{path}");
    }
}

#[tokio::test]
async fn create_image_makes_a_uuid_snapshot_that_type_snapshot_finds() {
    let gw = TestGateway::start(Config::default()).await;
    let saved = send(
        Method::POST,
        &gw.url("/v2.1/demo/servers/srv-1/action"),
        &[("content-type", "application/json"), ("OpenStack-API-Version", "compute 2.45")],
        r#"{"createImage": {"name": "nightly"}}"#,
    )
    .await;
    assert_eq!(saved.status, 202, "{}", saved.text());
    let id = saved.json()["image_id"].as_str().expect("an image_id").to_owned();
    let parsed = uuid::Uuid::parse_str(&id).expect("createImage ids are uuids");
    assert_eq!(parsed.hyphenated().to_string(), id);
    let snapshots = get(&gw.url("/v2/demo/images/detail?type=snapshot")).await.json();
    assert_eq!(listed(Dialect::OpenStack, &snapshots), [id]);
}

fn base() -> &'static str {
    "/api/compute_resources/980190962/images"
}

/// Every image of a Foreman index, as shown.
async fn all_images(gw: &TestGateway) -> Vec<Value> {
    images(Dialect::Foreman, &get(&gw.url(&format!("{}?per_page=all", base()))).await.json())
}

/// `(total, subtotal, ids)` of a Foreman index.
async fn foreman_index(gw: &TestGateway, path: &str) -> (Value, Value, Vec<String>) {
    let got = get(&gw.url(path)).await;
    assert_eq!(got.status, 200, "{path}: {}", got.text());
    let body = got.json();
    (body["total"].clone(), body["subtotal"].clone(), listed(Dialect::Foreman, &body))
}

#[tokio::test]
async fn foreman_totals_count_the_scope_and_subtotals_the_search() {
    let catalog = TestGateway::start(Config::default()).await;
    let search = "/api/compute_resources/980190962/images?search=name%20%3D%20centos-1";
    let nested = "/api/operatingsystems/309172073/images";
    let nested_search = "/api/operatingsystems/309172073/images?search=name%20%3D%20centos-2";
    let mut fronts = vec![("catalog", catalog)];
    for upstream in [Dialect::OpenStack, Dialect::Hostway, Dialect::GoGrid] {
        let front = in_front_of(upstream, &fronts[0].1).await;
        fronts.push((upstream.name(), front));
    }
    for (backend, gw) in &fronts {
        let (total, subtotal, ids) = foreman_index(gw, search).await;
        assert_eq!((total, subtotal, ids), (5.into(), 1.into(), vec!["980190962".to_owned()]), "{backend} {search}");
        // every id an image shows finds it, in a search and under its operating system
        for image in &all_images(gw).await {
            let (id, os) = (id_of(&image["id"]), id_of(&image["operatingsystem_id"]));
            let (_, subtotal, ids) = foreman_index(gw, &format!("{}?search=id%20%3D%20{id}", base())).await;
            assert_eq!((subtotal, ids), (1.into(), vec![id.clone()]), "{backend} id = {id}");
            let shown = get(&gw.url(&format!("/api/operatingsystems/{os}/images/{id}"))).await;
            assert_eq!(shown.status, 200, "{backend} image {id} of os {os}: {}", shown.text());
        }
        // every operating system an image shows scopes exactly the images that show it
        let all = all_images(gw).await;
        let mut systems: Vec<String> = all.iter().map(|i| id_of(&i["operatingsystem_id"])).collect();
        systems.sort();
        systems.dedup();
        for os in systems {
            let want: Vec<String> =
                all.iter().filter(|i| id_of(&i["operatingsystem_id"]) == os).map(|i| id_of(&i["id"])).collect();
            let (total, subtotal, ids) = foreman_index(gw, &format!("/api/operatingsystems/{os}/images")).await;
            assert_eq!((total, subtotal), (want.len().into(), want.len().into()), "{backend} os {os}");
            assert_eq!(ids, want, "{backend} os {os}");
        }
        if *backend == "catalog" {
            let (total, subtotal, ids) = foreman_index(gw, nested).await;
            assert_eq!((total, subtotal), (2.into(), 2.into()), "{backend} {nested}");
            assert_eq!(ids, ["980190962", "298486374"], "{backend} {nested}");
            let (total, subtotal, ids) = foreman_index(gw, nested_search).await;
            assert_eq!((total, subtotal, ids), (2.into(), 1.into(), vec!["298486374".to_owned()]), "{backend}");
        }
    }
}

#[tokio::test]
async fn a_foreman_show_under_another_compute_resource_is_not_found() {
    let gw = TestGateway::start(Config::default()).await;
    let other = get(&gw.url("/api/compute_resources/1/images/980190962")).await;
    assert_eq!(other.status, 404, "{}", other.text());
    assert_eq!(other.json(), serde_json::json!({"error": {"message": "Resource image not found by id '980190962'"}}));
    let own = get(&gw.url("/api/compute_resources/980190962/images/980190962")).await;
    assert_eq!(own.status, 200, "{}", own.text());
    // an image of no compute resource shows the one in the path
    let foreign = get(&gw.url("/api/compute_resources/1/images/133")).await;
    assert_eq!(foreign.status, 200, "{}", foreign.text());
    assert_eq!(foreign.json()["compute_resource_id"], 1);
}

#[tokio::test]
async fn openstack_negotiates_microversions_as_nova_does() {
    let gw = TestGateway::start(Config::default()).await;
    let at = |v: &'static str| [("OpenStack-API-Version", v)];
    let above = send(Method::GET, &gw.url("/v2.1/demo/images"), &at("compute 2.105"), "").await;
    assert_eq!(above.status, 406, "{}", above.text());
    let fault = above.json();
    assert_eq!(fault["computeFault"]["code"], 406, "{fault}");
    assert!(fault["computeFault"]["message"].as_str().unwrap().contains("2.105"), "{fault}");
    let malformed = send(Method::GET, &gw.url("/v2.1/demo/images"), &at("compute 2.01"), "").await;
    assert_eq!(malformed.status, 400, "{}", malformed.text());

    for (headers, version) in [(&[][..], "2.1"), (&at("compute 2.20")[..], "2.20")] {
        for path in ["/v2.1/demo/images", "/v2.1/demo/images/nope"] {
            let got = send(Method::GET, &gw.url(path), headers, "").await;
            let h = &got.headers;
            assert_eq!(h["openstack-api-version"], format!("compute {version}").as_str(), "{path}");
            assert_eq!(h["x-openstack-nova-api-version"], version, "{path}");
            let vary: Vec<&str> = h.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
            assert_eq!(vary, ["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"], "{path}");
        }
    }
    // the legacy v2 endpoint names no version
    let legacy = get(&gw.url("/v2/demo/images")).await;
    assert!(legacy.headers.get("openstack-api-version").is_none() && legacy.headers.get("vary").is_none());
}

#[tokio::test]
async fn hostway_short_paths_link_to_the_account_uri() {
    let gw = TestGateway::start(Config::default()).await;
    for path in ["/images/133", "/accounts/demo/flexcloud/images/133"] {
        let body = get(&gw.url(path)).await.json();
        let want = gw.url("/accounts/demo/flexcloud/images/133/");
        for link in body["image"]["links"].as_array().unwrap() {
            assert_eq!(link["href"], want.as_str(), "{path}");
        }
    }
    let listed = get(&gw.url("/images/detail")).await.json();
    assert_eq!(listed["images"][0]["links"][0]["href"], gw.url("/accounts/demo/flexcloud/images/133/").as_str());
}

#[tokio::test]
async fn gogrid_finds_an_image_by_its_unique_name_through_any_upstream() {
    let catalog = TestGateway::start(Config::default()).await;
    let system_name = "GSI-d8fbf7d7-6c0c-47f5-9fb6-9211ed2fe64e";
    let mut fronts = vec![("catalog", catalog)];
    for upstream in [Dialect::OpenStack, Dialect::Hostway, Dialect::Foreman, Dialect::GoGrid] {
        let front = in_front_of(upstream, &fronts[0].1).await;
        fronts.push((upstream.name(), front));
    }
    for (backend, gw) in &fronts {
        let list = get(&gw.url("/api/grid/image/list?api_key=demo&v=1.3&sig=0&format=json")).await.json();
        let image = images(Dialect::GoGrid, &list).into_iter().find(|i| id_of(&i["id"]) == "250").expect("250 listed");
        let name = image["name"].as_str().unwrap().to_owned();
        if *backend == "catalog" {
            assert_eq!(name, system_name);
        }
        let path = format!("/api/grid/image/get?name={name}&api_key=demo&v=1.3&sig=0&format=json");
        let got = get(&gw.url(&path)).await;
        assert_eq!(got.status, 200, "{backend} {path}: {}", got.text());
        assert_eq!(listed(Dialect::GoGrid, &got.json()), ["250"], "{backend} {path}");
    }
}

#[tokio::test]
async fn foreman_refuses_a_second_image_of_the_same_name_or_uuid() {
    let gw = TestGateway::start(Config::default()).await;
    let create = |body: &'static str| {
        let url = gw.url("/api/compute_resources/980190962/images");
        async move { send(Method::POST, &url, &[("content-type", "application/json")], body).await }
    };
    let first =
        create(r#"{"image": {"name": "tpl", "username": "root", "uuid": "tpl-1", "operatingsystem_id": 1}}"#).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let first = first.json();
    assert!(first.get("user_data").is_none(), "create adds no field Foreman does not answer: {first}");
    for (body, field) in [
        (r#"{"image": {"name": "tpl", "username": "root", "uuid": "tpl-2", "operatingsystem_id": 1}}"#, "name"),
        (
            r#"{"image": {"name": "centos-1", "username": "root", "uuid": "u-3", "operatingsystem_id": 309172073}}"#,
            "name",
        ),
        (r#"{"image": {"name": "other", "username": "root", "uuid": "tpl-1"}}"#, "uuid"),
        (r#"{"image": {"name": "other", "username": "root", "uuid": "string-of-uuid"}}"#, "uuid"),
    ] {
        let got = create(body).await;
        assert_eq!(got.status, 422, "{body}: {}", got.text());
        let human = if field == "name" { "Name" } else { "Uuid" };
        assert_eq!(
            got.json(),
            serde_json::json!({"error": {"id": null, "errors": {field: ["has already been taken"]},
                "full_messages": [format!("{human} has already been taken")]}}),
            "{body}"
        );
    }
    // the same name under another operating system is another image
    let other_os =
        create(r#"{"image": {"name": "tpl", "username": "root", "uuid": "tpl-4", "operatingsystem_id": 2}}"#).await;
    assert_eq!(other_os.status, 201, "{}", other_os.text());

    // an update that changes nothing writes nothing
    let path = gw.url("/api/compute_resources/980190962/images/980190962");
    let before = get(&path).await.json();
    let put = send(Method::PUT, &path, &[("content-type", "application/json")], r#"{"image": {}}"#).await;
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["updated_at"], before["updated_at"]);
    assert_eq!(get(&path).await.json(), before);
}
