//! Where each cloud lives, with overrides for tests and the lab. Plain http:// is accepted for loopback only.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Global,
    Usgov,
    China,
}

impl Environment {
    pub fn authority(self) -> &'static str {
        match self {
            Self::Global => "https://login.microsoftonline.com",
            Self::Usgov => "https://login.microsoftonline.us",
            Self::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Graph host, which is also the resource part of scopes.
    pub fn graph(self) -> &'static str {
        match self {
            Self::Global => "https://graph.microsoft.com",
            Self::Usgov => "https://graph.microsoft.us",
            Self::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// Resolved endpoints for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub device_code: String,
    pub token: String,
    /// Graph base including `/v1.0`.
    pub graph: String,
    /// The resource in scopes (`https://graph.microsoft.com`), independent of overrides.
    pub graph_resource: &'static str,
}

impl Endpoints {
    pub fn new(
        environment: Environment,
        tenant: &str,
        authority_url: Option<&str>,
        graph_url: Option<&str>,
    ) -> Result<Self> {
        let authority = checked_base(
            "authority_url",
            authority_url.unwrap_or(environment.authority()),
        )?;
        let graph = checked_base("graph_url", graph_url.unwrap_or(environment.graph()))?;
        let tenant = tenant.trim();
        Ok(Self {
            device_code: format!("{authority}/{tenant}/oauth2/v2.0/devicecode"),
            token: format!("{authority}/{tenant}/oauth2/v2.0/token"),
            graph: format!("{graph}/v1.0"),
            graph_resource: environment.graph(),
        })
    }
}

fn checked_base(field: &str, url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://").filter(|r| is_loopback(r)));
    match rest {
        Some(host) if !host.is_empty() => Ok(url.to_string()),
        _ => Err(Error::usage(format!(
            "cloud.{field}: {url:?} must be an https:// URL (http:// only on loopback, for tests and the lab)"
        ))),
    }
}

fn is_loopback(host_and_path: &str) -> bool {
    let host = host_and_path.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_endpoints_per_cloud_and_accepts_loopback_overrides_only() {
        let e = Endpoints::new(Environment::Usgov, "contoso.onmicrosoft.us", None, None).unwrap();
        assert_eq!(
            e.token,
            "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"
        );
        assert_eq!(e.graph, "https://graph.microsoft.us/v1.0");
        let e = Endpoints::new(
            Environment::Global,
            "t",
            Some("http://127.0.0.1:8400/"),
            Some("http://127.0.0.1:8400"),
        )
        .unwrap();
        assert_eq!(
            e.device_code,
            "http://127.0.0.1:8400/t/oauth2/v2.0/devicecode"
        );
        assert_eq!(e.graph_resource, "https://graph.microsoft.com");
        assert!(
            Endpoints::new(
                Environment::Global,
                "t",
                Some("http://login.example.com"),
                None
            )
            .is_err()
        );
        assert!(Endpoints::new(Environment::Global, "t", None, Some("ftp://x")).is_err());
    }
}
