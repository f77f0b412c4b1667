"""openstacksdk against the OpenStack edge, authenticated through
keystoneauth at the gateway's own Keystone (auth_url = {gateway}/v3)."""

import json
import uuid

import openstack
from keystoneauth1 import exceptions as ks
from openstack import exceptions
from openstack.compute.v2.server import Server

from harness import BEHIND, IDS, NAMES, PASSWORD, PROJECT, URL, USER, Checks, can, equal, expect, raises

checks = Checks("openstacksdk")
state = {}


def connect(password=PASSWORD, domain_by="name"):
    domains = (
        {"user_domain_name": "Default", "project_domain_name": "Default"}
        if domain_by == "name"
        else {"user_domain_id": "default", "project_domain_id": "default"}
    )
    return openstack.connect(
        auth_url=URL + "/v3",
        username=USER,
        password=password,
        project_name=PROJECT,
        region_name="RegionOne",
        **domains,
    )


@checks
def token_and_catalog():
    conn = connect()
    expect(conn.authorize(), "no token")
    endpoint = conn.compute.get_endpoint()
    expect(endpoint.rstrip("/") in (f"{URL}/v2.1/{PROJECT}", f"{URL}/v2/{PROJECT}"), f"compute endpoint {endpoint}")
    state["conn"] = conn


@checks
def project_domain_by_id():
    expect(connect(domain_by="id").authorize(), "no token")


@checks
def bad_password_is_unauthorized():
    # the SDK re-raises keystoneauth's 401 as its own exception
    e = raises(exceptions.SDKException, connect("not-the-password").authorize)
    expect("HTTP 401" in str(e), str(e))
    conn = connect("not-the-password")
    raises(ks.Unauthorized, conn.session.get_token)


@checks
def versions_list_at_the_root():
    versions = state["conn"].session.get(URL + "/", authenticated=False).json()["versions"]
    equal(sorted(v["id"] for v in versions), ["v2.0", "v2.1"], "versions")


@checks
def version_discovery():
    data = state["conn"].compute.get_endpoint_data()
    equal(data.api_version[0], 2, "major version")
    expect(data.max_microversion is not None, "no max microversion")


@checks
def list_images():
    images = list(state["conn"].compute.images())
    equal([i.id for i in images], IDS, "ids")
    equal([i.name for i in images], [NAMES[i] for i in IDS], "names")


@checks
def list_pages_through_next_links():
    conn = state["conn"]
    first = conn.compute.get("/images/detail?limit=2").json()
    equal([i["id"] for i in first["images"]], IDS[:2], "first page")
    expect(any(link["rel"] == "next" for link in first.get("images_links", [])), "no next link")
    images = list(conn.compute.images(details=True, limit=2))
    equal([i.id for i in images], IDS, "every page")


@checks
def get_image():
    for image_id, name in NAMES.items():
        image = state["conn"].compute.get_image(image_id)
        equal((image.id, image.name), (image_id, name), "shown")


@checks
def every_image_has_novas_three_links():
    # self, bookmark and the image service's alternate, whatever is behind
    for image in state["conn"].compute.images():
        rels = [(link["rel"], link.get("type")) for link in image.links]
        equal(rels, [("self", None), ("bookmark", None), ("alternate", "application/vnd.openstack.image")], image.id)
        expect(image.links[2]["href"].endswith(f"/images/{image.id}"), image.links[2]["href"])


@checks
def find_image():
    conn = state["conn"]
    equal(conn.compute.find_image("fakeimage7").id, IDS[1], "by name")
    equal(conn.compute.find_image(IDS[0]).id, IDS[0], "by id")
    equal(conn.compute.find_image("no-such-image"), None, "missing")


@checks
def missing_image_is_not_found():
    raises(exceptions.NotFoundException, state["conn"].compute.get_image, "no-such-image")


@checks
def image_metadata():
    conn = state["conn"]
    image_id = IDS[1]
    before = conn.compute.get_image_metadata(image_id).metadata
    if can("metadata"):
        after = conn.compute.set_image_metadata(image_id, color="blue").metadata
        equal(after.get("color"), "blue", "set")
        equal(conn.compute.get_image_metadata(image_id).metadata.get("color"), "blue", "read back")
        conn.compute.delete_image_metadata(image_id, ["color"])
        equal(conn.compute.get_image_metadata(image_id).metadata, before, "after delete")
    else:
        e = raises(exceptions.HttpException, conn.compute.set_image_metadata, image_id, color="blue")
        equal(e.status_code, 501, "not implemented")
        equal(conn.compute.get_image_metadata(image_id).metadata, before, "nothing changed")


@checks
def create_server_image():
    # the compute half of create_server_image (its other half reads the new image from Glance)
    conn = state["conn"]
    server = Server(id="srv-1")
    if can("snapshot"):
        image_id = server.create_image(conn.compute, "snap-1", {"purpose": "test"} if can("metadata") else None)
        equal(conn.compute.get_image(image_id).name, "snap-1", "read back")
        if BEHIND in ("memory", "openstack"):
            equal(str(uuid.UUID(image_id)), image_id, "a snapshot's id is a uuid")
    else:
        e = raises(exceptions.HttpException, server.create_image, conn.compute, "snap-1")
        equal(e.status_code, 501, "not implemented")


@checks
def filters_agree_with_the_list():
    conn = state["conn"]
    shown = list(conn.compute.images(details=True))
    for status in sorted({i.status for i in shown} | {"ACTIVE", "SAVING", "DELETED"}):
        got = [i.id for i in conn.compute.images(details=True, status=status)]
        equal(got, [i.id for i in shown if i.status == status], f"status={status}")
    for kind in ("snapshot", "backup"):
        got = [i.id for i in conn.compute.images(details=True, type=kind)]
        equal(got, [i.id for i in shown if (i.metadata or {}).get("image_type") == kind], f"type={kind}")
    for arch in sorted({(i.metadata or {}).get("architecture") for i in shown} - {None}):
        body = conn.compute.get("/images/detail", params={"property-architecture": arch}).json()
        want = [i.id for i in shown if (i.metadata or {}).get("architecture") == arch]
        equal([i["id"] for i in body["images"]], want, f"property-architecture={arch}")


@checks
def microversions_are_negotiated():
    conn = state["conn"]
    reply = conn.compute.get("/images", headers={"OpenStack-API-Version": "compute 2.105"}, raise_exc=False)
    equal(reply.status_code, 406, "above the maximum")
    equal(reply.json()["computeFault"]["code"], 406, "fault")
    reply = conn.compute.get("/images", headers={"OpenStack-API-Version": "compute 2.3"})
    if "/v2.1" in conn.compute.get_endpoint():
        equal(reply.headers.get("OpenStack-API-Version"), "compute 2.3", "version header")
        equal(reply.headers.get("X-OpenStack-Nova-API-Version"), "2.3", "legacy version header")
        expect("OpenStack-API-Version" in reply.headers.get("Vary", ""), f"vary {reply.headers.get('Vary')}")


@checks
def delete_image():
    conn = state["conn"]
    image_id = IDS[4]
    if can("delete"):
        conn.compute.delete_image(image_id, ignore_missing=False)
        if can("only_trash"):
            equal(conn.compute.get_image(image_id).status, "DELETED", "trashed")
        else:
            raises(exceptions.NotFoundException, conn.compute.get_image, image_id)
        raises(exceptions.NotFoundException, conn.compute.delete_image, "no-such-image", ignore_missing=False)
    else:
        e = raises(exceptions.HttpException, conn.compute.delete_image, image_id, ignore_missing=False)
        equal(e.status_code, 501, f"not implemented: {json.dumps(e.details)}")
        equal(conn.compute.get_image(image_id).id, image_id, "nothing changed")


checks.done()
