//! Certificates for TLS tests, made in the test process: a CA of the test's own and a server
//! certificate for `localhost` and `127.0.0.1` signed by it.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// Writes a CA `{name}-ca.crt` and a certificate for localhost and 127.0.0.1 signed by it,
/// `{name}.crt` with its key `{name}.key` (PEM, PKCS #8), into `dir`.
pub fn issue(dir: &Path, name: &str) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, format!("redress test CA {name}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().expect("a server key");
    let mut server = CertificateParams::new(["localhost".to_string(), "127.0.0.1".to_string()]).expect("the names");
    server.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = server.signed_by(&key, &issuer).expect("the server certificate");

    let write =
        |file: String, pem: String| std::fs::write(dir.join(&file), pem).unwrap_or_else(|e| panic!("{file}: {e}"));
    write(format!("{name}-ca.crt"), ca_cert.pem());
    write(format!("{name}.crt"), cert.pem());
    write(format!("{name}.key"), key.serialize_pem());
}
