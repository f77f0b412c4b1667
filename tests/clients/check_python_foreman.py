"""python-foreman against the Foreman edge: it reads the version from
/api/status, builds its methods from /apidoc/v2.json, and sends the path's
parameters again in the query or the body."""

import tempfile

from foreman.client import Foreman, ForemanException

from harness import COMPUTE_RESOURCE, IDS, NAMES, PASSWORD, URL, USER, Checks, can, equal, expect, ids, raises

checks = Checks("python_foreman")
CR = COMPUTE_RESOURCE


def connect(password=PASSWORD):
    return Foreman(URL, auth=(USER, password), api_version=2, use_cache=False, cache_dir=tempfile.mkdtemp())


foreman = connect()
images = foreman.compute_resources
show = images.images_compute_resource_id_showimages
update = images.images_compute_resource_id_updateimages
destroy = images.images_compute_resource_id_destroyimages


@checks
def version_from_status():
    equal(foreman.version, "3.12.0", "version")


@checks
def list_all():
    page = images.images_index(compute_resource_id=CR, per_page="all")
    equal(ids(i["id"] for i in page["results"]), IDS, "ids")


@checks
def paging():
    seen = []
    for number in (1, 2, 3):
        page = images.images_index(compute_resource_id=CR, per_page=2, page=number)
        equal((page["total"], page["page"]), (5, number), "envelope")
        seen += ids(i["id"] for i in page["results"])
    equal(seen, IDS, "every page")


@checks
def show_image():
    for image_id, name in NAMES.items():
        equal(show(id=image_id, compute_resource_id=CR)["name"], name, image_id)


@checks
def missing_image_is_an_empty_answer():
    # python-foreman answers a 404 with []
    equal(show(id="no-such-image", compute_resource_id=CR), [], "missing")


@checks
def bad_password_is_401():
    e = raises(ForemanException, connect("not-the-password").compute_resources.images_index, compute_resource_id=CR)
    equal(e.res.status_code, 401, "status")


@checks
def create():
    image = {"name": "tpl-1", "username": "root", "uuid": "tpl-uuid-1"}
    if can("register"):
        created = images.images_create(compute_resource_id=CR, image=image)
        equal(created["name"], "tpl-1", "created")
        equal(show(id=created["id"], compute_resource_id=CR)["name"], "tpl-1", "read back")
    else:
        e = raises(ForemanException, images.images_create, compute_resource_id=CR, image=image)
        equal(e.res.status_code, 501, "status")


@checks
def invalid_create_is_422():
    image = {"name": "", "username": "root", "uuid": "tpl-uuid-2"}
    e = raises(ForemanException, images.images_create, compute_resource_id=CR, image=image)
    equal(e.res.status_code, 422, "status")
    equal(e.res.json()["error"]["full_messages"], ["Name can't be blank"], "full_messages")


@checks
def update_image():
    if can("rename"):
        equal(update(compute_resource_id=CR, id=IDS[4], image={"name": "renamed"})["name"], "renamed", "updated")
        equal(show(id=IDS[4], compute_resource_id=CR)["name"], "renamed", "read back")
    else:
        e = raises(ForemanException, update, compute_resource_id=CR, id=IDS[4], image={"name": "renamed"})
        equal(e.res.status_code, 501, "status")
        equal(show(id=IDS[4], compute_resource_id=CR)["name"], NAMES[IDS[4]], "nothing changed")


@checks
def delete_image():
    if can("delete"):
        record = destroy(compute_resource_id=CR, id=IDS[4])
        equal(str(record["id"]), IDS[4], "deleted record")
        if not can("only_trash"):
            equal(show(id=IDS[4], compute_resource_id=CR), [], "gone")
    else:
        e = raises(ForemanException, destroy, compute_resource_id=CR, id=IDS[4])
        equal(e.res.status_code, 501, "status")
        expect(show(id=IDS[4], compute_resource_id=CR), "nothing changed")


checks.done()
