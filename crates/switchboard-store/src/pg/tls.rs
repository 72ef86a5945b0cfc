//! TLS to PostgreSQL, configured from the URL as libpq is: `sslmode` (`disable`, `prefer`
//! — the default —, `require`, `verify-ca`, `verify-full`) and `sslrootcert`. The driver
//! only knows `disable`/`prefer`/`require` and does no TLS of its own, so both keys are
//! taken out of the URL here, and the rest goes to the driver unchanged.
//!
//! What each mode checks, as libpq does:
//! - `disable`: plain TCP. `prefer`: TLS if the server offers it, else plain.
//!   `require`: TLS or no connection. Neither checks the certificate (encryption against
//!   a passive listener only) — unless `sslrootcert=<file>` is given, which makes them
//!   check the chain against that file, as `verify-ca` does (libpq's rule too).
//! - `verify-ca`: the chain must lead to a root in `sslrootcert=<file>`; the host name is
//!   not checked. It needs the file: checked against every public CA of the system store
//!   without the name, any certificate those CAs ever signed would pass.
//! - `verify-full`: the chain and the host name. The roots are `sslrootcert=<file>` if
//!   given, else the system's store (`sslrootcert=system`, libpq 16's word for it, says
//!   so explicitly and, as there, allows no weaker mode).
//!
//! The system store is read with `rustls-native-certs` (on Linux the distribution's
//! `/etc/ssl/certs`, or `SSL_CERT_FILE`/`SSL_CERT_DIR`) rather than the Mozilla list
//! compiled in by `webpki-roots`: a database's CA is usually the company's own or the
//! cloud provider's (neither is in Mozilla's list), installed into the system store by
//! the operator, and that store follows the OS's updates without a rebuild. Unlike libpq,
//! `~/.postgresql/root.crt` is not read: a service has no meaningful home; the file is
//! named in the URL. Unix-socket connections never use TLS (PostgreSQL refuses it there).

use std::{fmt, path::PathBuf, sync::Arc};

use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    client::WebPkiServerVerifier,
    crypto::CryptoProvider,
    pki_types::{pem::PemObject, CertificateDer, ServerName, UnixTime},
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const ALL: &'static str = "disable, prefer, require, verify-ca or verify-full";

    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            // libpq's `allow` tries plain first: a downgrade nobody should choose.
            other => {
                return Err(format!(
                    "sslmode={other:?} is not one of {} (libpq's meanings)",
                    Self::ALL
                ))
            }
        })
    }

    /// What the driver does before the handshake (offer TLS, insist on it, or not).
    fn driver(self) -> DriverSslMode {
        match self {
            Self::Disable => DriverSslMode::Disable,
            Self::Prefer => DriverSslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => DriverSslMode::Require,
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        })
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// No `sslrootcert`: the system store, for `verify-full` only.
    Default,
    /// `sslrootcert=system`.
    System,
    /// `sslrootcert=<file>`: PEM certificates, the only roots trusted.
    File(PathBuf),
}

/// The TLS part of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root_cert: RootCert,
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of `url` (either form): the settings and
    /// the URL the driver gets. An error is for [`super::PgError::BadUrl`].
    pub fn split(url: &str) -> Result<(Self, String), String> {
        let (pairs, rest) = match url.split_once("://") {
            Some(_) => take_from_query(url)?,
            None => take_from_key_values(url)?,
        };
        let (mut mode, mut root_cert) = (None, RootCert::Default);
        for (key, value) in pairs {
            match key.as_str() {
                "sslmode" => mode = Some(SslMode::parse(&value)?),
                _ if value.is_empty() => root_cert = RootCert::Default,
                _ if value == "system" => root_cert = RootCert::System,
                _ => root_cert = RootCert::File(PathBuf::from(value)),
            }
        }
        let mode = match (mode, &root_cert) {
            (None, RootCert::System) => SslMode::VerifyFull,
            (Some(m), RootCert::System) if m != SslMode::VerifyFull => {
                return Err(format!(
                    "sslrootcert=system checks the server against public CAs, which only \
                     means something with its name: it needs sslmode=verify-full, not {m}"
                ))
            }
            (None, _) => SslMode::Prefer,
            (Some(m), _) => m,
        };
        if mode == SslMode::VerifyCa && !matches!(root_cert, RootCert::File(_)) {
            return Err(
                "sslmode=verify-ca needs sslrootcert=<file> with the CA that signed \
                 the server's certificate: against every public CA without the host name, \
                 any certificate they signed would pass (use verify-full for a public CA)"
                    .into(),
            );
        }
        Ok((Self { mode, root_cert }, rest))
    }

    /// Sets the driver's mode on `config`: off for Unix sockets (as libpq), else `mode`'s.
    pub fn apply(&self, config: &mut tokio_postgres::Config) {
        let all_unix = !config.get_hosts().is_empty()
            && config
                .get_hosts()
                .iter()
                .all(|h| !matches!(h, tokio_postgres::config::Host::Tcp(_)));
        config.ssl_mode(if all_unix {
            DriverSslMode::Disable
        } else {
            self.mode.driver()
        });
    }

    /// The connector for the driver: a rustls client that checks what `mode` asks.
    /// Fails when a root file cannot be read or holds no certificate, or the system store
    /// is empty where it is needed.
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let verifier: Arc<dyn ServerCertVerifier> = match (self.mode, &self.root_cert) {
            (SslMode::Disable, _) | (SslMode::Prefer | SslMode::Require, RootCert::Default) => {
                Arc::new(EncryptOnly(provider))
            }
            (SslMode::VerifyFull, _) => {
                WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots()?), provider)
                    .build()
                    .map_err(|e| format!("TLS setup: {e}"))?
            }
            // verify-ca, and prefer/require with a root file (libpq's rule).
            _ => {
                let full =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots()?), provider)
                        .build()
                        .map_err(|e| format!("TLS setup: {e}"))?;
                Arc::new(ChainOnly(full))
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            RootCert::File(path) => {
                let shown = path.display();
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("cannot read sslrootcert={shown}: {e}"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("sslrootcert={shown} is not PEM certificates: {e}"))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!("sslrootcert={shown} holds no usable certificate"));
                }
            }
            RootCert::Default | RootCert::System => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    let why = found
                        .errors
                        .first()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    return Err(format!(
                        "sslmode={} found no root certificates in the system store{why}: \
                         install ca-certificates or name the CA with sslrootcert=<file>",
                        self.mode
                    ));
                }
            }
        }
        Ok(roots)
    }
}

/// A connection error's reason made plain for the two TLS cases an operator meets first.
pub(crate) fn explain(reason: String, settings: &TlsSettings) -> String {
    if reason.contains("server does not support TLS") {
        return format!(
            "the server does not support TLS but sslmode={} (turn ssl on in postgresql.conf, \
             or use sslmode=prefer/disable on a trusted network)",
            settings.mode
        );
    }
    if reason.contains("TLS") || reason.contains("certificate") {
        return format!("{reason} (sslmode={})", settings.mode);
    }
    reason
}

/// `sslrootcert`'s and `sslmode`'s pairs out of a URL's query (percent-decoded), and the
/// URL without them.
fn take_from_query(url: &str) -> Result<(Vec<(String, String)>, String), String> {
    // The driver reads user information up to the first `@`, then the query after `?`.
    let at = url.find("://").map(|i| i + 3).unwrap_or(0);
    let after_user = url[at..].find('@').map(|i| at + i + 1).unwrap_or(at);
    let Some(q) = url[after_user..].find('?').map(|i| after_user + i) else {
        return Ok((Vec::new(), url.to_string()));
    };
    let (mut taken, mut kept) = (Vec::new(), Vec::new());
    for part in url[q + 1..].split('&') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = percent_decode(k)?;
        if key == "sslmode" || key == "sslrootcert" {
            taken.push((key, percent_decode(v)?));
        } else {
            kept.push(part);
        }
    }
    let mut rest = url[..q].to_string();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    Ok((taken, rest))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or("a bad %-escape in the URL's query")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the URL's query is not UTF-8".into())
}

/// The same pairs out of the `key=value` form (values optionally quoted with `'`, `\`
/// escaping), and the rest as it was written.
fn take_from_key_values(s: &str) -> Result<(Vec<(String, String)>, String), String> {
    let (mut taken, mut rest) = (Vec::new(), String::new());
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(format!("{key:?} has no value (key=value)"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("the value of {key:?} has no closing quote")),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(c);
            }
        }
        let end = chars.peek().map(|&(i, _)| i).unwrap_or(s.len());
        if key == "sslmode" || key == "sslrootcert" {
            taken.push((key, value));
        } else {
            if !rest.is_empty() {
                rest.push(' ');
            }
            rest.push_str(&s[start..end]);
        }
    }
    Ok((taken, rest))
}

/// `prefer`/`require` without a root file: TLS against eavesdropping, no identity check
/// (libpq's meaning). The handshake's signatures are still checked, so the session is
/// with whoever holds the certificate's key.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the full check, with a name mismatch forgiven (webpki checks the chain
/// before the name, so a mismatch means the chain was good).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> Result<(TlsSettings, String), String> {
        TlsSettings::split(url)
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_either_form() {
        let (s, rest) =
            split("postgres://u:p?w@db:5432/sb?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem")
                .unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert, RootCert::File("/etc/ca.pem".into()));
        assert_eq!(rest, "postgres://u:p?w@db:5432/sb?application_name=x");

        let (s, rest) = split("postgres://db/sb?sslmode=require").unwrap();
        assert_eq!((s.mode, s.root_cert), (SslMode::Require, RootCert::Default));
        assert_eq!(rest, "postgres://db/sb");

        let (s, rest) = split(
            "host=db sslmode = verify-ca password='a b\\' c' sslrootcert='/x y/ca.pem' dbname=sb",
        )
        .unwrap();
        assert_eq!(s.mode, SslMode::VerifyCa);
        assert_eq!(s.root_cert, RootCert::File("/x y/ca.pem".into()));
        assert_eq!(rest, "host=db password='a b\\' c' dbname=sb");
    }

    #[test]
    fn the_default_is_prefer_and_system_roots_mean_verify_full() {
        let (s, _) = split("postgres://db/sb").unwrap();
        assert_eq!(s.mode, SslMode::Prefer);
        let (s, _) = split("postgres://db/sb?sslrootcert=system").unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        let e = split("postgres://db/sb?sslrootcert=system&sslmode=require").unwrap_err();
        assert!(e.contains("needs sslmode=verify-full"), "{e}");
    }

    #[test]
    fn bad_values_say_what_is_allowed() {
        let e = split("postgres://db/sb?sslmode=allow").unwrap_err();
        assert!(e.contains("verify-full") && e.contains("\"allow\""), "{e}");
        let e = split("host=db sslmode=verify-ca").unwrap_err();
        assert!(e.contains("needs sslrootcert=<file>"), "{e}");
        let e = split("host=db sslrootcert='/x").unwrap_err();
        assert!(e.contains("closing quote"), "{e}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let (s, _) =
            split("postgres://db/sb?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").unwrap();
        let e = s.connector().err().unwrap();
        assert!(
            e.contains("cannot read sslrootcert=/nonexistent/ca.pem"),
            "{e}"
        );
    }
}
