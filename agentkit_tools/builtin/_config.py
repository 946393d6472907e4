"""Settings shared by the built-in tools: the file sandbox, the network guard, providers."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit import SystemClock
from agentkit.exceptions import ConfigurationError
from agentkit.protocols import Clock
from agentkit_tools.builtin._calc import CalculatorLimits
from agentkit_tools.builtin._limits import ToolLimits

__all__ = ["ToolsConfig"]

#: Resolves a host name to IP address strings; the default is ``socket.getaddrinfo``.
Resolver = Callable[[str], Sequence[str]]


@dataclass(frozen=True, kw_only=True)
class ToolsConfig:
    """How the built-in tools reach files, the network and outside services.

    Args:
        sandbox_root: The only directory file tools may touch; default: a fresh temporary
            directory made when the config is created and removed, with what the tools wrote
            there, when the config is garbage-collected or the interpreter exits.
        allow_private_addresses: Let web tools reach private, loopback, link-local and other
            non-public addresses (tests against a local server switch this on).
        allowed_hosts: When non-empty, web tools may reach only these host names (an entry
            ``".example.com"`` also admits its subdomains). The address guard still applies.
        http_timeout: Seconds for each connect, read and write of a web request.
        max_response_bytes: A response body larger than this fails the call.
        max_redirects: Redirects followed per request; each target is checked again.
        max_file_bytes: The largest file that file tools read or write.
        max_scan_entries: Directory entries one ``file_list``, ``file_search``, ``file_copy``
            or ``file_move`` call looks at before it stops (and says so in its result).
        max_scan_depth: Directory levels those walks descend below their start.
        max_search_bytes: File bytes one ``file_search`` call reads before it stops.
        max_json_bytes: The largest JSON body a web tool decodes (decoding is one call that
            holds the event loop's thread, so it is kept short).
        translate_url: Base URL of a LibreTranslate server (``POST {url}/translate``).
        translate_api_key: Its API key, if it needs one.
        search_url: Base URL of a SearXNG instance (``GET {url}/search?format=json``).
        http_transport: An httpx transport for every web request (tests pass one that fails
            when a request reaches it, to prove a refusal happened before any socket opened).
        resolver: Host-name resolver for the address guard; default ``socket.getaddrinfo``.
        user_agent: The ``User-Agent`` header of web requests.
        clock: Source of "now" for the time tools.
        limits: Input and output limits of the text, data and time tools.
        calculator_limits: How much work one ``math_calculate`` expression may ask for.
    """

    sandbox_root: Path | None = None
    allow_private_addresses: bool = False
    allowed_hosts: tuple[str, ...] = ()
    http_timeout: float = 15.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    max_file_bytes: int = 10 * 1024 * 1024
    max_scan_entries: int = 100_000
    max_scan_depth: int = 64
    max_search_bytes: int = 64 * 1024 * 1024
    max_json_bytes: int = 2 * 1024 * 1024
    translate_url: str | None = None
    translate_api_key: str | None = None
    search_url: str | None = None
    http_transport: Any = field(default=None, repr=False)
    resolver: Resolver | None = field(default=None, repr=False)
    user_agent: str = "agentkit-tools/0.1 (+https://github.com/agentkit-dev/agentkit)"
    clock: Clock = field(default_factory=SystemClock)
    limits: ToolLimits = field(default_factory=ToolLimits)
    calculator_limits: CalculatorLimits = field(default_factory=CalculatorLimits)

    def __post_init__(self) -> None:
        if self.http_timeout <= 0:
            raise ConfigurationError(f"http_timeout must be positive, got {self.http_timeout}")
        if self.max_response_bytes <= 0 or self.max_file_bytes <= 0:
            raise ConfigurationError("max_response_bytes and max_file_bytes must be positive")
        if min(self.max_scan_entries, self.max_scan_depth, self.max_search_bytes) <= 0 or (
            self.max_json_bytes <= 0
        ):
            raise ConfigurationError(
                "max_scan_entries, max_scan_depth, max_search_bytes and max_json_bytes must be "
                "positive"
            )
        if self.max_redirects < 0:
            raise ConfigurationError(f"max_redirects must be >= 0, got {self.max_redirects}")
        if self.sandbox_root is None:
            root = Path(tempfile.mkdtemp(prefix="agentkit-tools-"))
            # The config's own temporary sandbox goes with the config (or at exit at the latest).
            weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
        else:
            root = Path(self.sandbox_root)
        if not root.is_dir():
            raise ConfigurationError(f"sandbox_root {str(root)!r} is not an existing directory")
        # The real path, so that symlinks in the root's own path do not confuse the checks.
        object.__setattr__(self, "sandbox_root", root.resolve(strict=True))
        object.__setattr__(
            self, "allowed_hosts", tuple(host.lower() for host in self.allowed_hosts)
        )

    @property
    def root(self) -> Path:
        """The resolved sandbox root."""
        assert self.sandbox_root is not None  # set in __post_init__
        return self.sandbox_root
