"""Where an OpenAPI import may read from: file refs, remote refs, redirects and the address guard.

Real HTTP servers on 127.0.0.1 serve the specs. A second counting server stands in for an
internal service: a refusal is proved by its zero hits. Addresses that are not loopback are
never connected to: a transport records every address a request was built for and connects
only to 127.0.0.1, and host names are answered by a counting resolver.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_server import LoopbackOnlyTransport, Route, SpecServer, serving

from agentkit_tools import OpenAPIParser
from agentkit_tools.openapi import OpenAPIError

pytestmark = pytest.mark.timeout(120)

SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)
SECRET = "kubeconfig-token-0123456789"


def spec_with_ref(ref: str) -> dict[str, Any]:
    """An OpenAPI 3.0 document whose one request body schema is ``{"$ref": ref}``."""
    body = {"content": {"application/json": {"schema": {"$ref": ref}}}}
    operation = {
        "operationId": "p",
        "requestBody": body,
        "responses": {"200": {"description": "ok"}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/p": {"post": operation}},
    }


def json_route(document: Any, **headers: str) -> Route:
    """A 200 route serving *document* as JSON."""
    return Route(
        body=json.dumps(document).encode(), headers={"Content-Type": "application/json", **headers}
    )


def redirect(location: str, status: int = 302) -> Route:
    """A redirect to *location*."""
    return Route(status=status, headers={"Location": location})


SCHEMA = {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}
SECRET_SCHEMA = {
    "Pet": {"type": "object", "properties": {"name": {"type": "string", "default": SECRET}}}
}


@pytest.fixture(scope="module")
def api() -> Iterator[SpecServer]:
    """The server the user imports specs from."""
    with serving() as server:
        yield server


@pytest.fixture(scope="module")
def internal() -> Iterator[SpecServer]:
    """A second loopback server standing in for an internal service; it must get no hits."""
    with serving({"/secret.json": json_route(SECRET_SCHEMA)}) as server:
        yield server


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file outside every spec folder, holding a secret."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.json").write_text(json.dumps(SECRET_SCHEMA))
    return folder / "secret.json"


def serve_spec(api: SpecServer, spec: dict[str, Any], **routes: Route) -> str:
    """Serve *spec* at a fresh path of *api* (plus *routes*) and return its URL."""
    name = f"/spec{len(api.routes)}.json"
    api.routes[name] = json_route(spec)
    api.routes.update(routes)
    return api.url + name


# -- a spec from a URL may not read files --------------------------------------------------


FILE_FORMS = ["file://{path}", "file://localhost{path}", "FILE://{path}", "file:{path}"]


@pytest.mark.parametrize("form", FILE_FORMS)
def test_a_url_spec_may_not_reference_a_local_file(
    api: SpecServer, outside: Path, form: str
) -> None:
    """A spec fetched from a URL that refers to a local file is refused; the secret stays out."""
    url = serve_spec(api, spec_with_ref(form.format(path=quote(str(outside))) + "#/Pet"))
    for options in ({}, {"allow_remote_refs": True, "allow_private_addresses": True}):
        with pytest.raises(OpenAPIError, match="refused") as caught:
            OpenAPIParser(**options).parse_spec(url)
        assert SECRET not in str(caught.value)


@SHARED
@given(
    path=st.sampled_from(["/etc/passwd", "/proc/self/environ", "/dev/zero", "/root/.kube/config"])
)
def test_a_url_spec_may_not_reference_any_absolute_file(api: SpecServer, path: str) -> None:
    """Any absolute file URL in a spec from a URL is refused before anything is opened."""
    url = serve_spec(api, spec_with_ref(f"file://{path}"))
    with pytest.raises(OpenAPIError, match="only a spec read from a file may refer to files"):
        OpenAPIParser().parse_spec(url)


def test_a_text_or_dict_spec_may_not_reference_files(outside: Path) -> None:
    """A spec given as text or a dict has no folder, so it may not refer to any file."""
    spec = spec_with_ref(outside.as_uri() + "#/Pet")
    for given_spec in (spec, json.dumps(spec)):
        with pytest.raises(OpenAPIError, match="refused"):
            OpenAPIParser().parse_spec(given_spec)
    relative = spec_with_ref("schemas.json#/Pet")
    with pytest.raises(OpenAPIError, match="refused"):
        OpenAPIParser().parse_spec(relative)


# -- same-origin refs and redirects ----------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_same_origin_ref_redirecting_to_an_internal_service_is_refused(
    api: SpecServer, internal: SpecServer, status: int
) -> None:
    """A same-origin $ref redirecting to another origin obeys the remote-ref rule and the guard."""
    before = len(internal.hits)
    hop = f"/hop{status}.json"
    url = serve_spec(
        api, spec_with_ref(hop + "#/Pet"), **{hop: redirect(internal.url + "/secret.json", status)}
    )
    with pytest.raises(OpenAPIError, match="allow_remote_refs=True"):
        OpenAPIParser().parse_spec(url)
    with pytest.raises(OpenAPIError, match="allow_private_addresses=True"):
        OpenAPIParser(allow_remote_refs=True).parse_spec(url)
    assert len(internal.hits) == before


def test_a_spec_redirecting_to_an_internal_service_is_refused(
    api: SpecServer, internal: SpecServer
) -> None:
    """The spec's own URL redirecting to another origin is refused by the address guard."""
    before = len(internal.hits)
    api.routes["/moved.json"] = redirect(internal.url + "/secret.json")
    with pytest.raises(OpenAPIError, match="allow_private_addresses=True"):
        OpenAPIParser().parse_spec(api.url + "/moved.json")
    assert len(internal.hits) == before


def test_allowed_remote_refs_and_private_addresses_reach_the_second_server(
    api: SpecServer, internal: SpecServer
) -> None:
    """With both switches on, the redirect is followed: the refusals above are the rules."""
    internal.routes["/pet.json"] = json_route(SCHEMA)
    api.routes["/to-pet.json"] = redirect(internal.url + "/pet.json")
    url = serve_spec(api, spec_with_ref("/to-pet.json#/Pet"))
    parser = OpenAPIParser(allow_remote_refs=True, allow_private_addresses=True)
    tools = parser.extract_tools(url)
    assert list(tools[0].parameters["properties"]) == ["name"]
    assert "/pet.json" in internal.hits


def test_same_origin_refs_and_redirects_are_followed(api: SpecServer) -> None:
    """References and redirects within the spec's own origin need no switch."""
    api.routes["/schemas/pet.json"] = json_route(SCHEMA)
    api.routes["/old/pet.json"] = redirect("/schemas/pet.json", 301)
    url = serve_spec(api, spec_with_ref("old/pet.json#/Pet"))
    assert list(OpenAPIParser().extract_tools(url)[0].parameters["properties"]) == ["name"]


METADATA = ["169.254.169.254", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "[::a9fe:a9fe]"]


@pytest.mark.parametrize("host", [*METADATA, "metadata.internal.test"])
def test_a_redirect_to_the_metadata_address_is_refused_without_a_connection(
    api: SpecServer, host: str
) -> None:
    """A redirect to a link-local address (any form, or a name resolving to one) is never sent."""
    transport = LoopbackOnlyTransport()
    asked: list[str] = []

    def resolve(name: str) -> list[str]:
        asked.append(name)
        return ["169.254.169.254"]

    api.routes["/meta.json"] = redirect(f"http://{host}/latest/meta-data/")
    for url in (serve_spec(api, spec_with_ref("/meta.json#/Pet")), api.url + "/meta.json"):
        parser = OpenAPIParser(allow_remote_refs=True, transport=transport, resolver=resolve)
        with pytest.raises(OpenAPIError, match="not a public address"):
            parser.parse_spec(url)
    assert transport.elsewhere == []
    assert transport.hosts  # the loopback server itself was asked
    assert asked == (["metadata.internal.test"] * 2 if host == "metadata.internal.test" else [])


private_v4 = (
    st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="127.0.0.0/8")
    | st.ip_addresses(network="169.254.0.0/16")
    | st.ip_addresses(network="172.16.0.0/12")
    | st.ip_addresses(network="192.168.0.0/16")
    | st.ip_addresses(network="100.64.0.0/10")
)


def written_forms(v4: ipaddress.IPv4Address) -> list[str]:
    """Host forms of *v4* for a URL: itself and the IPv6 forms that embed it."""
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)
    return [str(v4), f"[::ffff:{v4}]", f"[::{v4}]", f"[64:ff9b::{v4}]", f"[{sixtofour}]"]


@SHARED
@given(
    v4=private_v4,
    form=st.integers(0, 4),
    port=st.integers(1, 65535),
    status=st.sampled_from([301, 302, 307, 308]),
)
def test_redirects_to_any_private_address_are_refused(
    api: SpecServer, v4: ipaddress.IPv4Address, form: int, port: int, status: int
) -> None:
    """A redirect of a spec or of a ref to any non-public address, in any form, is never sent."""
    transport = LoopbackOnlyTransport()
    host = written_forms(v4)[form]
    api.routes["/generated.json"] = redirect(f"http://{host}:{port}/x.json", status)
    for url in (
        api.url + "/generated.json",
        serve_spec(api, spec_with_ref("/generated.json#/Pet")),
    ):
        parser = OpenAPIParser(allow_remote_refs=True, transport=transport)
        with pytest.raises(OpenAPIError, match="not a public address"):
            parser.parse_spec(url)
    assert transport.elsewhere == []


def test_a_public_remote_ref_is_pinned_to_the_checked_address(api: SpecServer) -> None:
    """A remote ref whose name resolves to a public address is sent to that very address."""
    transport = LoopbackOnlyTransport()
    url = serve_spec(api, spec_with_ref("http://schemas.example.test/pet.json#/Pet"))
    parser = OpenAPIParser(
        allow_remote_refs=True, transport=transport, resolver=lambda name: ["93.184.216.34"]
    )
    with pytest.raises(OpenAPIError, match="HTTP 599"):
        parser.parse_spec(url)
    assert transport.elsewhere == ["93.184.216.34"]


def test_a_redirect_to_another_scheme_is_refused(api: SpecServer, outside: Path) -> None:
    """A redirect to file: (or any scheme but http/https) is refused."""
    api.routes["/to-file.json"] = redirect(outside.as_uri())
    with pytest.raises(OpenAPIError, match="only http"):
        OpenAPIParser().parse_spec(api.url + "/to-file.json")


def test_the_validator_and_resolver_fetch_nothing(api: SpecServer, internal: SpecServer) -> None:
    """URLs in $schema, $id and jsonSchemaDialect are never fetched by prance or the validator."""
    before = len(internal.hits)
    spec = spec_with_ref("#/components/schemas/Pet")
    spec["openapi"] = "3.1.0"
    spec["jsonSchemaDialect"] = internal.url + "/dialect"
    spec["components"] = {
        "schemas": {
            "Pet": {
                "$id": internal.url + "/id",
                "type": "object",
                "properties": {"a": {"type": "string"}},
            }
        }
    }
    with contextlib.suppress(OpenAPIError):  # an unknown dialect is reported, not fetched
        OpenAPIParser().parse_spec(serve_spec(api, spec))
    spec["components"]["schemas"]["Pet"]["$schema"] = internal.url + "/schema"
    with contextlib.suppress(OpenAPIError):
        OpenAPIParser().parse_spec(serve_spec(api, spec))
    assert len(internal.hits) == before


# -- a spec file may read files under its own folder only ------------------------------------


def spec_folder(tmp_path: Path, ref: str) -> Path:
    """A folder with api.json referring to *ref* and a harmless schemas.json."""
    folder = tmp_path / "api"
    folder.mkdir(exist_ok=True)
    (folder / "schemas.json").write_text(json.dumps(SCHEMA))
    (folder / "api.json").write_text(json.dumps(spec_with_ref(ref)))
    return folder / "api.json"


def test_file_refs_under_the_folder_work(tmp_path: Path) -> None:
    """A relative ref to a file in the spec's folder (or below) is read."""
    (tmp_path / "api" / "sub").mkdir(parents=True)
    (tmp_path / "api" / "sub" / "pet.json").write_text(json.dumps(SCHEMA))
    spec = spec_folder(tmp_path, "sub/pet.json#/Pet")
    assert list(OpenAPIParser().extract_tools(spec)[0].parameters["properties"]) == ["name"]


@pytest.mark.parametrize(
    "ref",
    [
        "../secret.json#/Pet",
        "sub/../../secret.json#/Pet",
        "%2e%2e/secret.json#/Pet",
        "{uri}#/Pet",
        "{path}#/Pet",
    ],
)
def test_file_refs_leaving_the_folder_are_refused(tmp_path: Path, ref: str) -> None:
    """Relative, encoded and absolute refs that leave the spec's folder are refused."""
    (tmp_path / "secret.json").write_text(json.dumps(SECRET_SCHEMA))
    secret = tmp_path / "secret.json"
    spec = spec_folder(tmp_path, ref.format(uri=secret.as_uri(), path=str(secret)))
    with pytest.raises(OpenAPIError, match="leaves the spec's folder") as caught:
        OpenAPIParser().parse_spec(spec)
    assert SECRET not in str(caught.value)


@SHARED
@given(
    ups=st.integers(1, 6),
    encode=st.booleans(),
    name=st.sampled_from(["secret.json", "etc/passwd", "x"]),
)
def test_generated_escaping_refs_are_refused(
    tmp_path: Path, ups: int, encode: bool, name: str
) -> None:
    """Any number of '..' steps, plain or percent-encoded, cannot leave the folder."""
    step = "%2E%2E/" if encode else "../"
    spec = spec_folder(tmp_path, step * ups + name + "#/Pet")
    with pytest.raises(OpenAPIError, match="leaves the spec's folder"):
        OpenAPIParser().parse_spec(spec)


def test_a_symlink_leading_out_is_refused(tmp_path: Path, outside: Path) -> None:
    """A symlink in the folder to a file (or a directory) outside is refused."""
    spec = spec_folder(tmp_path, "link.json#/Pet")
    (spec.parent / "link.json").symlink_to(outside)
    with pytest.raises(OpenAPIError, match="leaves the spec's folder"):
        OpenAPIParser().parse_spec(spec)
    spec = spec_folder(tmp_path, "dir/secret.json#/Pet")
    (spec.parent / "dir").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(OpenAPIError, match="leaves the spec's folder"):
        OpenAPIParser().parse_spec(spec)


def test_a_symlink_staying_inside_is_followed(tmp_path: Path) -> None:
    """A symlink whose target stays in the folder is read like the file itself."""
    spec = spec_folder(tmp_path, "alias.json#/Pet")
    (spec.parent / "alias.json").symlink_to(spec.parent / "schemas.json")
    assert list(OpenAPIParser().extract_tools(spec)[0].parameters["properties"]) == ["name"]


@pytest.mark.timeout(20)
def test_devices_and_fifos_fail_at_once(tmp_path: Path) -> None:
    """/dev/zero, a link to it and a FIFO in the folder are refused without reading or blocking."""
    spec = spec_folder(tmp_path, "file:///dev/zero")
    with pytest.raises(OpenAPIError, match="leaves the spec's folder"):
        OpenAPIParser().parse_spec(spec)
    spec = spec_folder(tmp_path, "zero.json")
    (spec.parent / "zero.json").symlink_to("/dev/zero")
    with pytest.raises(OpenAPIError, match="leaves the spec's folder"):
        OpenAPIParser().parse_spec(spec)
    spec = spec_folder(tmp_path, "pipe.json")
    os.mkfifo(spec.parent / "pipe.json")  # nobody writes: opening it normally would block
    with pytest.raises(OpenAPIError, match="not a regular file"):
        OpenAPIParser().parse_spec(spec)
    with pytest.raises(OpenAPIError, match="not a regular file"):
        OpenAPIParser().parse_spec(Path("/dev/zero"))


SPELLINGS = [
    "{url}/secret.json",
    "//127.0.0.1:{port}/secret.json",
    "http://user:pw@127.0.0.1:{port}/secret.json",
    "HTTP://127.0.0.1:{port}/secret.json",
    "http://localhost:{port}/secret.json",
    "http://[::ffff:127.0.0.1]:{port}/secret.json",
    "http://[::127.0.0.1]:{port}/secret.json",
    "http://2130706433:{port}/secret.json",
    "http://127.1:{port}/secret.json",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_refs_to_another_origin_are_refused_in_any_spelling(
    api: SpecServer, internal: SpecServer, spelling: str
) -> None:
    """However the internal service's address is written, a ref to it is refused unsent."""
    before = len(internal.hits)
    port = internal.url.rsplit(":", 1)[1]
    ref = spelling.format(url=internal.url, port=port) + "#/Pet"
    url = serve_spec(api, spec_with_ref(ref))
    with pytest.raises(OpenAPIError, match="allow_remote_refs=True"):
        OpenAPIParser().parse_spec(url)
    with pytest.raises(OpenAPIError, match="not a public address"):
        OpenAPIParser(allow_remote_refs=True).parse_spec(url)
    assert len(internal.hits) == before


@pytest.mark.parametrize("keyword", ["$dynamicRef", "$recursiveRef"])
@pytest.mark.parametrize("target", ["{url}/secret.json", "secret.json", "//127.0.0.1:{port}/x"])
def test_dynamic_refs_to_other_documents_are_refused(
    internal: SpecServer, keyword: str, target: str
) -> None:
    """A $dynamicRef or $recursiveRef naming a document (jsonschema would fetch it) is refused."""
    before = len(internal.hits)
    port = internal.url.rsplit(":", 1)[1]
    schema = {
        "$id": internal.url + "/base.json",
        "type": "object",
        "properties": {"a": {keyword: target.format(url=internal.url, port=port)}},
    }
    spec = spec_with_ref("#/components/schemas/S")
    spec["openapi"] = "3.1.0"
    spec["components"] = {"schemas": {"S": schema}}
    for validate in (True, False):
        with pytest.raises(OpenAPIError, match="only a fragment"):
            OpenAPIParser(validate=validate).parse_spec(spec)
    assert len(internal.hits) == before


def test_dynamic_refs_to_a_fragment_are_kept() -> None:
    """A $dynamicRef to an anchor in the same schema is ordinary 3.1 and stays."""
    schema = {
        "$dynamicAnchor": "node",
        "type": "object",
        "properties": {"a": {"$dynamicRef": "#node"}},
    }
    spec = spec_with_ref("#/components/schemas/S")
    spec["openapi"] = "3.1.0"
    spec["components"] = {"schemas": {"S": schema}}
    resolved = OpenAPIParser().parse_spec(spec)
    assert resolved["components"]["schemas"]["S"]["properties"]["a"] == {"$dynamicRef": "#node"}


AWKWARD_REFS = [
    "a%00b.json",
    "\x00",
    "file:///%00",
    "http://[::1",
    "http://a b/",
    "http://\x00/",
    "http://xn--/",
    "http://" + "a" * 300 + "/",
    "http://host:99999/",
    "http://127.0.0.1:0/",
    "sub/%ff%fe.json",
    "#/" + "a/" * 50,
    "#%",
]


def read_with_any_ref(folder: Path, ref: str) -> None:
    """Read a spec file and a dict spec holding *ref*: a result or an OpenAPIError, nothing sent."""
    transport = LoopbackOnlyTransport()
    spec = spec_folder(folder, ref)
    for given_spec in (spec, spec_with_ref(ref)):
        with contextlib.suppress(OpenAPIError):
            OpenAPIParser(transport=transport).parse_spec(given_spec)
    assert transport.hosts == []


@pytest.mark.parametrize("ref", AWKWARD_REFS)
def test_awkward_refs_give_a_result_or_an_openapi_error(tmp_path: Path, ref: str) -> None:
    """NUL bytes, broken URLs, bad ports and bad encodings in a $ref give OpenAPIError."""
    read_with_any_ref(tmp_path, ref)


@SHARED
@given(
    ref=st.text(max_size=40)
    | st.from_regex(r"(file|http|https|ftp|data|jar)?:?/{0,3}[^#]{0,20}(#.*)?")
)
def test_any_ref_string_gives_a_result_or_an_openapi_error(tmp_path: Path, ref: str) -> None:
    """Whatever a $ref says, reading the spec succeeds or raises OpenAPIError, sending nothing."""
    read_with_any_ref(tmp_path, ref)


@pytest.mark.parametrize(
    "route",
    [
        Route(status=302, headers={"Location": "http://[::1"}),
        Route(status=302, headers={"Location": "http://xn--/"}),
        Route(status=302, headers={"Location": "ftp://127.0.0.1/x"}),
        Route(status=302, headers={"Location": "data:text/plain,hello"}),
        Route(
            body=b'{"openapi": "3.0.3"}', headers={"Content-Type": "application/json; charset=nope"}
        ),
        Route(body=b"\xff\xfe\x00{", headers={"Content-Type": "application/json"}),
        Route(status=500, body=b"oops"),
        Route(status=302),
    ],
)
def test_odd_answers_give_an_openapi_error(api: SpecServer, route: Route) -> None:
    """Broken redirects, unknown charsets, bad bytes and errors give OpenAPIError, nothing else."""
    api.routes["/odd.json"] = route
    with pytest.raises(OpenAPIError):
        OpenAPIParser().parse_spec(api.url + "/odd.json")
