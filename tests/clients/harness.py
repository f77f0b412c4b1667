"""What every client check shares: where the gateway is, whom to be, what
the catalog holds, what the dialect behind the edge can do, and one line per
check: `ok|FAIL <client> <edge>-><behind> <shape> <check>`.

run.sh sets the DRAGOMAN_* variables; each check_*.py runs its checks in
order against a gateway started fresh for it.
"""

import hashlib
import os
import sys

URL = os.environ["DRAGOMAN_URL"]
HOST, PORT = URL.removeprefix("http://").rsplit(":", 1)
PORT = int(PORT)
EDGE = os.environ["DRAGOMAN_EDGE"]
BEHIND = os.environ["DRAGOMAN_BEHIND"]  # memory | hostway | openstack | gogrid | foreman
SHAPE = os.environ["DRAGOMAN_SHAPE"]  # memory | chain | clients

USER = os.environ["DRAGOMAN_USER"]
PASSWORD = os.environ["DRAGOMAN_PASSWORD"]
API_KEY = os.environ["DRAGOMAN_API_KEY"]
SECRET = os.environ["DRAGOMAN_SECRET"]
ACCOUNT = os.environ["DRAGOMAN_ACCOUNT"]
PROJECT = os.environ["DRAGOMAN_PROJECT"]
COMPUTE_RESOURCE = 980190962

# The embedded catalog, in catalog order: the sample images of the four API documents.
CATALOG = [
    ("133", "test_debian_image"),
    ("70a599e0-31e7-49b7-b260-868f441e862b", "fakeimage7"),
    ("250", "n"),
    ("980190962", "centos-1"),
    ("298486374", "centos-2"),
]

# GoGrid and Foreman ids are integers: where the edge, or the dialect behind
# it, is one of them, an id that is no integer shows as the integer derived
# from it (docs/IDS.md: BLAKE2b, 8 bytes, folded into [2^40, 2^53)).
INTEGER_IDS = {"gogrid", "foreman"}


def integer_id(image_id):
    if image_id.isdigit() and (image_id == "0" or not image_id.startswith("0")):
        return int(image_id)
    bits = int.from_bytes(hashlib.blake2b(image_id.encode(), digest_size=8).digest(), "big")
    return (1 << 40) + bits % ((1 << 53) - (1 << 40))


def shown_id(image_id):
    return str(integer_id(image_id)) if INTEGER_IDS & {EDGE, BEHIND} else image_id


IDS = [shown_id(image_id) for image_id, _ in CATALOG]
NAMES = {shown_id(image_id): name for image_id, name in CATALOG}

# Which writes each backend can carry out (docs/COMPATIBILITY.md); the edge
# answers the others with its own not-implemented error and changes nothing.
CAN = {
    "snapshot": {"memory", "openstack", "gogrid"},  # createImage, GoGrid's save
    "metadata": {"memory", "openstack"},  # Nova's image metadata writes
    "rename": {"memory", "gogrid", "foreman"},  # a name change alone
    "edit": {"memory", "gogrid"},  # GoGrid's edit, which always sets isPublic
    "register": {"memory", "foreman"},  # Foreman's create
    "delete": {"memory", "openstack", "gogrid", "foreman"},
    "trash": {"memory", "gogrid"},  # a GoGrid delete goes to the trash
    "only_trash": {"gogrid"},  # any delete goes to the trash, for good nowhere
}


def can(write):
    return BEHIND in CAN[write]


def ids(values):
    """Ids as strings: Foreman and GoGrid send decimal ids as numbers."""
    return [str(v) for v in values]


class Checks:
    """Runs named checks in order, one line each; exits 3 when any failed."""

    def __init__(self, client):
        self.client = client
        self.failed = 0

    def __call__(self, fn):
        where = f"{self.client} {EDGE}->{BEHIND} {SHAPE} {fn.__name__}"
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the rest
            self.failed += 1
            reason = " ".join(f"{type(e).__name__}: {describe(e)}".split())[:400]
            print(f"FAIL {where}: {reason}", flush=True)
        else:
            print(f"ok {where}", flush=True)
        return fn

    def done(self):
        sys.exit(3 if self.failed else 0)


def describe(e):
    """An exception in a line: the HTTP reply behind it when it carries one."""
    reply = getattr(e, "res", None) or getattr(e, "response", None)
    if reply is not None and hasattr(reply, "status_code"):
        return f"HTTP {reply.status_code} {reply.text[:200]}"
    return str(e)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def equal(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}" if what else f"got {got!r}, want {want!r}")


def raises(kind, fn, *args, **kwargs):
    """The exception `fn` raises, which must be a `kind`."""
    try:
        result = fn(*args, **kwargs)
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}, got {result!r}")
