//! The HTTP client: reqwest with rustls (ring), bridged to the `oauth2` crate's request/response types.

use std::time::Duration;

use crate::error::{Error, Result};

pub fn client() -> Result<reqwest::Client> {
    // One crypto provider for the whole process (ldap3 uses ring too); a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::runtime(format!("cannot set up the HTTPS client: {e}")))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

/// Sends an `oauth2` request with reqwest.
pub async fn send(
    client: reqwest::Client,
    request: oauth2::HttpRequest,
) -> std::result::Result<oauth2::HttpResponse, HttpError> {
    let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
    let url = request.url().to_string();
    let response = client
        .execute(request)
        .await
        .map_err(|e| HttpError(describe(&url, &e)))?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| HttpError(describe(&url, &e)))?;
    builder
        .body(body.to_vec())
        .map_err(|e| HttpError(e.to_string()))
}

/// A network failure in words, with the cause chain (reqwest's top line alone says little).
pub fn describe(url: &str, e: &reqwest::Error) -> String {
    let mut text = format!("cannot reach {url}");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
