//! Integer ids at the GoGrid and Foreman edges over an upstream whose ids
//! are UUIDs: the same integer on every request and in every gateway
//! process, and a show or delete by that integer reaches the upstream image
//! it stands for — also in a process that has never shown it.

use crate::common::binary::Binary;
use crate::common::dialects::{listed, shown};
use crate::common::{FakeUpstream, canned, get, send};
use crate::matrix;
use dragoman::dialect::Dialect;
use http::Method;

const UUID: &str = "70a599e0-31e7-49b7-b260-868f441e862b";
const GG: &str = "api_key=demo&v=1.3&sig=0&format=json";

/// A gateway process whose every edge goes to the fake OpenStack `fake`.
fn gateway_process(fake: &FakeUpstream) -> Binary {
    let upstream = format!("openstack={}", fake.url());
    Binary::start(
        &["--listen", "127.0.0.1:0", "--upstream", &upstream],
        &[("OS_TOKEN", "tok-123"), ("OS_PROJECT_ID", "proj-7")],
        false,
    )
}

#[tokio::test]
async fn uuid_images_keep_one_integer_id_across_requests_and_processes() {
    let mut replies = (matrix::openstack().canned)();
    replies.insert(0, canned(Method::DELETE, &format!("/v2.1/proj-7/images/{UUID}"), 204, "application/json", ""));
    let fake = FakeUpstream::start(replies).await;
    let first = gateway_process(&fake);
    let second = gateway_process(&fake);

    // the same integers on every request and in both processes
    let gogrid_list = format!("/api/grid/image/list?{GG}");
    let foreman_list = "/api/compute_resources/7/images?per_page=all";
    let ids = listed(Dialect::GoGrid, &get(&first.url(&gogrid_list)).await.json());
    assert_eq!(ids.len(), 11);
    for id in &ids {
        assert!(id.parse::<i64>().is_ok_and(|n| n > 0), "{id} is a positive integer");
    }
    assert_eq!(listed(Dialect::GoGrid, &get(&first.url(&gogrid_list)).await.json()), ids);
    assert_eq!(listed(Dialect::GoGrid, &get(&second.url(&gogrid_list)).await.json()), ids);
    assert_eq!(listed(Dialect::Foreman, &get(&second.url(foreman_list)).await.json()), ids, "both edges agree");
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "no two images share an id");

    // the UUID image's integer, read from the listing where Foreman shows the UUID beside it
    let foreman = get(&first.url(foreman_list)).await.json();
    let mapped = foreman["results"].as_array().unwrap().iter().find(|i| i["uuid"] == UUID).unwrap()["id"].to_string();

    // a third process, which has shown nothing yet, resolves it to the UUID
    let third = gateway_process(&fake);
    let before = fake.seen().len();
    let got = get(&third.url(&format!("/api/grid/image/get?id={mapped}&{GG}"))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(shown(Dialect::GoGrid, &got.json()), (mapped.clone(), "fakeimage7".to_owned()));
    let asked: Vec<String> = fake.seen()[before..].iter().map(|s| s.target.clone()).collect();
    assert_eq!(asked.last().map(String::as_str), Some(format!("/v2.1/proj-7/images/{UUID}").as_str()), "{asked:?}");

    // a second show by the integer is one upstream call: the process remembers
    let before = fake.seen().len();
    let got = get(&third.url(&format!("/api/compute_resources/7/images/{mapped}"))).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["uuid"], UUID);
    assert_eq!(fake.seen().len() - before, 1);

    // delete by the integer, in yet another fresh process, deletes the UUID upstream
    let fourth = gateway_process(&fake);
    let got = send(Method::DELETE, &fourth.url(&format!("/api/compute_resources/7/images/{mapped}")), &[], "").await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["id"].to_string(), mapped);
    let deleted: Vec<_> = fake.seen().into_iter().filter(|s| s.method == Method::DELETE).collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0].target, format!("/v2.1/proj-7/images/{UUID}"));

    // an integer that stands for no image is the edge's own not found
    let got = get(&fourth.url(&format!("/api/grid/image/get?id={}&{GG}", (1_i64 << 52) + 7))).await;
    assert_eq!(got.status, 400, "{}", got.text());
    assert_eq!(got.json()["list"][0]["errorcode"], "IllegalArgumentException");
}
