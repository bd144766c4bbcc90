"""Which addresses ingest may fetch from, and connections that go only to the address that was checked.

A URL given to ingest (a page, a feed, a feed's entry, every redirect) is a
request the product makes on the user's network, so it must not reach what an
outsider cannot: the machine itself, the private network, the cloud's metadata
service. `Guard.addresses` resolves a host once and refuses it when any of its
addresses is not a public unicast address (loopback, RFC 1918 and other private
ranges, IPv6 unique-local, link-local including 169.254.169.254, multicast,
unspecified, reserved, documentation, shared 100.64/10, and IPv4 addresses
hidden in IPv6 ones), or when its port is not 80 or 443. The operator allows
internal news sites with `RAG_FETCH_ALLOW` (host names, which may then resolve
to anything and use any port, and CIDR networks, whose addresses may use any
port).

`PinnedTransport` is an `httpx` transport whose connections are opened by
`PinnedBackend`: it checks the addresses and connects to one of them, never to
the name, so a DNS answer that changes between check and connection (DNS
rebinding) changes nothing. The request keeps the name in its Host header and
in TLS (SNI and certificate checks), which httpcore takes from the URL, not
from the connection. Every read and write of the connection is bounded by the
deadline of the URL being fetched (`deadline()`), and so is the name's
look-up, so neither a slow resolver nor a server that drips a byte at a time
can hold a fetch past it.

`Refused` never says which rule refused, or whether anything listens there:
the fetcher reports one message for it and for connection errors alike.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from core.settings import is_host_or_network

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

DEFAULT_PORTS = frozenset({80, 443})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("fetch_deadline", default=None)


class Refused(Exception):
    """The address may not be fetched; the reason is kept for logs and tests, never shown to whoever gave the URL."""


def is_public(ip: IPAddress) -> bool:
    """Whether `ip` is a public unicast address (an IPv4 address inside an IPv6 one must be public too)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if inner is not None and not is_public(inner):
            return False
        if ip.teredo is not None and not is_public(ip.teredo[1]):
            return False
    special = ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    return ip.is_global and not special


@dataclass(frozen=True)
class AllowList:
    """What the operator allows besides public addresses: host names and networks (`RAG_FETCH_ALLOW`)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """`["127.0.0.0/8", "news.intranet", "::1"]` → an allow-list (entries as `core.settings` validated them).

        Raises:
            ValueError: an entry is neither a host name nor an address or network.
        """
        hosts, networks = set(), []
        for entry in (e.strip().lower().rstrip(".") for e in entries):
            if not entry:
                continue
            if not is_host_or_network(entry):
                raise ValueError(f"not a host name or network: {entry!r}")
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system's resolver, in its order (an address is its own)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Guard:
    """Decides, once per connection, which addresses of a host may be connected to.

    Args:
        allow: what the operator allows besides public addresses on ports 80 and 443.
        resolve: `(host, port) -> [address, ...]` (default: the system resolver; tests pass fakes).
    """

    def __init__(self, allow: AllowList | None = None, resolve: Resolver | None = None) -> None:
        self.allow = allow or AllowList()
        self._resolve = resolve or system_resolver

    def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for `host:port`.

        Raises:
            Refused: the name does not resolve, or an address or the port may not be fetched.
        """
        try:
            found = [ipaddress.ip_address(a.split("%")[0]) for a in _within_deadline(self._resolve, host.strip("[]"), port)]
        except (OSError, UnicodeError, ValueError) as err:
            raise Refused(f"{host}: cannot resolve it ({err})") from None
        if not found:
            raise Refused(f"{host}: no address")
        if self.allow.allows_host(host):
            return [str(ip) for ip in found]  # the operator vouches for this name, wherever it points
        for ip in found:
            if not (is_public(ip) or self.allow.allows_address(ip)):
                raise Refused(f"{host}: {ip} is not a public address and RAG_FETCH_ALLOW does not allow it")
        if port not in DEFAULT_PORTS and not all(self.allow.allows_address(ip) for ip in found):
            raise Refused(f"{host}: port {port} is not 80 or 443 and RAG_FETCH_ALLOW does not allow the host")
        return [str(ip) for ip in found]


def _within_deadline(resolve: Resolver, host: str, port: int) -> list[str]:
    """`resolve(host, port)`, given up at the current deadline (the look-up itself runs on in a daemon thread)."""
    end = _deadline.get()
    if end is None:
        return resolve(host, port)
    result: dict[str, Any] = {}

    def look_up() -> None:
        try:
            result["addresses"] = resolve(host, port)
        except Exception as err:  # noqa: BLE001 - handed to the caller as it is
            result["error"] = err

    worker = threading.Thread(target=look_up, name="fetch-resolve", daemon=True)
    worker.start()
    worker.join(max(0.0, end - time.monotonic()))
    if worker.is_alive():
        raise httpcore.ConnectTimeout(f"{host}: the name did not resolve before the deadline")
    if "error" in result:
        raise result["error"]
    return result["addresses"]


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Within the block, every read, write and connection of a `PinnedBackend` ends `seconds` from now at the latest."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` cut to what is left of the current deadline; `error` once nothing is left."""
    end = _deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the deadline for this URL passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the current URL's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        # server_hostname is the URL's host name (httpcore passes it): SNI and the certificate check are for the name.
        inner = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Opens connections only to addresses the guard checked, trying them in the resolver's order.

    Args:
        guard: decides which addresses may be used.
        inner: the backend that opens the sockets (default httpcore's `SyncBackend`; tests pass fakes).
    """

    def __init__(self, guard: Guard, inner: httpcore.NetworkBackend | None = None) -> None:
        self.guard = guard
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in self.guard.addresses(host, port):
            try:
                stream = self._inner.connect_tcp(address, port, _bounded(timeout, httpcore.ConnectTimeout), local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
                continue
            return DeadlineStream(stream)
        raise failure

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        raise Refused("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport with its connection pool opening connections through a `PinnedBackend`.

    No proxy from the environment is used (a proxy would connect to the name on
    its own, past the guard).
    """

    def __init__(self, guard: Guard, inner: httpcore.NetworkBackend | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool.close()
        # httpx.HTTPTransport takes no network backend; its pool is a public httpcore.ConnectionPool that does,
        # built here as HTTPTransport builds it. tests/index/test_netguard.py fails if httpx stops using `_pool`.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(guard, inner),
        )
