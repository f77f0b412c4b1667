"""apache-libcloud's OpenStack driver against the OpenStack edge, through the
gateway's Keystone: it never pages, so a list without a limit must hold
every image, and it reads `created` and `updated` from each."""

from libcloud.common.exceptions import BaseHTTPError
from libcloud.common.types import InvalidCredsError
from libcloud.compute.providers import get_driver
from libcloud.compute.types import Provider

from harness import IDS, NAMES, PASSWORD, PROJECT, URL, USER, Checks, can, equal, expect, raises

checks = Checks("libcloud_openstack")
OpenStack = get_driver(Provider.OPENSTACK)


def connect(password=PASSWORD):
    return OpenStack(
        USER,
        password,
        ex_force_auth_url=URL,
        ex_force_auth_version="3.x_password",
        ex_tenant_name=PROJECT,
        ex_domain_name="Default",
        ex_force_service_region="RegionOne",
        secure=False,
    )


driver = connect()


@checks
def list_images_without_paging():
    images = driver.list_images(ex_only_active=False)
    equal([i.id for i in images], IDS, "ids")
    equal([i.name for i in images], [NAMES[i] for i in IDS], "names")
    expect(all("created" in i.extra and "updated" in i.extra for i in images), "created and updated")
    active = [i.id for i in images if i.extra["status"] == "ACTIVE"]
    equal([i.id for i in driver.list_images()], active, "only active")


@checks
def updated_is_never_null():
    # libcloud keys on `updated` and sorts/syncs by it; Glance sets it at
    # insert, so an upstream without one (Hostway) shows `created`
    for image in driver.list_images(ex_only_active=False) + [driver.get_image(i) for i in IDS]:
        expect(isinstance(image.extra["updated"], str), f"image {image.id}: updated {image.extra['updated']!r}")
        expect(isinstance(image.extra["created"], str), f"image {image.id}: created {image.extra['created']!r}")


@checks
def get_image():
    for image_id, name in NAMES.items():
        equal(driver.get_image(image_id).name, name, image_id)


@checks
def missing_image_is_404():
    equal(raises(BaseHTTPError, driver.get_image, "no-such-image").code, 404, "status")


@checks
def bad_password_is_invalid_creds():
    raises(InvalidCredsError, connect("not-the-password").list_images)


@checks
def delete_image():
    image = driver.get_image(IDS[4])
    if can("delete"):
        expect(driver.delete_image(image), "not deleted")
        if not can("only_trash"):
            equal(raises(BaseHTTPError, driver.get_image, IDS[4]).code, 404, "gone")
    else:
        equal(raises(BaseHTTPError, driver.delete_image, image).code, 501, "not implemented")
        equal(driver.get_image(IDS[4]).name, NAMES[IDS[4]], "nothing changed")


checks.done()
