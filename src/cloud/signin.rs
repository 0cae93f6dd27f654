//! The three sign-ins, by the documented v2.0 endpoints: device code (RFC 8628; works with MFA and
//! Conditional Access), username and password (ROPC; no MFA), client credentials (app-only, unattended).

use std::future::Future;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, DeviceAuthorizationResponse, DeviceAuthorizationUrl,
    DeviceCodeErrorResponse, ExtraDeviceAuthorizationFields, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::endpoints::Endpoints;
use super::http::{HttpError, client, send};
use crate::error::{Error, Result};

/// Microsoft Graph Command Line Tools: Microsoft's public client for administrators using Graph interactively.
/// `client_id` in the answers file replaces it (e.g. with your own app registration).
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInMethod {
    #[default]
    DeviceCode,
    Password,
    ClientCredentials,
}

/// An access token: in memory only, never printed.
pub struct Token {
    pub access_token: SecretString,
    /// Client credentials: no user signed in.
    pub app_only: bool,
}

/// What the user must do to finish a device-code sign-in.
#[derive(Debug, Clone)]
pub struct DevicePrompt {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_in: Duration,
}

/// Microsoft adds a ready-to-show `message` to the device authorization response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MicrosoftDeviceFields {
    #[serde(default)]
    message: Option<String>,
}

impl ExtraDeviceAuthorizationFields for MicrosoftDeviceFields {}

fn delegated_scopes(endpoints: &Endpoints) -> Vec<Scope> {
    [
        "User.Read",
        "Organization.Read.All",
        "RoleManagement.Read.Directory",
    ]
    .iter()
    .map(|s| Scope::new(format!("{}/{s}", endpoints.graph_resource)))
    .chain(
        ["openid", "profile"]
            .iter()
            .map(|s| Scope::new(s.to_string())),
    )
    .collect()
}

fn url<T>(
    make: impl FnOnce(String) -> std::result::Result<T, oauth2::url::ParseError>,
    text: &str,
) -> Result<T> {
    make(text.to_string()).map_err(|e| Error::usage(format!("invalid sign-in URL {text:?}: {e}")))
}

/// Device code: shows the code through `show`, then polls honouring `interval` and `slow_down` (+5 s) until the
/// user finishes, declines, the code expires, or `cancel` completes.
pub async fn device_code<S, SF, C>(
    endpoints: &Endpoints,
    client_id: &str,
    show: impl FnOnce(&DevicePrompt),
    sleep: S,
    cancel: C,
) -> Result<Token>
where
    S: Fn(Duration) -> SF,
    SF: Future<Output = ()>,
    C: Future<Output = ()>,
{
    let http_client = client()?;
    let http = |request| send(http_client.clone(), request);
    let oauth = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(url(TokenUrl::new, &endpoints.token)?)
        .set_device_authorization_url(url(DeviceAuthorizationUrl::new, &endpoints.device_code)?);
    let details: DeviceAuthorizationResponse<MicrosoftDeviceFields> = oauth
        .exchange_device_code()
        .add_scopes(delegated_scopes(endpoints))
        .request_async(&http)
        .await
        .map_err(|e| token_error("device code request", e))?;
    let prompt = DevicePrompt {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        message: details.extra_fields().message.clone().unwrap_or_else(|| {
            format!(
                "To sign in, open {} and enter the code {}.",
                details.verification_uri().as_str(),
                details.user_code().secret()
            )
        }),
        expires_in: details.expires_in(),
    };
    show(&prompt);
    let poll = oauth
        .exchange_device_access_token(&details)
        .request_async(&http, sleep, None);
    tokio::select! {
        result = poll => {
            let token: BasicTokenResponse = result.map_err(|e| device_error(e, &prompt))?;
            Ok(Token { access_token: SecretString::from(token.access_token().secret().clone()), app_only: false })
        }
        () = cancel => Err(Error::runtime("sign-in cancelled").hint("run again when you are ready to enter the code")),
    }
}

/// Username and password (ROPC). Microsoft blocks it for accounts that need MFA, and on `common`/`consumers`.
pub async fn password(
    endpoints: &Endpoints,
    tenant: &str,
    client_id: &str,
    username: &str,
    password: &SecretString,
) -> Result<Token> {
    if ["common", "consumers"].contains(&tenant.trim().to_ascii_lowercase().as_str()) {
        return Err(Error::usage(format!("cloud.tenant: username and password sign-in does not work with the {tenant:?} authority"))
            .hint("set tenant to your tenant name or id (e.g. contoso.onmicrosoft.com), or use sign_in = \"device-code\""));
    }
    let http_client = client()?;
    let http = |request| send(http_client.clone(), request);
    let oauth = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(url(TokenUrl::new, &endpoints.token)?);
    let user = ResourceOwnerUsername::new(username.to_string());
    let secret = ResourceOwnerPassword::new(password.expose_secret().to_string());
    let token = oauth
        .exchange_password(&user, &secret)
        .add_scopes(delegated_scopes(endpoints))
        .request_async(&http)
        .await
        .map_err(|e| token_error(&format!("sign-in as {username}"), e))?;
    Ok(Token {
        access_token: SecretString::from(token.access_token().secret().clone()),
        app_only: false,
    })
}

/// Client credentials with a client secret: an app-only token for Graph.
pub async fn client_credentials(
    endpoints: &Endpoints,
    client_id: &str,
    secret: &SecretString,
) -> Result<Token> {
    let http_client = client()?;
    let http = |request| send(http_client.clone(), request);
    let oauth = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_client_secret(ClientSecret::new(secret.expose_secret().to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(url(TokenUrl::new, &endpoints.token)?);
    let token = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new(format!("{}/.default", endpoints.graph_resource)))
        .request_async(&http)
        .await
        .map_err(|e| token_error(&format!("sign-in as application {client_id}"), e))?;
    Ok(Token {
        access_token: SecretString::from(token.access_token().secret().clone()),
        app_only: true,
    })
}

/// Client credentials with a certificate: a signed client assertion instead of a secret.
pub async fn client_certificate(
    endpoints: &Endpoints,
    client_id: &str,
    cert_file: &std::path::Path,
    key_pem: &SecretString,
) -> Result<Token> {
    let assertion =
        super::assertion::client_assertion(client_id, &endpoints.token, cert_file, key_pem)?;
    let http_client = client()?;
    let http = |request| send(http_client.clone(), request);
    let oauth = BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(url(TokenUrl::new, &endpoints.token)?);
    let token = oauth
        .exchange_client_credentials()
        .add_scope(Scope::new(format!("{}/.default", endpoints.graph_resource)))
        .add_extra_param(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .add_extra_param("client_assertion", assertion)
        .request_async(&http)
        .await
        .map_err(|e| {
            token_error(
                &format!("sign-in as application {client_id} with a certificate"),
                e,
            )
        })?;
    Ok(Token {
        access_token: SecretString::from(token.access_token().secret().clone()),
        app_only: true,
    })
}

/// `AADSTS50126` from an error description.
fn aadsts(description: &str) -> Option<u32> {
    let rest = &description[description.find("AADSTS")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// Branches on the documented `error` and AADSTS code, never on description wording.
fn explain(action: &str, error: &str, description: &str) -> Error {
    let code = aadsts(description);
    let plain = |what: &str| {
        format!(
            "{action}: {what} ({error}{})",
            code.map(|c| format!(", AADSTS{c}")).unwrap_or_default()
        )
    };
    match code {
        Some(50076) | Some(50079) => Error::runtime(plain("multi-factor authentication is required, which username and password sign-in cannot do"))
            .hint("set sign_in = \"device-code\" in [cloud]: it works with MFA and Conditional Access"),
        Some(50126) => Error::runtime(plain("invalid username or password")).hint("check cloud.username and the password reference"),
        Some(50055) => Error::runtime(plain("the password has expired")).hint("change it at https://mysignins.microsoft.com/security-info or in the portal, then run again"),
        Some(50053) => Error::runtime(plain("the account is locked")).hint("wait, or ask another administrator to unlock it"),
        Some(50057) => Error::runtime(plain("the account is disabled")),
        Some(50034) => Error::runtime(plain("no such user in this tenant")).hint("check cloud.username and cloud.tenant"),
        Some(90002) => Error::usage(plain("no such tenant")).hint("check cloud.tenant (name or id) and cloud.environment"),
        Some(7000215) | Some(7000222) => Error::runtime(plain("invalid or expired client secret")).hint("check cloud.client_secret"),
        Some(700016) => Error::usage(plain("no such application in this tenant")).hint("check cloud.client_id"),
        Some(700027) | Some(700024) | Some(700021) => Error::runtime(plain("the client assertion was refused"))
            .hint("check that cloud.client_certificate is the certificate registered on the application and the key matches it"),
        Some(65001) => Error::runtime(plain("the application has no consent for the Graph permissions it asks for"))
            .hint("have an administrator grant consent, or sign in with device code"),
        _ => Error::runtime(format!("{action}: {error}: {}", first_line(description))).hint("see the AADSTS code at https://login.microsoftonline.com/error"),
    }
}

fn token_error(action: &str, e: RequestTokenError<HttpError, BasicErrorResponse>) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => explain(
            action,
            r.error().as_ref(),
            r.error_description().map_or("", String::as_str),
        ),
        RequestTokenError::Request(e) => Error::runtime(format!("{action}: {e}"))
            .hint("check the network, the proxy and cloud.authority_url"),
        RequestTokenError::Parse(e, _) => Error::runtime(format!(
            "{action}: unexpected answer from the sign-in service: {e}"
        )),
        RequestTokenError::Other(e) => Error::runtime(format!("{action}: {e}")),
    }
}

fn device_error(
    e: RequestTokenError<HttpError, DeviceCodeErrorResponse>,
    prompt: &DevicePrompt,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let error = r.error().as_ref().to_string();
            let description = r.error_description().map_or("", String::as_str);
            match error.as_str() {
                "authorization_declined" | "access_denied" => {
                    Error::runtime("device-code sign-in: the sign-in was declined")
                        .hint("run again and approve the sign-in in the browser")
                }
                "expired_token" => Error::runtime(format!(
                    "device-code sign-in: the code {} expired before the sign-in finished",
                    prompt.user_code
                ))
                .hint(format!(
                    "run again and finish at {} within {} minutes",
                    prompt.verification_uri,
                    prompt.expires_in.as_secs() / 60
                )),
                "bad_verification_code" => Error::runtime(
                    "device-code sign-in: the service does not know this device code",
                )
                .hint("run again"),
                _ => explain("device-code sign-in", &error, description),
            }
        }
        RequestTokenError::Request(e) => Error::runtime(format!("device-code sign-in: {e}"))
            .hint("check the network and cloud.authority_url"),
        RequestTokenError::Parse(e, _) => {
            Error::runtime(format!("device-code sign-in: unexpected answer: {e}"))
        }
        RequestTokenError::Other(e) => Error::runtime(format!("device-code sign-in: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_aadsts_codes_and_maps_the_documented_ones() {
        assert_eq!(
            aadsts("AADSTS50076: Due to a configuration change...\r\nTrace ID: x"),
            Some(50076)
        );
        assert_eq!(aadsts("no code"), None);
        let e = explain(
            "sign-in as a@b",
            "invalid_grant",
            "AADSTS50076: Due to a configuration change",
        );
        assert!(e.message.contains("multi-factor") && e.hint.unwrap().contains("device-code"));
        let e = explain(
            "sign-in as a@b",
            "invalid_grant",
            "AADSTS50126: Error validating credentials",
        );
        assert!(e.message.contains("invalid username or password"));
        let e = explain(
            "sign-in as a@b",
            "invalid_grant",
            "AADSTS50055: The password is expired.",
        );
        assert!(e.message.contains("expired"));
    }
}
