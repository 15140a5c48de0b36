//! Redis over TLS: which settings turn it on, what they mean, and the trust store.
//!
//! The spellings are redis-py's, as LiteLLM hands them over: a `rediss://` URL or
//! `ssl=True`; `ssl_cert_reqs` (`"required"`, the default; `"optional"`, which for a
//! client is the same; `"none"`, or `None`, which verifies nothing); `ssl_check_hostname`
//! (default true); `ssl_ca_certs` (a PEM file of extra CAs); `ssl_certfile` and
//! `ssl_keyfile` (a client certificate, for servers that require one). Each is read from
//! the URL's query string first (redis-py's `from_url` lets those win), then the keyword
//! arguments, then the `REDIS_SSL*` environment variables LiteLLM maps to them.
//!
//! The server is checked against the same roots the HTTP client trusts (the bundled
//! Mozilla roots and the operating system's store) plus `ssl_ca_certs`: a private CA is
//! added, never substituted, so one setting cannot make public certificates fail.
//! Files are read and checked when the Router or Cache is built, so a bad path or PEM
//! is a configuration error naming the file, not an outage on the first call.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use redis::{ConnectionAddr, ConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Map, Value};

/// How a Redis connection is secured, once TLS is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTls {
    /// `ssl_cert_reqs` is not `"none"`: the server's certificate chain must lead to a
    /// trusted root. Off maps to redis-rs's insecure mode (`rediss://...#insecure`):
    /// any certificate is accepted and SNI is not sent.
    pub verify_chain: bool,
    /// `ssl_check_hostname`: the certificate must name the host connected to. Off
    /// maps to redis-rs's `danger_accept_invalid_hostnames`: the chain is still checked.
    pub verify_hostname: bool,
    /// `ssl_ca_certs`: trusted beside the built-in roots.
    pub ca_certs: Option<PathBuf>,
    /// `ssl_certfile`: the client certificate (chain) presented to the server.
    pub certfile: Option<PathBuf>,
    /// `ssl_keyfile`: its private key; without it the key is looked for in `certfile`,
    /// as Python's `ssl` does.
    pub keyfile: Option<PathBuf>,
}

/// Where one setting was found, for messages.
struct Found {
    value: Value,
    origin: String,
}

/// One setting: the URL's query string, then the keyword arguments, then the environment.
/// A keyword argument given as `None` counts as given (redis-py reads
/// `ssl_cert_reqs=None` as "verify nothing").
fn lookup(
    name: &str,
    query: &[(String, String)],
    settings: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Found> {
    if let Some((_, v)) = query.iter().rev().find(|(k, _)| k == name) {
        return Some(Found {
            value: Value::String(v.clone()),
            origin: format!("the URL's {name}"),
        });
    }
    if let Some(v) = settings.get(name) {
        return Some(Found {
            value: v.clone(),
            origin: name.to_string(),
        });
    }
    let var = format!("REDIS_{}", name.to_ascii_uppercase());
    env(&var).filter(|v| !v.is_empty()).map(|v| Found {
        value: Value::String(v),
        origin: var,
    })
}

fn flag(found: &Found) -> Result<Option<bool>, String> {
    match &found.value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Some(false)),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(Some(true)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" | "" => Ok(Some(false)),
            _ => Err(format!("{} must be true or false, got {s:?}", found.origin)),
        },
        other => Err(format!(
            "{} must be true or false, got {other}",
            found.origin
        )),
    }
}

/// `ssl_cert_reqs` as redis-py reads it: a name, `ssl.CERT_*` (0, 1, 2), or `None`.
/// `"optional"` verifies like `"required"`: for a client, Python's `ssl` does the same.
fn cert_reqs(found: &Found) -> Result<bool, String> {
    let verify = match &found.value {
        Value::Null => Some(false),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Some(false),
            Some(1 | 2) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "none" | "cert_none" => Some(false),
            "optional" | "required" | "cert_optional" | "cert_required" => Some(true),
            _ => None,
        },
        _ => None,
    };
    verify.ok_or_else(|| {
        format!(
            "{} must be \"required\", \"optional\" or \"none\", got {}",
            found.origin, found.value
        )
    })
}

fn path(found: Option<Found>) -> Result<Option<PathBuf>, String> {
    match found.map(|f| (f.value, f.origin)) {
        None | Some((Value::Null, _)) => Ok(None),
        Some((Value::String(s), _)) if s.is_empty() => Ok(None),
        Some((Value::String(s), _)) => Ok(Some(PathBuf::from(s))),
        Some((other, origin)) => Err(format!("{origin} must be a file path, got {other}")),
    }
}

/// The `key=value` pairs of a Redis URL's query string (percent-decoded).
fn url_query(url: &str) -> Vec<(String, String)> {
    match url::Url::parse(url) {
        Ok(u) => u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Settle TLS for `info` (parsed from `url` when there is one): on for a `rediss://` URL
/// or a true `ssl`, then `info.addr` becomes a TLS address. `None` when TLS is off: the
/// other `ssl_*` settings are then ignored, as redis-py ignores them.
pub fn resolve(
    info: &mut ConnectionInfo,
    url: Option<&str>,
    settings: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<RedisTls>, String> {
    let query = url.map(url_query).unwrap_or_default();
    let get = |name: &str| lookup(name, &query, settings, env);
    let ssl = match get("ssl") {
        Some(found) => flag(&found)?.unwrap_or(false),
        None => false,
    };
    let (host, port, url_insecure) = match &info.addr {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => (host.clone(), *port, Some(*insecure)),
        ConnectionAddr::Tcp(host, port) if ssl => (host.clone(), *port, None),
        _ => return Ok(None),
    };
    let verify_chain = match get("ssl_cert_reqs") {
        Some(found) => cert_reqs(&found)?,
        // `rediss://host#insecure`, redis-rs's own spelling.
        None => url_insecure != Some(true),
    };
    let verify_hostname = match get("ssl_check_hostname") {
        Some(found) => flag(&found)?.unwrap_or(true),
        None => true,
    };
    let tls = RedisTls {
        verify_chain,
        verify_hostname,
        ca_certs: path(get("ssl_ca_certs"))?,
        certfile: path(get("ssl_certfile"))?,
        keyfile: path(get("ssl_keyfile"))?,
    };
    if tls.keyfile.is_some() && tls.certfile.is_none() {
        return Err("ssl_keyfile is given without ssl_certfile (the client certificate)".into());
    }
    info.addr = ConnectionAddr::TcpTls {
        host,
        port,
        insecure: !tls.verify_chain,
        tls_params: None,
    };
    Ok(Some(tls))
}

/// A certificate as one PEM section.
fn pem_certificate(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(text.len() + text.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Whether rustls can take `cert` as a root (some OS stores hold certificates it cannot
/// parse; redis-rs refuses the whole store for one of them, so they are left out).
fn usable_root(cert: &CertificateDer<'_>) -> bool {
    rustls::RootCertStore::empty()
        .add(cert.clone().into_owned())
        .is_ok()
}

/// The bundled Mozilla roots and the operating system's store, as PEM, read once per
/// process (as the HTTP client reads them once per client). redis-rs takes extra roots
/// only as a replacement store in PEM, hence the full certificates (`webpki-root-certs`)
/// rather than the trust anchors reqwest uses.
fn builtin_roots() -> &'static str {
    static ROOTS: OnceLock<String> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let native = rustls_native_certs::load_native_certs().certs;
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .chain(native.iter())
            .filter(|c| usable_root(c))
            .map(|c| pem_certificate(c))
            .collect()
    })
}

fn read(setting: &str, file: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("cannot read {setting} file {}: {e}", file.display()))
}

fn certificates(
    setting: &str,
    file: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{setting} file {} is not valid PEM: {e}", file.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{setting} file {} holds no certificate (-----BEGIN CERTIFICATE-----)",
            file.display()
        ));
    }
    Ok(certs)
}

impl RedisTls {
    /// The roots to verify against: the built-in ones plus `ssl_ca_certs`.
    fn roots(&self) -> Result<String, String> {
        let mut pem = builtin_roots().to_string();
        if let Some(file) = &self.ca_certs {
            let certs = certificates("ssl_ca_certs", file, &read("ssl_ca_certs", file)?)?;
            for (n, cert) in certs.iter().enumerate() {
                rustls::RootCertStore::empty()
                    .add(cert.clone())
                    .map_err(|e| {
                        format!(
                            "ssl_ca_certs file {}: certificate {} cannot be a CA: {e}",
                            file.display(),
                            n + 1
                        )
                    })?;
                pem.push_str(&pem_certificate(cert));
            }
        }
        Ok(pem)
    }

    /// The client certificate and key, checked to belong together.
    fn client_identity(&self) -> Result<Option<redis::ClientTlsConfig>, String> {
        let Some(certfile) = &self.certfile else {
            return Ok(None);
        };
        let cert_pem = read("ssl_certfile", certfile)?;
        let chain = certificates("ssl_certfile", certfile, &cert_pem)?;
        let (key_setting, key_file, key_pem) = match &self.keyfile {
            Some(file) => ("ssl_keyfile", file, read("ssl_keyfile", file)?),
            None => ("ssl_certfile", certfile, cert_pem.clone()),
        };
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
            format!(
                "{key_setting} file {} holds no private key (PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY; encrypted keys are not supported)",
                key_file.display()
            )
        })?;
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
            format!(
                "the key in {key_setting} file {} does not fit the certificate in ssl_certfile file {}: {e}",
                key_file.display(),
                certfile.display()
            )
        })?;
        Ok(Some(redis::ClientTlsConfig {
            client_cert: cert_pem,
            client_key: key_pem,
        }))
    }

    /// A redis client for `info` (a TLS address from [`resolve`]) secured as told.
    pub fn client(&self, info: ConnectionInfo) -> Result<redis::Client, String> {
        let certificates = redis::TlsCertificates {
            client_tls: self.client_identity()?,
            root_cert: Some(self.roots()?.into_bytes()),
        };
        let client =
            redis::Client::build_with_tls(info, certificates).map_err(|e| e.to_string())?;
        if !self.verify_chain || self.verify_hostname {
            return Ok(client);
        }
        // build_with_tls resets the hostname flag, so it is set on the built address.
        let mut info = client.get_connection_info().clone();
        info.addr.set_danger_accept_invalid_hostnames(true);
        redis::Client::open(info).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(url: &str) -> ConnectionInfo {
        redis::IntoConnectionInfo::into_connection_info(url).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn settle(
        url: &str,
        settings: Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(ConnectionInfo, Option<RedisTls>), String> {
        let mut i = info(url);
        let Value::Object(map) = settings else {
            unreachable!()
        };
        let tls = resolve(&mut i, Some(url), &map, env)?;
        Ok((i, tls))
    }

    fn insecure(i: &ConnectionInfo) -> Option<bool> {
        match &i.addr {
            ConnectionAddr::TcpTls { insecure, .. } => Some(*insecure),
            _ => None,
        }
    }

    #[test]
    fn plain_redis_stays_plain_and_ignores_ssl_files() {
        let (i, tls) = settle("redis://h:1", json!({"ssl_ca_certs": "/ca.pem"}), &no_env).unwrap();
        assert!(tls.is_none());
        assert!(matches!(i.addr, ConnectionAddr::Tcp(ref h, 1) if h == "h"));
        let (_, tls) = settle("redis://h:1", json!({"ssl": false}), &no_env).unwrap();
        assert!(tls.is_none());
    }

    #[test]
    fn rediss_or_ssl_true_turn_tls_on_verifying_everything() {
        let full = RedisTls {
            verify_chain: true,
            verify_hostname: true,
            ca_certs: None,
            certfile: None,
            keyfile: None,
        };
        let (i, tls) = settle("rediss://h:6380", json!({}), &no_env).unwrap();
        assert_eq!(tls.as_ref(), Some(&full));
        assert_eq!(insecure(&i), Some(false));
        for ssl in [json!(true), json!("True"), json!(1), json!("yes")] {
            let (i, tls) = settle("redis://h:6380", json!({"ssl": ssl}), &no_env).unwrap();
            assert_eq!(tls.as_ref(), Some(&full), "ssl={ssl}");
            assert!(
                matches!(i.addr, ConnectionAddr::TcpTls { ref host, port: 6380, .. } if host == "h")
            );
        }
        // The scheme wins over ssl=False.
        let (_, tls) = settle("rediss://h", json!({"ssl": false}), &no_env).unwrap();
        assert!(tls.is_some());
    }

    #[test]
    fn cert_reqs_none_is_insecure_and_check_hostname_off_keeps_the_chain() {
        for reqs in [json!("none"), json!("CERT_NONE"), json!(0), Value::Null] {
            let (i, tls) = settle("rediss://h", json!({"ssl_cert_reqs": reqs}), &no_env).unwrap();
            assert!(!tls.unwrap().verify_chain, "ssl_cert_reqs={reqs}");
            assert_eq!(insecure(&i), Some(true));
        }
        for reqs in [json!("required"), json!("optional"), json!(2), json!(1)] {
            let (i, tls) = settle("rediss://h", json!({"ssl_cert_reqs": reqs}), &no_env).unwrap();
            assert!(tls.unwrap().verify_chain, "ssl_cert_reqs={reqs}");
            assert_eq!(insecure(&i), Some(false));
        }
        let (i, tls) = settle("rediss://h", json!({"ssl_check_hostname": false}), &no_env).unwrap();
        let tls = tls.unwrap();
        assert!(tls.verify_chain && !tls.verify_hostname);
        assert_eq!(insecure(&i), Some(false));
        let (i, _) = settle("rediss://h/#insecure", json!({}), &no_env).unwrap();
        assert_eq!(insecure(&i), Some(true));
    }

    #[test]
    fn files_are_taken_as_paths() {
        let (_, tls) = settle(
            "rediss://h",
            json!({"ssl_ca_certs": "/etc/ca.pem", "ssl_certfile": "/c.pem", "ssl_keyfile": "/k.pem"}),
            &no_env,
        )
        .unwrap();
        let tls = tls.unwrap();
        assert_eq!(tls.ca_certs, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(tls.certfile, Some(PathBuf::from("/c.pem")));
        assert_eq!(tls.keyfile, Some(PathBuf::from("/k.pem")));
    }

    #[test]
    fn url_query_beats_arguments_which_beat_the_environment() {
        let env = |name: &str| match name {
            "REDIS_SSL" => Some("true".to_string()),
            "REDIS_SSL_CA_CERTS" => Some("/env.pem".to_string()),
            "REDIS_SSL_CERT_REQS" => Some("none".to_string()),
            _ => None,
        };
        let (i, tls) = settle("redis://h", json!({}), &env).unwrap();
        let tls = tls.unwrap();
        assert_eq!(tls.ca_certs, Some(PathBuf::from("/env.pem")));
        assert!(!tls.verify_chain);
        assert_eq!(insecure(&i), Some(true));
        let (_, tls) = settle(
            "redis://h",
            json!({"ssl_ca_certs": "/arg.pem", "ssl_cert_reqs": "required"}),
            &env,
        )
        .unwrap();
        let tls = tls.unwrap();
        assert_eq!(tls.ca_certs, Some(PathBuf::from("/arg.pem")));
        assert!(tls.verify_chain);
        let (i, tls) = settle(
            "rediss://:pw@h:7?ssl_cert_reqs=none&ssl_ca_certs=%2Furl.pem",
            json!({"ssl_ca_certs": "/arg.pem"}),
            &no_env,
        )
        .unwrap();
        let tls = tls.unwrap();
        assert_eq!(tls.ca_certs, Some(PathBuf::from("/url.pem")));
        assert!(!tls.verify_chain);
        assert_eq!(i.redis.password.as_deref(), Some("pw"));
        // REDIS_SSL=false in the environment does not switch a rediss:// URL off.
        let off = |name: &str| (name == "REDIS_SSL").then(|| "false".to_string());
        assert!(settle("rediss://h", json!({}), &off).unwrap().1.is_some());
    }

    #[test]
    fn bad_values_are_named() {
        let e = settle("rediss://h", json!({"ssl_cert_reqs": "sometimes"}), &no_env).unwrap_err();
        assert!(
            e.contains("ssl_cert_reqs") && e.contains("sometimes"),
            "{e}"
        );
        let e = settle("redis://h", json!({"ssl": "maybe"}), &no_env).unwrap_err();
        assert!(e.starts_with("ssl must be true or false"), "{e}");
        let e = settle("rediss://h", json!({"ssl_keyfile": "/k.pem"}), &no_env).unwrap_err();
        assert!(e.contains("without ssl_certfile"), "{e}");
        let env = |name: &str| (name == "REDIS_SSL_CHECK_HOSTNAME").then(|| "perhaps".to_string());
        let e = settle("rediss://h", json!({}), &env).unwrap_err();
        assert!(e.starts_with("REDIS_SSL_CHECK_HOSTNAME must be"), "{e}");
    }

    #[test]
    fn unreadable_or_bad_files_are_named_at_build_time() {
        let dir = std::env::temp_dir().join(format!("rustllm-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let missing = dir.join("missing.pem");
        let tls = |ca: &Path, cert: Option<&Path>| RedisTls {
            verify_chain: true,
            verify_hostname: true,
            ca_certs: Some(ca.to_path_buf()),
            certfile: cert.map(Path::to_path_buf),
            keyfile: None,
        };
        let target = info("rediss://:hunter2@h:1");
        let e = tls(&missing, None).client(target.clone()).unwrap_err();
        assert!(
            e.starts_with("cannot read ssl_ca_certs file") && e.contains("missing.pem"),
            "{e}"
        );
        let e = tls(&junk, None).client(target.clone()).unwrap_err();
        assert!(
            e.contains("ssl_ca_certs file")
                && e.contains("junk.pem")
                && e.contains("no certificate"),
            "{e}"
        );
        let e = tls(&missing, Some(&junk))
            .client(target.clone())
            .unwrap_err();
        assert!(
            e.contains("ssl_certfile file") && e.contains("junk.pem"),
            "{e}"
        );
        assert!(!e.contains("hunter2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn builtin_roots_hold_mozillas_and_parse_back() {
        let roots = builtin_roots();
        let n = CertificateDer::pem_slice_iter(roots.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .len();
        assert!(n >= webpki_root_certs::TLS_SERVER_ROOT_CERTS.len(), "{n}");
    }
}
