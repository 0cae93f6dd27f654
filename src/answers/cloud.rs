//! The `[cloud]` section: the tenant and how to sign in to Microsoft Entra ID.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cloud::endpoints::{Endpoints, Environment};
use crate::cloud::signin::SignInMethod;
use crate::error::{Error, Result};
use crate::secret::SecretRef;

/// Microsoft Entra ID: which tenant and how to sign in. Secrets are references, like everywhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloud {
    #[serde(default)]
    pub environment: Environment,
    /// Tenant name (`contoso.onmicrosoft.com`) or id.
    pub tenant: String,
    #[serde(default)]
    pub sign_in: SignInMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// The public client (device code, password) or the application (client credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretRef>,
    /// Client credentials with a certificate: the PEM certificate registered on the application...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<PathBuf>,
    /// ...and its private key (PEM), by reference like any secret (`file:PATH` or `env:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_key: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
}

impl Cloud {
    pub(super) fn validate(&self) -> Result<()> {
        let field = |name: &str, msg: &str| Error::usage(format!("cloud.{name}: {msg}"));
        if self.tenant.trim().is_empty() {
            return Err(field("tenant", "is empty")
                .hint("your tenant name or id, e.g. contoso.onmicrosoft.com"));
        }
        match self.sign_in {
            SignInMethod::Password => {
                if self.username.as_deref().is_none_or(|u| !u.contains('@')) {
                    return Err(field(
                        "username",
                        "sign_in = \"password\" needs the account's UPN, e.g. admin@contoso.onmicrosoft.com",
                    ));
                }
                if self.password.is_none() {
                    return Err(field(
                        "password",
                        "sign_in = \"password\" needs password = \"env:NAME\", \"file:PATH\" or \"prompt\"",
                    ));
                }
            }
            SignInMethod::ClientCredentials => {
                let certificate =
                    self.client_certificate.is_some() || self.client_certificate_key.is_some();
                if self.client_id.is_none() || (self.client_secret.is_some() == certificate) {
                    return Err(field(
                        "client_secret",
                        "sign_in = \"client-credentials\" needs client_id and either client_secret = \"env:NAME\" or client_certificate + client_certificate_key",
                    ));
                }
                if certificate
                    && (self.client_certificate.is_none() || self.client_certificate_key.is_none())
                {
                    return Err(field(
                        "client_certificate",
                        "needs both client_certificate (PEM path) and client_certificate_key (file:PATH)",
                    ));
                }
            }
            SignInMethod::DeviceCode => {}
        }
        if (self.client_secret.is_some() || self.client_certificate.is_some())
            && self.sign_in != SignInMethod::ClientCredentials
        {
            return Err(field(
                "client_secret",
                "client_secret and client_certificate are only used with sign_in = \"client-credentials\"",
            ));
        }
        Endpoints::new(
            self.environment,
            &self.tenant,
            self.authority_url.as_deref(),
            self.graph_url.as_deref(),
        )
        .map(|_| ())
    }
}
