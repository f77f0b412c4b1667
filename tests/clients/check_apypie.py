"""apypie's ForemanApi against the Foreman edge: it learns the API from
/apidoc/v2.json, then lists (one huge page), shows, creates, updates and
deletes images."""

import tempfile

import apypie
from apypie.foreman import ForemanApiException

from harness import BEHIND, COMPUTE_RESOURCE, IDS, NAMES, PASSWORD, URL, USER, Checks, can, equal, expect, ids, raises

checks = Checks("apypie")
CR = {"compute_resource_id": COMPUTE_RESOURCE}


def connect(password=PASSWORD):
    return apypie.ForemanApi(uri=URL, username=USER, password=password, apidoc_cache_dir=tempfile.mkdtemp())


api = connect()
statuses = []  # the status of every reply apypie reads
api._session.hooks["response"].append(lambda reply, *args, **kwargs: statuses.append(reply.status_code))


def status_of(e):
    """The HTTP status behind a ForemanApiException."""
    return e.__cause__.response.status_code


def error_of(e):
    return e.__cause__.response.json()["error"]


@checks
def apidoc():
    equal(api.resource("images").actions, ["create", "destroy", "index", "show", "update"], "image actions")


@checks
def apidoc_checksum():
    # apypie names its cache after each reply's Apipie-Checksum; hammer asks /apidoc/apipie_checksum
    checksum = api.http_call("get", "/apidoc/apipie_checksum")["checksum"]
    equal(api.apidoc_cache_name, checksum, "cache name")


@checks
def status_version():
    equal(api.http_call("get", "/api/status")["version"], "3.12.0", "version")


@checks
def list_in_one_huge_page():
    equal(ids(i["id"] for i in api.list("images", params=CR)), IDS, "ids")


FIELDS = ("operatingsystem_id", "operatingsystem_name", "compute_resource_id", "compute_resource_name",
          "architecture_id", "architecture_name", "uuid", "username", "created_at", "updated_at")


@checks
def every_field_with_its_type():
    # FAM compares ids as integers; hammer shows a reference only with both id and name
    for image in api.list("images", params=CR) + [api.show("images", i, params=CR) for i in IDS]:
        where = f"image {image.get('id')}"
        for key in ("id", "operatingsystem_id", "compute_resource_id", "architecture_id"):
            expect(isinstance(image[key], int), f"{where}: {key} {image[key]!r}")
        nulls = [key for key in FIELDS if image.get(key) is None]
        equal(nulls, [], f"{where}: null fields")


@checks
def paging():
    page = api.resource_action("images", "index", {**CR, "per_page": 2, "page": 2})
    equal((page["total"], page["page"], page["per_page"]), (5, 2, 2), "envelope")
    equal(ids(i["id"] for i in page["results"]), IDS[2:4], "page 2")


@checks
def per_page_past_the_bound_is_an_error():
    e = raises(ForemanApiException, api.resource_action, "images", "index", {**CR, "per_page": str(2**32 + 1)})
    equal(status_of(e), 400, "status")
    equal(error_of(e)["parameter_name"], "per_page", "parameter")


@checks
def counts_judge_the_scope_and_the_search():
    everything = api.resource_action("images", "index", {**CR, "per_page": 1000})
    results = everything["results"]
    equal((everything["total"], everything["subtotal"]), (len(results), len(results)), "the whole scope")
    name = results[0]["name"]
    found = api.resource_action("images", "index", {**CR, "search": f'name = "{name}"'})
    equal(found["total"], len(results), "total: the scope before search")
    want = ids(i["id"] for i in results if i["name"] == name)
    equal((found["subtotal"], ids(i["id"] for i in found["results"])), (len(want), want), "subtotal: the search")
    for os_id in sorted({i["operatingsystem_id"] for i in results if i["operatingsystem_id"] is not None}):
        nested = api.http_call("get", f"/api/operatingsystems/{os_id}/images", {"per_page": 1000})
        want = ids(i["id"] for i in results if i["operatingsystem_id"] == os_id)
        equal(ids(i["id"] for i in nested["results"]), want, f"images of operating system {os_id}")
        equal((nested["total"], nested["subtotal"]), (len(want), len(want)), f"counts of operating system {os_id}")


@checks
def show_under_another_compute_resource():
    # an image is shown under a compute resource only when it shows that one
    for image in api.list("images", params=CR):
        try:
            shown = api.show("images", image["id"], params={"compute_resource_id": 1})
        except ForemanApiException as e:
            equal(status_of(e), 404, f"image {image['id']} under compute resource 1")
            continue
        equal(shown["compute_resource_id"], 1, f"image {image['id']} under compute resource 1")


@checks
def show():
    for image_id, name in NAMES.items():
        equal(api.show("images", image_id, params=CR)["name"], name, image_id)


@checks
def missing_image_is_404():
    e = raises(ForemanApiException, api.show, "images", "no-such-image", params=CR)
    equal(status_of(e), 404, "status")


@checks
def bad_password_is_401():
    e = raises(ForemanApiException, connect("not-the-password").list, "images", params=CR)
    equal(status_of(e), 401, "status")


@checks
def create():
    image = {"image": {"name": "tpl-1", "username": "root", "uuid": "tpl-uuid-1", "password": "secret"}}
    if can("register"):
        created = api.create("images", image, params=CR)
        equal((statuses[-1], created["name"]), (201, "tpl-1"), "created")
        expect("password" not in created, "a password came back")
        equal(api.show("images", created["id"], params=CR)["name"], "tpl-1", "read back")
    else:
        equal(status_of(raises(ForemanApiException, api.create, "images", image, params=CR)), 501, "status")


@checks
def invalid_create_is_422():
    image = {"image": {"name": "", "username": "root", "uuid": "tpl-uuid-2"}}
    e = raises(ForemanApiException, api.create, "images", image, params=CR)
    equal(status_of(e), 422, "status")
    equal(error_of(e)["full_messages"], ["Name can't be blank"], "full_messages")


@checks
def scope_holds_on_every_action():
    # a compute resource lists only the images that show it; another's image
    # is not found there, to show, update or delete
    try:
        under_one = api.list("images", params={"compute_resource_id": 1, "per_page": "all"})
    except ForemanApiException as e:
        # behind an upstream with no tenant "1", the compute resource itself is not
        # found, and so is every image under it
        equal(status_of(e), 404, "list under a compute resource the upstream does not have")
        under_one = []
    for image in under_one:
        equal(image["compute_resource_id"], 1, f"image {image['id']} listed under compute resource 1")
    elsewhere = [i for i in api.list("images", params=CR) if i["id"] not in {j["id"] for j in under_one}]
    for image in elsewhere:
        change = {"id": image["id"], "image": {"name": "moved"}}
        e = raises(ForemanApiException, api.update, "images", change, params={"compute_resource_id": 1})
        equal(status_of(e), 404, f"update of {image['id']} under compute resource 1")
        e = raises(ForemanApiException, api.delete, "images", {"id": image["id"]}, params={"compute_resource_id": 1})
        equal(status_of(e), 404, f"delete of {image['id']} under compute resource 1")
        equal(api.show("images", image["id"], params=CR)["name"], image["name"], "nothing changed")


@checks
def update_to_a_taken_name_is_422():
    # Foreman's uniqueness, kept where the edge keeps the records: its catalog
    if BEHIND != "memory":
        return
    images = api.list("images", params=CR)
    pairs = [(a, b) for a in images for b in images if a["id"] != b["id"]]
    a, b = next((a, b) for a, b in pairs if a["operatingsystem_id"] == b["operatingsystem_id"])
    e = raises(ForemanApiException, api.update, "images", {"id": a["id"], "image": {"name": b["name"]}}, params=CR)
    equal(status_of(e), 422, "status")
    equal(error_of(e)["full_messages"], ["Name has already been taken"], "full_messages")
    equal(api.show("images", a["id"], params=CR)["name"], a["name"], "nothing changed")


@checks
def update():
    change = {"id": IDS[4], "image": {"name": "renamed"}}
    if can("rename"):
        equal((api.update("images", change, params=CR)["name"], statuses[-1]), ("renamed", 200), "updated")
        equal(api.show("images", IDS[4], params=CR)["name"], "renamed", "read back")
    else:
        equal(status_of(raises(ForemanApiException, api.update, "images", change, params=CR)), 501, "status")
        equal(api.show("images", IDS[4], params=CR)["name"], NAMES[IDS[4]], "nothing changed")


@checks
def delete():
    image_id = IDS[4]
    if can("delete"):
        # ForemanApi.delete returns nothing; the record is what destroy answers
        record = api.resource_action("images", "destroy", {**CR, "id": image_id})
        equal((statuses[-1], str(record["id"])), (200, image_id), "deleted record")
        expect(record["password"] is None, "a password came back")
        if not can("only_trash"):
            equal(status_of(raises(ForemanApiException, api.show, "images", image_id, params=CR)), 404, "gone")
    else:
        e = raises(ForemanApiException, api.delete, "images", {"id": image_id}, params=CR)
        equal(status_of(e), 501, "status")


checks.done()
