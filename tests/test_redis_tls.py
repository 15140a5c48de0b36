"""Redis over TLS for the Router's shared state and the response cache, against real
``redis-server`` processes serving TLS only, with certificates made here: a private CA
(``ssl_ca_certs``) is trusted beside the built-in roots, a client certificate is
presented when the server demands one, and a certificate that does not verify (unknown
CA, wrong host name, no client certificate) leaves Redis down, which costs no call."""

from __future__ import annotations

import datetime
import ipaddress
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from _minute import clear_of_minute_end
from conftest import USER_HI
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from redis_server import RedisServer, ServerTls
from test_router_redis import HI, dep, text

import rustllm as litellm
from rustllm import Router
from rustllm.testing import MockServer


# ---------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------
def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, *, ca=False, sans=(), usage=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> SimpleNamespace:
    """A CA; server certificates for 127.0.0.1/localhost and for another name; a client
    certificate (also as one file holding certificate and key); a CA nobody uses."""
    d: Path = tmp_path_factory.mktemp("pki")

    def write(name: str, data: bytes) -> str:
        (d / name).write_bytes(data)
        return str(d / name)

    ca_key, other_key = _key(), _key()
    ca = _cert(_name("rustllm test CA"), ca_key, _name("rustllm test CA"), ca_key, ca=True)
    other = _cert(_name("another CA"), other_key, _name("another CA"), other_key, ca=True)
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server_key, misnamed_key, client_key = _key(), _key(), _key()
    server = _cert(_name("redis"), server_key, ca.subject, ca_key, sans=loopback, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    misnamed = _cert(
        _name("redis"),
        misnamed_key,
        ca.subject,
        ca_key,
        sans=[x509.DNSName("redis.example")],
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
    )
    client = _cert(_name("client"), client_key, ca.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return SimpleNamespace(
        dir=d,
        ca=write("ca.pem", _pem(ca)),
        other_ca=write("other-ca.pem", _pem(other)),
        server=write("server.pem", _pem(server)),
        server_key=write("server.key", _key_pem(server_key)),
        misnamed=write("misnamed.pem", _pem(misnamed)),
        misnamed_key=write("misnamed.key", _key_pem(misnamed_key)),
        client=write("client.pem", _pem(client)),
        client_key=write("client.key", _key_pem(client_key)),
        client_combined=write("client-combined.pem", _pem(client) + _key_pem(client_key)),
        stray_key=write("stray.key", _key_pem(_key())),
        junk=write("junk.pem", b"this is not PEM\n"),
    )


def _server(pki, cert: str, key: str, *, auth_clients: bool = False):
    tls = ServerTls(cert, key, pki.ca, pki.client, pki.client_key, auth_clients=auth_clients)
    with RedisServer(tls=tls) as server:
        yield server


@pytest.fixture(scope="module")
def _tls(pki):
    yield from _server(pki, pki.server, pki.server_key)


@pytest.fixture(scope="module")
def _mtls(pki):
    yield from _server(pki, pki.server, pki.server_key, auth_clients=True)


@pytest.fixture(scope="module")
def _misnamed(pki):
    yield from _server(pki, pki.misnamed, pki.misnamed_key)


@pytest.fixture
def tls_redis(_tls):
    _tls.flush()
    return _tls


@pytest.fixture
def mtls_redis(_mtls):
    _mtls.flush()
    return _mtls


@pytest.fixture
def misnamed_redis(_misnamed):
    _misnamed.flush()
    return _misnamed


@pytest.fixture(scope="module")
def _mock():
    with MockServer(text="from A") as a:
        yield a


@pytest.fixture
def mock(_mock):
    _mock.reset()
    _mock.recording = True
    return _mock


def hit(resp) -> bool:
    return resp._hidden_params.get("cache_hit") is True


def shared(redis, **kwargs) -> dict:
    """Router arguments for `redis` by URL; kwargs become cache_kwargs."""
    return {"redis_url": redis.url, "cache_kwargs": kwargs}


def assert_down(router, mock, caplog, calls: int = 3) -> None:
    """Calls succeed from local state; Redis is reported down once."""
    before = len(mock.requests)
    with caplog.at_level(logging.WARNING, logger="rustllm"):
        for _ in range(calls):
            assert text(router.completion(model="g", messages=HI)) == "from A"
    assert router._core.redis_down
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "rustllm"]
    assert len(warnings) == 1, warnings
    assert "unreachable" in warnings[0] and "local state" in warnings[0]
    assert len(mock.requests) == before + calls


def assert_up(router) -> None:
    assert text(router.completion(model="g", messages=HI)) == "from A"
    assert not router._core.redis_down


# ---------------------------------------------------------------------------------------
# What works
# ---------------------------------------------------------------------------------------
def test_two_routers_share_rpm_exactly_through_tls(tls_redis, mock):
    clear_of_minute_end()
    model_list = [dep("g", mock, "A", rpm=4)]
    by_url = Router(model_list=model_list, **shared(tls_redis, ssl_ca_certs=Path(tls_redis.tls.ca)))
    by_host = Router(
        model_list=model_list,
        redis_host="127.0.0.1",
        redis_port=tls_redis.port,
        cache_kwargs={"ssl": True, "ssl_ca_certs": tls_redis.tls.ca},
    )
    assert by_url._core.redis_address == f"127.0.0.1:{tls_redis.port}"
    routers = [by_url, by_host]
    for n in range(4):
        assert text(routers[n % 2].completion(model="g", messages=HI)) == "from A"
    for r in routers:
        with pytest.raises(litellm.RateLimitError, match="No deployments available"):
            r.completion(model="g", messages=HI)
        assert not r._core.redis_down
    assert len(mock.requests) == 4
    keys = tls_redis.command("KEYS", "A:openai/m:rpm:*")
    assert len(keys) == 1 and tls_redis.command("GET", keys[0]) == "4"


def test_the_response_cache_through_tls(tls_redis, mock):
    litellm.cache = litellm.Cache(
        type="redis", host="127.0.0.1", port=tls_redis.port, ssl=True, ssl_ca_certs=tls_redis.tls.ca
    )
    args = {"api_base": mock.base_url, "api_key": "k"}
    first = litellm.completion(model="openai/m", messages=USER_HI, **args)
    second = litellm.completion(model="openai/m", messages=USER_HI, **args)
    assert hit(second) and second.id == first.id
    assert len(mock.requests) == 1
    key = litellm.cache.get_cache_key(model="openai/m", messages=USER_HI)
    assert json.loads(json.loads(tls_redis.command("GET", key))["response"])["id"] == first.id
    # The Router's response cache, by rediss:// URL.
    model_list = [dep("g", mock, "A")]
    routers = [
        Router(model_list=model_list, cache_responses=True, **shared(tls_redis, ssl_ca_certs=tls_redis.tls.ca))
        for _ in range(2)
    ]
    assert routers[0]._core.cache_type == "redis"
    first = routers[0].completion(model="g", messages=HI)
    second = routers[1].completion(model="g", messages=HI)
    assert hit(second) and second.id == first.id
    assert len(mock.requests) == 2


async def test_async_calls_through_tls(tls_redis, mock):
    litellm.cache = litellm.Cache(type="redis", url=tls_redis.url, ssl_ca_certs=tls_redis.tls.ca)
    args = {"api_base": mock.base_url, "api_key": "k"}
    first = await litellm.acompletion(model="openai/m", messages=USER_HI, **args)
    second = await litellm.acompletion(model="openai/m", messages=USER_HI, **args)
    assert hit(second) and second.id == first.id


def test_tls_settings_from_the_environment(tls_redis, mock, monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(tls_redis.port))
    monkeypatch.setenv("REDIS_SSL", "True")
    monkeypatch.setenv("REDIS_SSL_CA_CERTS", tls_redis.tls.ca)
    litellm.cache = litellm.Cache(type="redis")
    args = {"api_base": mock.base_url, "api_key": "k"}
    litellm.completion(model="openai/m", messages=USER_HI, **args)
    assert hit(litellm.completion(model="openai/m", messages=USER_HI, **args))
    # The Router turns Redis on only with redis_host/redis_url, then reads REDIS_SSL*.
    assert_up(Router(model_list=[dep("g", mock, "A")], redis_host="127.0.0.1", redis_port=tls_redis.port))


def test_the_http_tls_settings_apply_to_redis_too(tls_redis, mtls_redis, pki, mock, monkeypatch, caplog):
    model_list = [dep("g", mock, "A")]
    monkeypatch.setattr(litellm, "ssl_verify", tls_redis.tls.ca)
    assert_up(Router(model_list=model_list, redis_url=tls_redis.url))
    monkeypatch.setattr(litellm, "ssl_verify", True)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_redis.tls.ca)
    assert_up(Router(model_list=model_list, redis_url=tls_redis.url))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setattr(litellm, "ssl_verify", False)
    assert_up(Router(model_list=model_list, redis_url=tls_redis.url))
    # A client certificate from rustllm.ssl_certificate (certificate and key in one file).
    monkeypatch.setattr(litellm, "ssl_verify", pki.ca)
    monkeypatch.setattr(litellm, "ssl_certificate", pki.client_combined)
    assert_up(Router(model_list=model_list, redis_url=mtls_redis.url))
    # The Redis settings themselves still win.
    monkeypatch.setattr(litellm, "ssl_certificate", None)
    monkeypatch.setattr(litellm, "ssl_verify", tls_redis.tls.ca)
    assert_down(Router(model_list=model_list, **shared(tls_redis, ssl_ca_certs=pki.other_ca)), mock, caplog)


# ---------------------------------------------------------------------------------------
# What must not verify
# ---------------------------------------------------------------------------------------
def test_without_the_ca_redis_is_down_and_calls_go_on(tls_redis, pki, mock, caplog):
    assert_down(Router(model_list=[dep("g", mock, "A")], redis_url=tls_redis.url), mock, caplog)
    assert tls_redis.command("KEYS", "*") == []
    caplog.clear()
    other = shared(tls_redis, ssl_ca_certs=pki.other_ca)  # a CA that did not sign the server's
    assert_down(Router(model_list=[dep("g", mock, "A")], **other), mock, caplog)
    # The module cache: misses, not errors.
    litellm.cache = litellm.Cache(type="redis", url=tls_redis.url)
    args = {"api_base": mock.base_url, "api_key": "k"}
    litellm.completion(model="openai/m", messages=USER_HI, **args)
    assert not hit(litellm.completion(model="openai/m", messages=USER_HI, **args))


def test_the_host_name_is_checked_unless_told_not_to(misnamed_redis, mock, caplog):
    ca = misnamed_redis.tls.ca
    model_list = [dep("g", mock, "A")]
    assert_down(Router(model_list=model_list, **shared(misnamed_redis, ssl_ca_certs=ca)), mock, caplog)
    # redis-rs's danger_accept_invalid_hostnames: the chain is still checked...
    assert_up(Router(model_list=model_list, **shared(misnamed_redis, ssl_ca_certs=ca, ssl_check_hostname=False)))
    caplog.clear()
    assert_down(Router(model_list=model_list, **shared(misnamed_redis, ssl_check_hostname=False)), mock, caplog)
    # ...and ssl_cert_reqs="none" (redis-rs's insecure mode) checks nothing.
    assert_up(Router(model_list=model_list, **shared(misnamed_redis, ssl_cert_reqs="none")))
    assert_up(Router(model_list=model_list, **shared(misnamed_redis, ssl_cert_reqs=None)))
    assert_up(Router(model_list=model_list, redis_url=misnamed_redis.url + "?ssl_cert_reqs=none"))


def test_a_server_that_requires_client_certificates(mtls_redis, pki, mock, caplog):
    model_list = [dep("g", mock, "A")]
    assert_down(Router(model_list=model_list, **shared(mtls_redis, ssl_ca_certs=pki.ca)), mock, caplog)
    with_cert = shared(mtls_redis, ssl_ca_certs=pki.ca, ssl_certfile=pki.client, ssl_keyfile=pki.client_key)
    assert_up(Router(model_list=model_list, **with_cert))
    assert_up(
        Router(model_list=model_list, **shared(mtls_redis, ssl_ca_certs=pki.ca, ssl_certfile=pki.client_combined))
    )
    litellm.cache = litellm.Cache(
        type="redis",
        host="127.0.0.1",
        port=mtls_redis.port,
        ssl=True,
        ssl_ca_certs=pki.ca,
        ssl_certfile=pki.client,
        ssl_keyfile=pki.client_key,
    )
    args = {"api_base": mock.base_url, "api_key": "k"}
    litellm.completion(model="openai/m", messages=USER_HI, **args)
    assert hit(litellm.completion(model="openai/m", messages=USER_HI, **args))


# ---------------------------------------------------------------------------------------
# Configuration mistakes
# ---------------------------------------------------------------------------------------
def test_unusable_files_are_value_errors_naming_the_file(pki):
    url = "rediss://:hunter2@127.0.0.1:1"
    missing = str(pki.dir / "missing.pem")
    cases = [
        ({"ssl_ca_certs": missing}, f"cannot read ssl_ca_certs file {missing}"),
        ({"ssl_ca_certs": pki.junk}, f"ssl_ca_certs file {pki.junk} holds no certificate"),
        ({"ssl_certfile": pki.junk}, f"ssl_certfile file {pki.junk}"),
        ({"ssl_certfile": pki.client}, f"ssl_certfile file {pki.client} holds no private key"),
        ({"ssl_certfile": pki.client, "ssl_keyfile": pki.junk}, f"ssl_keyfile file {pki.junk} holds no private key"),
        ({"ssl_certfile": pki.client, "ssl_keyfile": pki.stray_key}, "does not fit the certificate"),
        ({"ssl_cert_reqs": "sometimes"}, "ssl_cert_reqs must be"),
        ({"ssl_keyfile": pki.client_key}, "ssl_keyfile is given without ssl_certfile"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as info:
            Router(model_list=[], redis_url=url, cache_kwargs=kwargs)
        assert message in str(info.value) and "hunter2" not in str(info.value), (kwargs, str(info.value))
        with pytest.raises(ValueError) as info:
            litellm.Cache(type="redis", host="127.0.0.1", port=1, password="hunter2", ssl=True, **kwargs)
        assert message in str(info.value) and "hunter2" not in str(info.value), (kwargs, str(info.value))
