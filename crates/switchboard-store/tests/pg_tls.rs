//! TLS to PostgreSQL as the URL's `sslmode` and `sslrootcert` ask (src/pg/tls.rs).
//!
//! The certificate checks run against a stand-in server made here: it answers
//! PostgreSQL's TLS request, does the handshake with a certificate from a throwaway CA
//! (rcgen), and then refuses the login with a message of its own, so a client that sees
//! that message got through the handshake. The test command's PostgreSQL has no TLS
//! (scripts/lib/postgres.sh), so against it: `require` fails plainly, `prefer`, the
//! default and `disable` connect. No password ever shows in an error.

mod common;

use std::{path::Path, sync::Arc};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use tokio_rustls::TlsAcceptor;

use switchboard_store::pg::{PgDb, PgError, PgListener, SslMode};

const PASSWORD: &str = "s3cr3t-pw";
/// What the stand-in says once a client is through the handshake.
const REACHED: &str = "stand-in server reached over TLS";

struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn write_pem(&self, path: &Path) {
        std::fs::write(path, self.issuer.pem()).unwrap();
    }

    /// A server certificate for `names`, signed by this CA, and its key.
    fn server_cert(
        &self,
        names: &[&str],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        (
            vec![cert.der().clone(), self.issuer.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// A server that speaks PostgreSQL only as far as TLS: answers the TLS request with
/// `S`, does the handshake, reads the login and refuses it with [`REACHED`]. Its port.
async fn stand_in_server(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> u16 {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8];
                socket.read_exact(&mut request).await?;
                assert_eq!(
                    request,
                    [0, 0, 0, 8, 4, 210, 22, 47],
                    "PostgreSQL's SSLRequest"
                );
                socket.write_all(b"S").await?;
                let mut tls = acceptor.accept(socket).await?;
                let len = tls.read_u32().await?;
                let mut startup = vec![0u8; len as usize - 4];
                tls.read_exact(&mut startup).await?;
                let mut fields = Vec::new();
                for (code, text) in [(b'S', "FATAL"), (b'C', "28000"), (b'M', REACHED)] {
                    fields.push(code);
                    fields.extend_from_slice(text.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut message = vec![b'E'];
                message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
                message.extend_from_slice(&fields);
                tls.write_all(&message).await?;
                tls.shutdown().await?;
                Ok::<_, std::io::Error>(())
            });
        }
    });
    port
}

/// Connects to the stand-in with `query` added; the connection error's text (it never
/// logs in), checked to hold no password.
async fn attempt(host: &str, port: u16, query: &str) -> String {
    let url = format!("postgres://relay:{PASSWORD}@{host}:{port}/sb?hostaddr=127.0.0.1&{query}");
    let err = PgDb::connect(&url)
        .await
        .expect_err("the stand-in never lets one in");
    let text = err.to_string();
    assert!(
        !text.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD),
        "{text}"
    );
    assert!(matches!(err, PgError::Connect { .. }), "{err:?}");
    text
}

#[tokio::test]
async fn certificates_are_checked_as_the_sslmode_says() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, other_ca) = (Ca::new("switchboard test CA"), Ca::new("another CA"));
    let (ca_file, other_file) = (dir.path().join("ca.pem"), dir.path().join("other.pem"));
    ca.write_pem(&ca_file);
    other_ca.write_pem(&other_file);
    let (chain, key) = ca.server_cert(&["localhost"]);
    let port = stand_in_server(chain, key).await;
    let (ca_file, other_file) = (ca_file.display(), other_file.display());

    // verify-full: the chain and the name.
    let text = attempt(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca_file}"),
    )
    .await;
    assert!(text.contains(REACHED), "{text}");
    let text = attempt(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca_file}"),
    )
    .await;
    assert!(
        !text.contains(REACHED)
            && text.contains("not valid for name")
            && text.contains("sslmode=verify-full"),
        "a name the certificate does not carry: {text}"
    );
    let text = attempt(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={other_file}"),
    )
    .await;
    assert!(
        !text.contains(REACHED) && text.contains("UnknownIssuer"),
        "another CA: {text}"
    );

    // verify-ca: the chain only.
    let text = attempt(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-ca&sslrootcert={ca_file}"),
    )
    .await;
    assert!(text.contains(REACHED), "verify-ca ignores the name: {text}");
    let text = attempt(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-ca&sslrootcert={other_file}"),
    )
    .await;
    assert!(
        !text.contains(REACHED) && text.contains("UnknownIssuer"),
        "{text}"
    );

    // require and prefer: encrypted, unchecked — unless a root file is named (libpq).
    for mode in ["require", "prefer"] {
        let text = attempt("127.0.0.1", port, &format!("sslmode={mode}")).await;
        assert!(text.contains(REACHED), "{mode}: {text}");
        let text = attempt(
            "127.0.0.1",
            port,
            &format!("sslmode={mode}&sslrootcert={other_file}"),
        )
        .await;
        assert!(
            !text.contains(REACHED) && text.contains("UnknownIssuer"),
            "{mode}: {text}"
        );
    }
    // No sslmode at all is prefer: the stand-in's offer of TLS is taken.
    let text = attempt("127.0.0.1", port, "application_name=x").await;
    assert!(text.contains(REACHED), "{text}");
}

#[tokio::test]
async fn a_bad_tls_setting_is_a_clear_bad_url() {
    for (query, says) in [
        (
            "sslmode=allow",
            "is not one of disable, prefer, require, verify-ca or verify-full",
        ),
        ("sslmode=verify-ca", "needs sslrootcert=<file>"),
        (
            "sslmode=require&sslrootcert=system",
            "needs sslmode=verify-full",
        ),
        (
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "cannot read sslrootcert=/nonexistent/ca.pem",
        ),
    ] {
        let url = format!("postgres://relay:{PASSWORD}@127.0.0.1:1/sb?{query}");
        let err = PgDb::connect(&url).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, PgError::BadUrl { .. }), "{query}: {err:?}");
        assert!(text.contains(says), "{query}: {text}");
        assert!(
            !text.contains(PASSWORD) && !format!("{err:?}").contains(PASSWORD),
            "{text}"
        );
    }
}

/// The test command's server has no TLS: `require` is refused with a plain reason, and
/// `prefer` (also the default) and `disable` connect, the listener too.
#[tokio::test]
async fn the_test_server_without_tls() {
    let Some(test_db) = common::test_database("tls_plain_server").await else {
        return;
    };
    let with = |query: &str| {
        let sep = if test_db.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{query}", test_db.url)
    };
    let password = test_db
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p.to_string())
        .expect("the test URL carries a password");

    let err = PgDb::connect(&with("sslmode=require")).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("the server does not support TLS but sslmode=require"),
        "{text}"
    );
    assert!(!text.contains(&password) && !format!("{err:?}").contains(&password));
    let err = PgDb::connect(&with("sslmode=verify-full"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not support TLS but sslmode=verify-full")
            // A machine without any system root certificate says that first.
            || err.to_string().contains("no root certificates"),
        "{err}"
    );

    for (query, mode) in [
        ("sslmode=prefer", SslMode::Prefer),
        ("sslmode=disable", SslMode::Disable),
        ("application_name=switchboard-test", SslMode::Prefer),
    ] {
        let db = PgDb::connect(&with(query)).await.unwrap();
        assert_eq!(db.ssl_mode(), mode);
        assert!(db.schema_version().await.unwrap() > 0);
        let listener = PgListener::start(&db, &["switchboard_tls_test"])
            .await
            .unwrap();
        drop(listener);
    }
    test_db.drop_database().await;
}
