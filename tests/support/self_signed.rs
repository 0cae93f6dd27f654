//! A throwaway RSA key and self-signed certificate made with openssl (installed with the lab).

use std::path::{Path, PathBuf};

/// Writes `<name>.key` and `<name>.pem` into `dir`; returns (certificate, key).
pub fn self_signed(dir: &Path, name: &str, subject: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pem")),
    );
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", subject,
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}
