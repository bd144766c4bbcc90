"""Which addresses ingest may fetch: the address rules, the allow-list, and connections pinned to the checked address."""

from __future__ import annotations

import ipaddress

import httpcore
import httpx
import pytest

from core.errors import ConfigError
from index.netguard import AllowList, Guard, PinnedBackend, PinnedTransport, Refused, is_public


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.1", "198.18.0.1",
     "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
     "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2001:db8::1"],
)  # fmt: skip
def test_internal_and_special_addresses_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_public(address):
    assert is_public(ipaddress.ip_address(address))


def _guard(answers: dict[str, list[str]], allow: tuple[str, ...] = ()) -> Guard:
    return Guard(AllowList.parse(allow), resolve=lambda host, port: answers[host])


def test_a_name_is_refused_when_any_of_its_addresses_is_internal():
    guard = _guard({"news.example": ["93.184.215.14"], "mixed.example": ["93.184.215.14", "10.0.0.5"], "meta.example": ["169.254.169.254"]})
    assert guard.addresses("news.example", 443) == ["93.184.215.14"]
    for host in ("mixed.example", "meta.example"):
        with pytest.raises(Refused):
            guard.addresses(host, 443)


def test_only_ports_80_and_443_unless_the_operator_allows_the_host():
    guard = _guard({"news.example": ["93.184.215.14"], "news.intranet": ["10.0.0.7"], "wiki.lan": ["192.168.1.9"]},
                   allow=("news.intranet", "192.168.0.0/16"))  # fmt: skip
    assert guard.addresses("news.example", 80) and guard.addresses("news.example", 443)
    for port in (22, 6379, 8080):
        with pytest.raises(Refused):
            guard.addresses("news.example", port)
    assert guard.addresses("news.intranet", 8080) == ["10.0.0.7"]  # an allowed name: any address, any port
    assert guard.addresses("wiki.lan", 8443) == ["192.168.1.9"]  # an address in an allowed network
    with pytest.raises(Refused):
        _guard({"db.lan": ["10.0.0.9"]}, allow=("192.168.0.0/16",)).addresses("db.lan", 80)


def test_a_name_that_does_not_resolve_is_refused_like_any_other():
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(Refused):
        Guard(resolve=fail).addresses("nowhere.example", 443)


def test_the_allow_list_setting_is_checked_at_start_up(rag_env):
    from core.settings import settings

    rag_env("RAG_FETCH_ALLOW", "127.0.0.0/8, News.Intranet.")
    assert settings().fetch_allow == ("127.0.0.0/8", "news.intranet")
    rag_env("RAG_FETCH_ALLOW", "10.0.0.0/8,not a host")
    with pytest.raises(ConfigError, match="RAG_FETCH_ALLOW"):
        settings()


class _Recorder(httpcore.NetworkBackend):
    """A backend that records where it is asked to connect and what TLS is started with; it never connects."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []
        self.tls: list[str | None] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001, ANN201
        self.connects.append((host, port))
        recorder = self

        class Stream(httpcore.NetworkStream):
            def start_tls(self, ssl_context, server_hostname=None, timeout=None):  # noqa: ANN001, ANN201
                recorder.tls.append(server_hostname)
                raise httpcore.ConnectError("the test stops here")

            def close(self) -> None:
                pass

        return Stream()


def test_the_connection_goes_to_the_checked_address_and_tls_keeps_the_name():
    """DNS rebinding: the name is resolved once; a second answer (here 127.0.0.1) is never used."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    looked_up = []

    def rebinding(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return next(answers)

    recorder = _Recorder()
    with httpx.Client(transport=PinnedTransport(Guard(resolve=rebinding), inner=recorder)) as client, pytest.raises(httpx.ConnectError):
        client.get("https://news.example/story")
    assert looked_up == ["news.example"]
    assert recorder.connects == [("93.184.215.14", 443)]
    assert recorder.tls == ["news.example"]  # SNI and the certificate check are for the name, not the address


def test_a_refused_address_is_never_connected_to():
    recorder = _Recorder()
    backend = PinnedBackend(_guard({"evil.example": ["10.0.0.1"], "127.0.0.1": ["127.0.0.1"]}), inner=recorder)
    with pytest.raises(Refused):
        backend.connect_tcp("evil.example", 80)
    with pytest.raises(Refused):
        backend.connect_tcp("127.0.0.1", 80)
    assert recorder.connects == []


def test_a_slow_name_look_up_ends_at_the_deadline():
    import time

    from index.netguard import deadline

    def slow(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["93.184.215.14"]

    started = time.monotonic()
    with deadline(0.5), pytest.raises(httpcore.ConnectTimeout):
        PinnedBackend(Guard(resolve=slow), inner=_Recorder()).connect_tcp("slow.example", 443)
    assert time.monotonic() - started < 1.5
