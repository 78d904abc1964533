//! Certificates for the TLS tests, made with the `openssl` command.

use std::path::Path;
use std::process::Command;

/// Runs `openssl` with `args` in `dir`, failing the test with its output when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A CA `{name}-ca.crt` and a certificate for localhost and 127.0.0.1 signed by it,
/// `{name}.crt` with its key `{name}.key`, in `dir`.
pub fn issue(dir: &Path, name: &str) {
    let (ca_key, ca_crt) = (format!("{name}-ca.key"), format!("{name}-ca.crt"));
    let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
    let ca_subject = format!("/CN=redress test CA {name}");
    openssl(
        dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", &ca_subject, "-keyout", &ca_key, "-out", &ca_crt],
    );
    openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", &key, "-out", &csr]);
    std::fs::write(dir.join(format!("{name}.ext")), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("ext");
    let ext = format!("{name}.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
}
