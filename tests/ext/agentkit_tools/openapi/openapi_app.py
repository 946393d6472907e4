"""A real HTTP API on 127.0.0.1 that serves its own OpenAPI document and records every call."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: Credentials the API accepts, by security scheme.
API_KEY_HEADER = "k-header"
API_KEY_QUERY = "k-query"
API_KEY_COOKIE = "k-cookie"
BEARER_TOKEN = "t0ken"
BASIC = ("ann", "s3cret")

_SECURITY = {
    "/v1/secure/header": [{"KeyHeader": []}],
    "/v1/secure/query": [{"KeyQuery": []}],
    "/v1/secure/cookie": [{"KeyCookie": []}],
    "/v1/secure/bearer": [{"Bearer": []}],
    "/v1/secure/basic": [{"Basic": []}],
}


def _op(operation_id: str, **extra: Any) -> dict[str, Any]:
    echo = {"application/json": {"schema": {"$ref": "#/components/schemas/Echo"}}}
    return {
        "operationId": operation_id,
        "responses": {"200": {"description": "what the server saw", "content": echo}},
        **extra,
    }


def openapi_document() -> dict[str, Any]:
    """The API's own OpenAPI 3.0 document; servers is relative (resolved against its URL)."""
    string = {"type": "string"}
    paths: dict[str, Any] = {
        "/pets/{petId}": {
            "parameters": [
                {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": _op(
                "getPet",
                summary="One pet",
                parameters=[
                    {
                        "name": "fields",
                        "in": "query",
                        "explode": False,
                        "schema": {"type": "array", "items": string},
                    },
                    {"name": "X-Request-Id", "in": "header", "schema": string},
                    {"name": "session", "in": "cookie", "schema": string},
                ],
            ),
            "put": _op(
                "replacePet",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    },
                },
            ),
        },
        "/owners/{id}": {
            "put": _op(
                "replaceOwner",
                parameters=[
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                requestBody={
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    },
                },
            )
        },
        "/search": {
            "get": _op(
                "search",
                parameters=[
                    {
                        "name": "tags",
                        "in": "query",
                        "schema": {"type": "array", "items": string},
                    },
                    {
                        "name": "filter",
                        "in": "query",
                        "style": "deepObject",
                        "schema": {
                            "type": "object",
                            "properties": {"color": string, "size": {"type": "integer"}},
                        },
                    },
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ],
            )
        },
        "/files/{name}": {
            "get": _op(
                "getFile",
                parameters=[{"name": "name", "in": "path", "required": True, "schema": string}],
            )
        },
        "/pets": {
            "post": _op(
                "createPet",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                    },
                },
            )
        },
        "/contact": {
            "post": _op(
                "sendContact",
                requestBody={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["email"],
                                "properties": {
                                    "email": string,
                                    "topics": {"type": "array", "items": string},
                                    "subscribe": {"type": "boolean"},
                                },
                            }
                        }
                    },
                },
            )
        },
        "/uploads": {
            "post": _op(
                "upload",
                requestBody={
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "note": string,
                                    "document": {"type": "string", "format": "binary"},
                                },
                            }
                        }
                    }
                },
            )
        },
        "/status/{code}": {
            "get": _op(
                "answerWith",
                parameters=[
                    {"name": "code", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            )
        },
    }
    for path, security in _SECURITY.items():
        paths[path.removeprefix("/v1")] = {"get": _op(path.rsplit("/", 1)[1] + "Secure")}
        paths[path.removeprefix("/v1")]["get"]["security"] = security
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "2.1.0"},
        "servers": [{"url": "/v1"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Pet": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": string,
                        "tag": {"type": "string", "nullable": True},
                    },
                },
                "Echo": {"type": "object", "additionalProperties": True},
            },
            "securitySchemes": {
                "KeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "KeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
                "KeyCookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
                "Bearer": {"type": "http", "scheme": "bearer"},
                "Basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


@dataclass
class Seen:
    """One request as the server parsed it."""

    method: str
    raw_path: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    cookies: dict[str, str]
    content_type: str
    body: bytes
    json: Any = None
    form: list[tuple[str, str]] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)

    def echo(self) -> dict[str, Any]:
        """What the server answers: everything it saw, as JSON."""
        return {
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "cookies": self.cookies,
            "content_type": self.content_type,
            "json": self.json,
            "form": [list(pair) for pair in self.form],
            "parts": self.parts,
        }


@dataclass
class ApiServer:
    """The running API: its base URL, the spec URL and every request it saw."""

    url: str
    requests: list[Seen] = field(default_factory=list)

    @property
    def spec_url(self) -> str:
        """Where the API serves its OpenAPI document."""
        return self.url + "/openapi.json"

    @property
    def calls(self) -> list[Seen]:
        """The requests other than fetching the document."""
        return [seen for seen in self.requests if not seen.path.endswith(".json")]


def _multipart(content_type: str, body: bytes) -> list[dict[str, Any]]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True) or b""
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": part.get_content_type() if part.get("content-type") else None,
                "text": payload.decode("utf-8", errors="replace"),
            }
        )
    return parts


def _authorized(seen: Seen) -> bool:
    path = seen.path
    if path == "/v1/secure/header":
        return seen.headers.get("x-api-key") == API_KEY_HEADER
    if path == "/v1/secure/query":
        return ("api_key", API_KEY_QUERY) in seen.query
    if path == "/v1/secure/cookie":
        return seen.cookies.get("sid") == API_KEY_COOKIE
    if path == "/v1/secure/bearer":
        return seen.headers.get("authorization") == f"Bearer {BEARER_TOKEN}"
    if path == "/v1/secure/basic":
        token = base64.b64encode(":".join(BASIC).encode()).decode()
        return seen.headers.get("authorization") == f"Basic {token}"
    return True


def _handler(server: ApiServer, documents: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            cookie = SimpleCookie(self.headers.get("Cookie") or "")
            content_type = self.headers.get("Content-Type") or ""
            seen = Seen(
                method=self.command,
                raw_path=self.path,
                path=split.path,
                query=parse_qsl(split.query, keep_blank_values=True),
                headers={key.lower(): value for key, value in self.headers.items()},
                cookies={key: morsel.value for key, morsel in cookie.items()},
                content_type=content_type,
                body=body,
            )
            if content_type.startswith("application/json") and body:
                seen.json = json.loads(body)
            elif content_type.startswith("application/x-www-form-urlencoded"):
                seen.form = parse_qsl(body.decode(), keep_blank_values=True)
            elif content_type.startswith("multipart/form-data"):
                seen.parts = _multipart(content_type, body)
            server.requests.append(seen)
            status, reply = 200, json.dumps(seen.echo()).encode()
            if split.path in documents:
                reply = documents[split.path]
            elif split.path.startswith("/v1/status/"):
                status = int(split.path.rsplit("/", 1)[1])
                reply = json.dumps({"detail": f"you asked for {status}"}).encode()
            elif not _authorized(seen):
                status, reply = 401, b'{"detail": "bad credentials"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


def start_api(documents: dict[str, Any] | None = None) -> tuple[ApiServer, Any, Any]:
    """Start the API; *documents* maps extra paths to JSON documents it serves."""
    served = {"/openapi.json": json.dumps(openapi_document()).encode()}
    served.update({path: json.dumps(doc).encode() for path, doc in (documents or {}).items()})
    state = ApiServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, served))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    return state, httpd, thread
