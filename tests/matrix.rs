//! The translation matrix: for every edge dialect X and upstream dialect Y, a
//! client request in X against a gateway whose upstream is a fake Y server
//! replaying recorded Y bodies yields the expected upstream request and the
//! expected X reply — for show, list, paging, get-many and not-found.

use crate::common::dialects::{assert_not_found, get_many_path, id_at, list_path, listed, page_path, show_path, shown};
use crate::common::{Canned, FakeUpstream, Seen, TestGateway, UPSTREAM_BASIC, fixture, get, upstream_basic};
use dragoman::config::{Config, CredentialsConfig, UpstreamConfig};
use dragoman::dialect::Dialect;
use http::Method;

/// A fake upstream of one dialect, its recorded bodies, and what the gateway
/// must send it.
pub(crate) struct Upstream {
    pub dialect: Dialect,
    scope: &'static str,
    /// The image its recorded show body describes.
    pub show_id: &'static str,
    show_name: &'static str,
    /// The ids its recorded list body holds, in order.
    list_ids: &'static [&'static str],
    pub canned: fn() -> Vec<Canned>,
    credentials: fn() -> CredentialsConfig,
    /// Checks the request a show of `id` was sent as.
    expect_show: fn(&Seen, &str),
    /// Checks the request a first list page of `limit` images was sent as,
    /// for an edge that counts (`true`) or not.
    expect_list: fn(&Seen, Option<usize>, bool),
}

fn path(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

fn query(target: &str) -> Vec<(String, String)> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param(seen: &Seen, key: &str) -> Option<String> {
    query(&seen.target).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn header(seen: &Seen, name: &str) -> String {
    seen.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn reply(matches: impl Fn(&str) -> bool + Send + Sync + 'static, status: u16, body: String) -> Canned {
    Canned {
        matches: Box::new(move |m, target| *m == Method::GET && matches(target)),
        status,
        content_type: "application/json",
        body: body.into(),
    }
}

pub(crate) fn hostway() -> Upstream {
    Upstream {
        dialect: Dialect::Hostway,
        scope: "acct-7",
        show_id: "133",
        show_name: "test_debian_image",
        list_ids: &["debian_lenny_template", "vmi2011Dec26_2C7D8Dbur"],
        canned: || {
            vec![
                reply(
                    |t| path(t) == "/accounts/acct-7/flexcloud/images/detail",
                    200,
                    fixture("hostway/docs_ImageListDetails_example_2012.json"),
                ),
                reply(
                    |t| path(t) == "/accounts/acct-7/flexcloud/images/133",
                    200,
                    fixture("hostway/docs_Image_get_example.json"),
                ),
                reply(
                    |t| t.starts_with("/accounts/acct-7/flexcloud/images/"),
                    404,
                    fixture("hostway/docs_error_404_itemNotFound_image.json"),
                ),
            ]
        },
        credentials: upstream_basic,
        expect_show: |seen, id| {
            assert_eq!(seen.target, format!("/accounts/acct-7/flexcloud/images/{id}"));
            assert_eq!(header(seen, "authorization"), UPSTREAM_BASIC);
        },
        expect_list: |seen, _limit, _counts| {
            // Hostway cannot page: the whole list, paged by the gateway
            assert_eq!(seen.target, "/accounts/acct-7/flexcloud/images/detail");
        },
    }
}

pub(crate) fn openstack() -> Upstream {
    Upstream {
        dialect: Dialect::OpenStack,
        scope: "proj-7",
        show_id: "70a599e0-31e7-49b7-b260-868f441e862b",
        show_name: "fakeimage7",
        list_ids: &[
            "155d900f-4e14-4e4c-a73d-069cbf4541e6",
            "a2459075-d96c-40d5-893e-577ff92e721c",
            "76fa36fc-c930-4bf3-8c8a-ea2a2420deb6",
            "cedef40a-ed67-4d10-800e-17455edce175",
            "c905cedb-7281-47e4-8a62-f26bc5fc4c77",
            "a440c04b-79fa-479c-bed1-0b816eaec379",
            "70a599e0-31e7-49b7-b260-868f441e862b",
            "95fad737-9325-4855-b37e-20a62268ec88",
            "535426d4-5d75-44f4-9591-a2123d23c33f",
            "5f7d4f5b-3781-4a4e-9046-a2a800e807e5",
            "261b52ed-f693-4147-8f3b-d25df5efd968",
        ],
        canned: || {
            vec![
                reply(
                    |t| path(t) == "/v2.1/proj-7/images/detail",
                    200,
                    fixture("openstack/images-details-get-resp.json"),
                ),
                reply(
                    |t| path(t) == "/v2.1/proj-7/images/70a599e0-31e7-49b7-b260-868f441e862b",
                    200,
                    fixture("openstack/image-get-resp.json"),
                ),
                reply(
                    |t| t.starts_with("/v2.1/proj-7/images/"),
                    404,
                    fixture("openstack/libcloud__os_keypairs_not_found.json"),
                ),
            ]
        },
        credentials: || CredentialsConfig { token: Some("tok-123".into()), ..Default::default() },
        expect_show: |seen, id| {
            assert_eq!(seen.target, format!("/v2.1/proj-7/images/{id}"));
            assert_eq!(header(seen, "x-auth-token"), "tok-123");
            assert!(seen.headers.get("openstack-api-version").is_none(), "no microversion above 2.35 is pinned");
        },
        expect_list: |seen, limit, counts| {
            assert_eq!(path(&seen.target), "/v2.1/proj-7/images/detail");
            // Nova reports no totals: an edge that counts walks in pages of 1000
            let want = limit.filter(|_| !counts).unwrap_or(1000);
            assert_eq!(param(seen, "limit"), Some(want.to_string()), "{}", seen.target);
            assert_eq!(param(seen, "marker"), None);
        },
    }
}

pub(crate) fn gogrid() -> Upstream {
    Upstream {
        dialect: Dialect::GoGrid,
        scope: "",
        show_id: "250",
        show_name: "n",
        list_ids: &["1531", "1532", "1533", "1534"],
        canned: || {
            vec![
                reply(
                    |t| path(t) == "/api/grid/image/get" && query(t).contains(&("id".into(), "250".into())),
                    200,
                    fixture("gogrid/seed_image_get.json"),
                ),
                reply(|t| path(t) == "/api/grid/image/get", 400, fixture("gogrid/jclouds_test_error_handler.json")),
                reply(|t| path(t) == "/api/grid/image/list", 200, fixture("gogrid/libcloud_image_list.json")),
            ]
        },
        credentials: || CredentialsConfig {
            api_key: Some("key-1".into()),
            secret: Some("sec".into()),
            ..Default::default()
        },
        expect_show: |seen, id| {
            assert_eq!(path(&seen.target), "/api/grid/image/get");
            let ids: Vec<String> = query(&seen.target).into_iter().filter(|(k, _)| k == "id").map(|(_, v)| v).collect();
            assert_eq!(ids, [id]);
            expect_gogrid_auth(seen);
        },
        expect_list: |seen, limit, _counts| {
            assert_eq!(path(&seen.target), "/api/grid/image/list");
            expect_gogrid_auth(seen);
            if let Some(limit) = limit {
                assert_eq!(param(seen, "num_items"), Some(limit.to_string()), "{}", seen.target);
                assert_eq!(param(seen, "page"), Some("0".into()), "{}", seen.target);
            }
        },
    }
}

fn expect_gogrid_auth(seen: &Seen) {
    assert_eq!(param(seen, "api_key").as_deref(), Some("key-1"), "{}", seen.target);
    assert_eq!(param(seen, "format").as_deref(), Some("json"), "{}", seen.target);
    let sig = param(seen, "sig").unwrap_or_default();
    assert!(sig.len() == 32 && sig.bytes().all(|b| b.is_ascii_hexdigit()), "sig {sig:?}");
    assert!(param(seen, "v").is_some_and(|v| v.starts_with("1.")), "{}", seen.target);
}

pub(crate) fn foreman() -> Upstream {
    Upstream {
        dialect: Dialect::Foreman,
        scope: "980190962", // the compute resource its recorded images name
        show_id: "980190962",
        show_name: "centos-1",
        list_ids: &["980190962", "298486374"],
        canned: || {
            vec![
                reply(
                    |t| path(t) == "/api/v2/compute_resources/980190962/images/980190962",
                    200,
                    fixture("foreman/seed_image_show.json"),
                ),
                reply(
                    |t| path(t) == "/api/v2/compute_resources/980190962/images",
                    200,
                    fixture("foreman/seed_images_index.json"),
                ),
                reply(
                    |t| t.starts_with("/api/v2/compute_resources/980190962/images/"),
                    404,
                    r#"{"error": {"message": "Resource image not found by id 'missing-1'"}}"#.into(),
                ),
            ]
        },
        credentials: upstream_basic,
        expect_show: |seen, id| {
            assert_eq!(seen.target, format!("/api/v2/compute_resources/980190962/images/{id}"));
            assert_eq!(header(seen, "authorization"), UPSTREAM_BASIC);
        },
        expect_list: |seen, limit, _counts| {
            assert_eq!(path(&seen.target), "/api/v2/compute_resources/980190962/images");
            let want = limit.unwrap_or(1000);
            assert_eq!(param(seen, "per_page"), Some(want.to_string()), "{}", seen.target);
            assert_eq!(param(seen, "page"), Some("1".into()), "{}", seen.target);
        },
    }
}

/// A gateway whose every edge goes to `fake`.
pub(crate) async fn gateway_in_front_of(up: &Upstream, fake: &FakeUpstream) -> TestGateway {
    let mut config = Config::default();
    let mut upstream = UpstreamConfig::new("fake", up.dialect, &fake.url());
    upstream.scope = up.scope.into();
    upstream.credentials = (up.credentials)();
    config.upstreams.push(upstream);
    config.server.default_backend = "fake".into();
    TestGateway::start(config).await
}

/// The requests `fake` received while `f` ran.
async fn requests_during<F: std::future::Future<Output = T>, T>(fake: &FakeUpstream, f: F) -> (T, Vec<Seen>) {
    let before = fake.seen().len();
    let out = f.await;
    (out, fake.seen()[before..].to_vec())
}

async fn run_matrix(up: Upstream) {
    let fake = FakeUpstream::start((up.canned)()).await;
    let gw = gateway_in_front_of(&up, &fake).await;
    for edge in Dialect::ALL {
        let pair = format!("{edge} -> {}", up.dialect);
        let counts = matches!(edge, Dialect::GoGrid | Dialect::Foreman);

        // show
        let (got, seen) = requests_during(&fake, get(&gw.url(&show_path(edge, up.show_id)))).await;
        assert_eq!(got.status, 200, "{pair} show: {}", got.text());
        let shown_id = id_at(edge, Some(up.dialect), up.show_id);
        assert_eq!(shown(edge, &got.json()), (shown_id.clone(), up.show_name.to_owned()), "{pair} show");
        assert_eq!(seen.len(), 1, "{pair} show sends one request: {seen:?}");
        (up.expect_show)(&seen[0], up.show_id);

        // not found, in the edge's own form
        let (got, seen) = requests_during(&fake, get(&gw.url(&show_path(edge, "missing-1")))).await;
        assert_not_found(edge, got.status.as_u16(), &got.json(), "missing-1");
        (up.expect_show)(&seen[0], "missing-1");

        // list everything
        let (got, seen) = requests_during(&fake, get(&gw.url(&list_path(edge)))).await;
        assert_eq!(got.status, 200, "{pair} list: {}", got.text());
        let list_ids: Vec<String> = up.list_ids.iter().map(|id| id_at(edge, Some(up.dialect), id)).collect();
        assert_eq!(listed(edge, &got.json()), list_ids, "{pair} list");
        assert_eq!(seen.len(), 1, "{pair} list of a short catalog is one request: {seen:?}");
        (up.expect_list)(&seen[0], None, counts);

        // the first page of two, translated into the upstream's paging
        if let Some(page) = page_path(edge, 2, 0, None) {
            let (got, seen) = requests_during(&fake, get(&gw.url(&page))).await;
            assert_eq!(got.status, 200, "{pair} page: {}", got.text());
            let ids = listed(edge, &got.json());
            assert_eq!(ids[..2], list_ids[..2], "{pair} page");
            (up.expect_list)(&seen[0], Some(2), counts);
        }

        // get many by id: native at GoGrid, a fan-out of shows elsewhere
        if edge == Dialect::GoGrid {
            let (got, seen) = requests_during(&fake, get(&gw.url(&get_many_path(&[up.show_id, "missing-1"])))).await;
            assert_eq!(got.status, 200, "{pair} get many: {}", got.text());
            assert_eq!(listed(edge, &got.json()), [shown_id], "{pair} get many");
            if up.dialect == Dialect::GoGrid {
                assert_eq!(seen.len(), 1, "{pair} get many is one call: {seen:?}");
            } else {
                assert_eq!(seen.len(), 2, "{pair} get many fans out: {seen:?}");
                let (mut a, mut b) = (seen[0].clone(), seen[1].clone());
                if !a.target.contains(up.show_id) {
                    std::mem::swap(&mut a, &mut b);
                }
                (up.expect_show)(&a, up.show_id);
                (up.expect_show)(&b, "missing-1");
            }
        }
    }
}

#[tokio::test]
async fn every_edge_in_front_of_hostway() {
    run_matrix(hostway()).await;
}

#[tokio::test]
async fn every_edge_in_front_of_openstack() {
    run_matrix(openstack()).await;
}

#[tokio::test]
async fn every_edge_in_front_of_gogrid() {
    run_matrix(gogrid()).await;
}

#[tokio::test]
async fn every_edge_in_front_of_foreman() {
    run_matrix(foreman()).await;
}
