"""The openstack CLI (python-openstackclient) against the gateway's Keystone
and the OpenStack edge's version documents."""

import json
import os
import subprocess

from harness import PASSWORD, PROJECT, URL, USER, Checks, equal, expect

checks = Checks("openstack_cli")


def openstack(*args, password=PASSWORD, project_domain=("--os-project-domain-name", "Default")):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    command = [
        "openstack",
        "--os-auth-url", URL + "/v3",
        "--os-identity-api-version", "3",
        "--os-username", USER,
        "--os-password", password,
        "--os-user-domain-name", "Default",
        "--os-project-name", PROJECT,
        *project_domain,
        "--os-region-name", "RegionOne",
        *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def output(done):
    expect(done.returncode == 0, f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)


@checks
def token_issue():
    token = output(openstack("token", "issue", "-f", "json"))
    equal(token["project_id"], PROJECT, "project")
    expect(token["id"] and token["expires"], f"token {token}")


@checks
def token_issue_project_domain_by_id():
    token = output(openstack("token", "issue", "-f", "json", project_domain=("--os-project-domain-id", "default")))
    equal(token["project_id"], PROJECT, "project")


@checks
def bad_password_is_refused():
    done = openstack("token", "issue", "-f", "json", password="not-the-password")
    expect(done.returncode != 0, "a token for a bad password")
    expect("HTTP 401" in done.stderr, done.stderr.strip()[-300:])


@checks
def versions_show_compute():
    versions = output(openstack("versions", "show", "--service", "compute", "-f", "json"))
    by_version = {v["Version"]: v for v in versions}
    equal(sorted(by_version), ["2.0", "2.1"], "versions")
    current = by_version["2.1"]
    equal((current["Status"], current["Region Name"]), ("CURRENT", "RegionOne"), "2.1")
    expect(current["Endpoint"].startswith(URL + "/v2.1"), f"endpoint {current['Endpoint']}")
    expect(current["Max Microversion"], "no max microversion")


checks.done()
