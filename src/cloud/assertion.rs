//! A client assertion for certificate credentials (RFC 7523 JWT, RS256), as Microsoft documents it:
//! header `x5t#S256` (SHA-256 of the certificate, base64url), claims `aud` = token endpoint, `iss` = `sub` =
//! client id, `jti`, `nbf`, `iat`, `exp` (ten minutes).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::error::{Error, Result};

const LIFETIME_SECS: u64 = 600;

/// Signs an assertion for `client_id` at `token_url` with the certificate at `cert_file` and its private key.
pub fn client_assertion(
    client_id: &str,
    token_url: &str,
    cert_file: &Path,
    key_pem: &SecretString,
) -> Result<String> {
    let bad_cert = |e: String| {
        Error::usage(format!(
            "cloud.client_certificate {}: {e}",
            cert_file.display()
        ))
        .hint("a PEM file with the certificate registered on the application")
    };
    let cert = CertificateDer::from_pem_file(cert_file).map_err(|e| bad_cert(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.expose_secret().as_bytes()).map_err(|e| {
        Error::usage(format!(
            "cloud.client_certificate_key: not a PEM private key ({e})"
        ))
    })?;
    let pair = match &key {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        _ => {
            return Err(Error::usage(
                "cloud.client_certificate_key: only RSA keys are supported (PKCS#8 or PKCS#1 PEM)",
            ));
        }
    }
    .map_err(|e| {
        Error::usage(format!(
            "cloud.client_certificate_key: not a usable RSA key ({e})"
        ))
    })?;
    let thumbprint = B64URL.encode(ring::digest::digest(&ring::digest::SHA256, cert.as_ref()));
    let rng = SystemRandom::new();
    let mut jti = [0u8; 16];
    rng.fill(&mut jti)
        .map_err(|_| Error::runtime("no system randomness for the client assertion"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": thumbprint });
    let claims = json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "nbf": now,
        "iat": now,
        "exp": now + LIFETIME_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &rng,
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| Error::runtime("cannot sign the client assertion"))?;
    Ok(format!("{signing_input}.{}", B64URL.encode(signature)))
}
