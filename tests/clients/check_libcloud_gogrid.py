"""apache-libcloud's GoGrid driver against the GoGrid edge: its own calls,
and signed calls through its own connection."""

from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError
from libcloud.compute.base import Node
from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider

from harness import API_KEY, HOST, IDS, NAMES, PORT, SECRET, Checks, can, equal, expect, ids, raises

checks = Checks("libcloud_gogrid")
GoGrid = get_driver(Provider.GOGRID)
driver = GoGrid(API_KEY, SECRET, secure=False, host=HOST, port=PORT)
NO_OBJECT = "No object found that matches your input criteria."


def call(method, **params):
    """A signed call through the driver's own connection (v=1.8, format=json)."""
    return driver.connection.request(f"/api/grid/image/{method}", params=params).object


@checks
def driver_speaks_1_8():
    equal(driver.connection.add_default_params({})["v"], "1.8", "v")


@checks
def list_images():
    images = driver.list_images()
    equal(ids(i.id for i in images), IDS, "ids")
    equal([i.name for i in images], [NAMES[i] for i in IDS], "friendlyName")


@checks
def signed_get():
    for image_id, name in NAMES.items():
        body = call("get", id=image_id)
        equal(body["status"], "success", "status")
        image = body["list"][0]
        equal((str(image["id"]), image["friendlyName"]), (image_id, name), "image")


OPTIONS = ("os", "type", "state")


@checks
def documented_shape():
    # jclouds' ServerImage needs every option object, an owner and billing
    # tokens (NullPointerException otherwise); Dasein aborts on any null
    for image in call("list")["list"] + [call("get", id=i)["list"][0] for i in IDS]:
        where = f"image {image.get('id')}"
        expect(isinstance(image["id"], int), f"{where}: id is an integer")
        nulls = [key for key, value in image.items() if value is None]
        equal(nulls, [], f"{where}: null fields")
        for key in OPTIONS:
            option = image[key]
            expect(isinstance(option["id"], int) and isinstance(option["name"], str), f"{where}: {key} {option}")
            equal(option["object"], "option", f"{where}: {key}")
        equal(image["owner"]["object"], "customer", f"{where}: owner")
        expect(isinstance(image["owner"]["id"], int) and image["owner"]["name"], f"{where}: owner {image['owner']}")
        expect(isinstance(image["billingtokens"], list), f"{where}: billingtokens")
        expect(isinstance(image["location"], str) and image["location"], f"{where}: location")
        expect(isinstance(image["updatedTime"], int), f"{where}: updatedTime")
        expect(image["state"]["name"] in ("Saving", "Available", "Deleted", "Trash", "Migrating"), f"{where}: state")


@checks
def signed_get_many():
    body = call("get", image=["250", "no-such-image", "133"])  # decimal ids: the same everywhere
    equal(ids(i["id"] for i in body["list"]), ["250", "133"], "found")


@checks
def filters_agree_with_the_list():
    shown = call("list")["list"]
    fields = (
        ("isPublic", lambda i: str(i["isPublic"]).lower(), {"true", "false"}),
        ("image.state", lambda i: i["state"]["name"], {"Available", "Saving", "Trash"}),
        ("image.type", lambda i: i["type"]["name"], {"Web Server", "Database Server"}),
    )
    for param, field, vocabulary in fields:
        for value in sorted({field(i) for i in shown} | vocabulary):
            body = call("list", **{param: value})
            want = ids(i["id"] for i in shown if field(i) == value)
            equal(ids(i["id"] for i in body["list"]), want, f"{param}={value}")
            equal(body["summary"]["total"], len(want), f"{param}={value} total")


@checks
def paging():
    seen = []
    for page in range(3):
        body = call("list", num_items=2, page=page)
        equal((body["summary"]["total"], body["summary"]["numpages"]), (5, 3), f"summary of page {page}")
        seen += ids(i["id"] for i in body["list"])
    equal(seen, IDS, "every page")


@checks
def missing_image_is_gogrids_400():
    e = raises(BaseHTTPError, call, "get", id="no-such-image")
    equal((e.code, e.message), (400, NO_OBJECT), "error")


@checks
def bad_signature_is_invalid_creds():
    bad = GoGrid(API_KEY, "not-the-secret", secure=False, host=HOST, port=PORT)
    raises(InvalidCredsError, bad.list_images)


@checks
def ex_save_image():
    node = Node("srv-1", "srv-1", NodeState.RUNNING, [], [], driver)
    if can("snapshot"):
        image = driver.ex_save_image(node, "snap-1")
        equal(image.name, "snap-1", "saved")
        equal(call("get", id=image.id)["list"][0]["friendlyName"], "snap-1", "read back")
    else:
        e = raises(BaseHTTPError, driver.ex_save_image, node, "snap-1")
        equal(e.code, 501, "not implemented")


@checks
def ex_edit_image():
    image = [i for i in driver.list_images() if i.id in (980190962, "980190962")][0]
    if can("edit"):
        edited = driver.ex_edit_image(image=image, public=False, name="renamed", ex_description="edited")
        equal(edited.name, "renamed", "edited")
        equal(call("get", id="980190962")["list"][0]["friendlyName"], "renamed", "read back")
    else:
        e = raises(BaseHTTPError, driver.ex_edit_image, image=image, public=False, name="renamed")
        equal(e.code, 501, "not implemented")
        equal(call("get", id="980190962")["list"][0]["friendlyName"], "centos-1", "nothing changed")


@checks
def edit_by_unique_name():
    # GoGrid's edit names an image by its unique name too, whatever is behind
    name = call("get", id="250")["list"][0]["name"]
    if can("edit"):
        edited = call("edit", name=name, description="edited by name")["list"][0]
        equal((str(edited["id"]), edited["description"]), ("250", "edited by name"), "edited")
        equal(call("get", id="250")["list"][0]["description"], "edited by name", "read back")
    else:
        equal(raises(BaseHTTPError, call, "edit", name=name, description="x").code, 501, "not implemented")


@checks
def delete_and_restore():
    if not can("delete"):
        e = raises(BaseHTTPError, call, "delete", id="250")
        equal(e.code, 501, "not implemented")
        return
    state = call("delete", id="250")["list"][0]["state"]["name"]
    if can("trash"):
        equal(state, "Trash", "deleted")
        equal(call("restore", id="250")["list"][0]["state"]["name"], "Available", "restored")
    else:
        equal(state, "Deleted", "deleted")
        expect(raises(BaseHTTPError, call, "restore", id="250").code == 501, "restore without a trash")


checks.done()
