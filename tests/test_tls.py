"""TLS against a private CA: `ssl_verify="/path/ca.pem"`, `SSL_CERT_FILE`,
`REQUESTS_CA_BUNDLE`, the OS trust store, `rustllm.ssl_verify` / `rustllm.ssl_certificate`,
client certificates, on direct calls and the Router. Verification stays on by default:
an unknown CA, a certificate for another host and an expired one all fail.

Certificates are made for this run with `cryptography`; the servers listen on loopback.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import textwrap

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faultserver import FaultServer, http

import rustllm

USER = [{"role": "user", "content": "hi"}]
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "over tls"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}
NOW = datetime.datetime.now(datetime.timezone.utc)


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str):
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(ca_key, ca_cert, names, *, expired=False, client=False):
    key = _key()
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    before, after = (
        (NOW - datetime.timedelta(days=10), NOW - datetime.timedelta(days=1))
        if expired
        else (NOW - datetime.timedelta(days=1), NOW + datetime.timedelta(days=30))
    )
    usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


class Pki:
    """A CA, server certificates (good, wrong host, expired) and a client certificate."""

    def __init__(self, folder) -> None:
        self.folder = folder
        ca_key, ca = _ca("rustllm test CA")
        self.ca = self._write("ca.pem", ca.public_bytes(serialization.Encoding.PEM))
        for name, names, expired in (
            ("good", ["127.0.0.1", "localhost"], False),
            ("wrong_host", ["other.example"], False),
            ("expired", ["127.0.0.1", "localhost"], True),
        ):
            key, cert = _leaf(ca_key, ca, names, expired=expired)
            setattr(self, name, (self._write(f"{name}.crt", cert.public_bytes(serialization.Encoding.PEM)),
                                 self._write(f"{name}.key", _pem_key(key))))  # fmt: skip
        key, cert = _leaf(ca_key, ca, ["client"], client=True)
        self.client = self._write("client.pem", cert.public_bytes(serialization.Encoding.PEM) + _pem_key(key))

    def _write(self, name: str, data: bytes) -> str:
        path = self.folder / name
        path.write_bytes(data)
        return str(path)

    def server_context(self, which: str = "good", require_client: bool = False) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = getattr(self, which)
        ctx.load_cert_chain(cert, key)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca)
        return ctx


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def serve(pki, which="good", require_client=False) -> FaultServer:
    return FaultServer(lambda req: http(200, REPLY), tls=pki.server_context(which, require_client))


@pytest.fixture
def https(pki):
    with serve(pki) as server:
        yield server


@pytest.fixture(autouse=True)
def no_tls_env(monkeypatch):
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_VERIFY", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(rustllm, "ssl_verify", True)
    monkeypatch.setattr(rustllm, "ssl_certificate", None)


def call(server, **kw):
    args = {"model": "openai/m", "messages": USER, "api_base": server.base_url, "api_key": "sk-x", "max_retries": 0}
    return rustllm.completion(**{**args, **kw})


def ok(server, **kw) -> None:
    assert call(server, **kw).choices[0].message.content == "over tls"


def refused(server, why: str, **kw) -> None:
    with pytest.raises(rustllm.APIConnectionError) as info:
        call(server, **kw)
    assert why.lower() in str(info.value).lower(), str(info.value)


def test_an_unknown_ca_is_refused_by_default(https):
    refused(https, "certificate")
    assert https.requests == []


def test_ssl_verify_as_a_ca_bundle_path(https, pki):
    ok(https, ssl_verify=pki.ca)
    assert https.requests[0].json()["messages"] == USER


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_the_ca_bundle_variables(https, pki, monkeypatch, variable):
    monkeypatch.setenv(variable, pki.ca)
    ok(https)
    monkeypatch.delenv(variable)
    refused(https, "certificate")


def test_module_ssl_verify_path_and_false(https, pki, monkeypatch):
    monkeypatch.setattr(rustllm, "ssl_verify", pki.ca)
    ok(https)
    monkeypatch.setattr(rustllm, "ssl_verify", False)
    ok(https)
    # The call's own setting wins over the module's.
    refused(https, "certificate", ssl_verify=True)
    monkeypatch.setattr(rustllm, "ssl_verify", True)
    refused(https, "certificate")


def test_ssl_verify_false_per_call_and_by_environment(https, monkeypatch):
    ok(https, ssl_verify=False)
    monkeypatch.setenv("SSL_VERIFY", "False")
    ok(https)


def test_a_certificate_for_another_host_fails_even_with_the_ca(pki):
    with serve(pki, "wrong_host") as server:
        refused(server, "certificate", ssl_verify=pki.ca)


def test_an_expired_certificate_fails_even_with_the_ca(pki):
    with serve(pki, "expired") as server:
        refused(server, "expired", ssl_verify=pki.ca)


def test_client_certificates(pki, monkeypatch):
    with serve(pki, require_client=True) as server:
        with pytest.raises(rustllm.APIConnectionError):
            call(server, ssl_verify=pki.ca)
        ok(server, ssl_verify=pki.ca, ssl_certificate=pki.client)
        monkeypatch.setattr(rustllm, "ssl_certificate", pki.client)
        monkeypatch.setattr(rustllm, "ssl_verify", pki.ca)
        ok(server)


async def test_async_calls_and_streams(https, pki):
    args = {"model": "openai/m", "messages": USER, "api_base": https.base_url, "api_key": "sk-x", "max_retries": 0}
    reply = await rustllm.acompletion(**args, ssl_verify=pki.ca)
    assert reply.choices[0].message.content == "over tls"
    with pytest.raises(rustllm.APIConnectionError):
        await rustllm.acompletion(**args)


def test_router_deployments_and_module_settings(https, pki, monkeypatch):
    def router(**params):
        return rustllm.Router(
            model_list=[
                {
                    "model_name": "g",
                    "litellm_params": {"model": "openai/m", "api_base": https.base_url, "api_key": "sk-x", **params},
                }
            ],
            num_retries=0,
        )

    assert router(ssl_verify=pki.ca).completion(model="g", messages=USER).choices[0].message.content == "over tls"
    with pytest.raises(rustllm.APIConnectionError):
        router().completion(model="g", messages=USER)
    monkeypatch.setattr(rustllm, "ssl_verify", pki.ca)
    assert router().completion(model="g", messages=USER).choices[0].message.content == "over tls"
    # A deployment's own setting wins over the module's.
    with pytest.raises(rustllm.APIConnectionError):
        router(ssl_verify=True).completion(model="g", messages=USER)


def test_an_unreadable_ca_bundle_is_a_bad_request_naming_it(https, tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(rustllm.BadRequestError) as info:
        call(https, ssl_verify=missing)
    assert missing in str(info.value)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(rustllm.BadRequestError) as info:
        call(https, ssl_verify=str(not_pem))
    assert str(not_pem) in str(info.value)
    assert https.requests == []


def test_the_os_trust_store_is_used(https, pki, tmp_path):
    """The OS store (here: OpenSSL's SSL_CERT_DIR, read by the native-roots loader) is
    trusted beside the bundled roots, in a fresh process as a machine's store would be."""
    store = tmp_path / "certs"
    store.mkdir()
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", pki.ca], capture_output=True, text=True, check=True
    ).stdout.strip()
    (store / f"{digest}.0").write_bytes(open(pki.ca, "rb").read())
    script = textwrap.dedent(
        f"""
        import rustllm
        r = rustllm.completion(model="openai/m", messages=[{{"role": "user", "content": "hi"}}],
                               api_base={https.base_url!r}, api_key="sk-x", max_retries=0)
        print(r.choices[0].message.content)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_VERIFY")}
    env["SSL_CERT_DIR"] = str(store)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "over tls"
