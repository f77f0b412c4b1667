"""Hostway FlexCloud has no public client: plain requests, as the API
document's examples call it (GET /accounts/{accountId}/flexcloud/images/{id}
with HTTP Basic)."""

import requests

from harness import ACCOUNT, IDS, NAMES, PASSWORD, URL, USER, Checks, equal, expect

checks = Checks("hostway_requests")
session = requests.Session()
session.auth = (USER, PASSWORD)
BASE = f"{URL}/accounts/{ACCOUNT}/flexcloud/images"


def get(url, **kwargs):
    return session.get(url, timeout=30, **kwargs)


@checks
def view_image():
    reply = get(f"{BASE}/133")
    equal(reply.status_code, 200, "status")
    image = reply.json()["image"]
    equal((image["id"], image["name"], image["updated"]), ("133", "test_debian_image", None), "image")
    equal([link["rel"] for link in image["links"]], ["self", "bookmark"], "links")
    equal(image["links"][0]["href"], f"{BASE}/133/", "self link")
    expect(image["created"] and image["status"] in ("ACTIVE", "SAVING", "DELETED"), f"image {image}")


@checks
def view_every_image():
    for image_id, name in NAMES.items():
        equal(get(f"{BASE}/{image_id}").json()["image"]["name"], name, image_id)


@checks
def list_images():
    for path in ("", "/detail"):
        reply = get(BASE + path)
        equal(reply.status_code, 200, path)
        equal([i["id"] for i in reply.json()["images"]], IDS, path)


@checks
def alternative_uri():
    image = get(f"{URL}/images/133").json()["image"]
    equal(image["id"], "133", "/images/{id}")
    # the canonical URI of the image is under the caller's account
    equal(image["links"][0]["href"], f"{BASE}/133/", "self link")


@checks
def filters_agree_with_the_list():
    shown = get(f"{BASE}/detail").json()["images"]
    for status in sorted({i["status"] for i in shown} | {"ACTIVE", "SAVING", "DELETED"}):
        got = [i["id"] for i in get(f"{BASE}/detail", params={"status": status}).json()["images"]]
        equal(got, [i["id"] for i in shown if i["status"] == status], f"status={status}")
    # an image is either a provider template or saved from a server
    typed = [i["id"] for kind in ("BASE", "SERVER") for i in get(BASE, params={"type": kind}).json()["images"]]
    equal(sorted(typed), sorted(i["id"] for i in shown), "type=BASE and type=SERVER")


@checks
def unauthorized_request():
    reply = requests.get(f"{BASE}/133", auth=(USER, "not-the-password"), timeout=30)
    equal(reply.status_code, 401, "status")
    expect(reply.headers.get("WWW-Authenticate", "").startswith("Basic"), "no Basic challenge")


@checks
def image_that_does_not_exist():
    reply = get(f"{BASE}/missing_image_id")
    equal(reply.status_code, 404, "status")
    fault = reply.json()["itemNotFound"]
    equal((fault["message"], fault["code"], fault["details"]), ("Resource not found", 404, ""), "fault")
    expect(fault["errorid"], "no errorid")


@checks
def account_not_found():
    reply = get(f"{URL}/accounts/fake/flexcloud/images/122")
    equal(reply.status_code, 404, "status")
    fault = reply.json()["itemNotFound"]
    equal((fault["message"], fault["code"]), ("Resource not found", 404), "fault")
    expect(fault["guid"], "no guid")


@checks
def writes_are_not_allowed():
    reply = session.delete(f"{BASE}/133", timeout=30)
    equal(reply.status_code, 405, "status")
    equal(reply.json()["badMethod"]["code"], 405, "fault")
    equal(get(f"{BASE}/133").status_code, 200, "nothing changed")


checks.done()
