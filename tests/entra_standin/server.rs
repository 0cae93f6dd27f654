//! A stand-in for Microsoft Entra ID and Microsoft Graph on loopback, for tests and the lab. It answers like the
//! documented service (v2.0 devicecode and token endpoints for the device code, password and client
//! credentials grants; Graph /me, /organization, /me/transitiveMemberOf, PIM eligibility), including the
//! documented error bodies. It never grants what the real service would refuse.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const HYBRID_IDENTITY_ADMINISTRATOR: &str = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2";
pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

#[derive(Debug, Clone)]
pub struct User {
    pub upn: String,
    pub password: String,
    pub id: String,
    pub active_roles: Vec<String>,
    pub eligible_roles: Vec<String>,
    pub mfa_required: bool,
    pub password_expired: bool,
}

impl User {
    pub fn new(upn: &str, password: &str, active_roles: &[&str]) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self {
            upn: upn.into(),
            password: password.into(),
            id: format!("00000000-0000-4000-8000-{n:012}"),
            active_roles: active_roles.iter().map(|r| r.to_string()).collect(),
            eligible_roles: Vec::new(),
            mfa_required: false,
            password_expired: false,
        }
    }
}

#[derive(Debug, Clone)]
pub enum DeviceOutcome {
    ApproveAs(String),
    Decline,
    Expire,
}

/// How every device-code sign-in goes: `pending_polls` answers of authorization_pending, `slow_down` at one
/// poll (1-based), then the outcome.
#[derive(Debug, Clone)]
pub struct DeviceScript {
    pub interval: u64,
    pub expires_in: u64,
    pub pending_polls: u32,
    pub slow_down_on_poll: Option<u32>,
    pub outcome: DeviceOutcome,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tenant_id: String,
    pub tenant_name: String,
    pub display_name: String,
    pub verified_domains: Vec<String>,
    pub sync_enabled: Option<bool>,
    pub last_sync: Option<String>,
    pub users: Vec<User>,
    /// (client_id, secret) of confidential applications.
    pub apps: Vec<(String, String)>,
    /// Applications with a registered certificate.
    pub cert_apps: Vec<CertApp>,
    pub device: DeviceScript,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tenant_id: "7d0b2e53-6a0c-4f3e-9a51-2f6f6f0e1c11".into(),
            tenant_name: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
            verified_domains: vec!["contoso.onmicrosoft.com".into(), "corp.example.test".into()],
            sync_enabled: Some(true),
            last_sync: None,
            users: Vec::new(),
            apps: Vec::new(),
            cert_apps: Vec::new(),
            device: DeviceScript {
                interval: 5,
                expires_in: 900,
                pending_polls: 1,
                slow_down_on_poll: None,
                outcome: DeviceOutcome::Decline,
            },
        }
    }
}

/// A certificate registered on an application: its SHA-256 thumbprint (base64url, as in `x5t#S256`) and its
/// RSA public key (PKCS#1 DER).
#[derive(Debug, Clone)]
pub struct CertApp {
    pub client_id: String,
    pub thumbprint_s256: String,
    pub public_key_pkcs1: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Principal {
    User(String),
    App(String),
}

struct DeviceGrant {
    issued: Instant,
    polls: u32,
    done: bool,
}

#[derive(Default)]
pub struct Seen {
    /// (method, path with query, form or empty body)
    pub requests: Vec<(String, String, String)>,
    pub tokens: Vec<String>,
    pub polls: Vec<Instant>,
}

struct State {
    config: Config,
    devices: HashMap<String, DeviceGrant>,
    tokens: HashMap<String, Principal>,
    seen: Seen,
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

pub struct StandIn {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    /// Serves on 127.0.0.1:`port` (0 = any free port) until the runtime ends.
    pub async fn start(config: Config, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State {
            config,
            devices: HashMap::new(),
            tokens: HashMap::new(),
            seen: Seen::default(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        Ok(Self { url, state })
    }

    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.state.lock().unwrap_or_else(|e| e.into_inner()).seen)
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body =
        String::from_utf8_lossy(&buf[header_end..(header_end + length).min(buf.len())]).to_string();
    let (status, value) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .seen
            .requests
            .push((method.clone(), target.clone(), body.clone()));
        route(&mut state, &method, &target, &headers, &body)
    };
    let text = value.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// The documented /token error body.
fn oauth_error(status: u16, error: &str, code: u32, text: &str) -> (u16, Value) {
    let trace = format!(
        "{:08x}-0000-4000-8000-000000000000",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    (
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: 2026-11-25 06:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-11-25 06:00:00Z",
            "trace_id": trace,
            "correlation_id": trace,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn graph_error(status: u16, code: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({ "error": { "code": code, "message": message, "innerError": { "date": "2026-11-25T06:00:00", "request-id": "00000000-0000-0000-0000-000000000000" } } }),
    )
}

fn issue_token(
    state: &mut State,
    principal: Principal,
    scope: &str,
    with_id_token: bool,
) -> (u16, Value) {
    let token = format!(
        "eyJ0eXAiOiJKV1QifQ.standin-{:016x}.sig",
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    state.tokens.insert(token.clone(), principal);
    state.seen.tokens.push(token.clone());
    let mut body = json!({ "token_type": "Bearer", "scope": scope, "expires_in": 3599, "ext_expires_in": 3599, "access_token": token });
    if with_id_token {
        body["id_token"] = json!("eyJ0eXAiOiJKV1QifQ.standin-id.sig");
    }
    (200, body)
}

fn route(
    state: &mut State,
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
    body: &str,
) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if let Some(rest) = path.strip_prefix("/v1.0") {
        return graph(state, method, rest, &form(query), headers);
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if parts.len() != 4 || parts[1..3] != ["oauth2", "v2.0"] || method != "POST" {
        return (404, json!({ "error": "not_found" }));
    }
    let tenant = parts[0];
    let known = [
        state.config.tenant_id.as_str(),
        state.config.tenant_name.as_str(),
        "organizations",
        "common",
        "consumers",
    ];
    if !known.iter().any(|t| t.eq_ignore_ascii_case(tenant)) {
        return oauth_error(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let f = form(body);
    if f.get("client_id").is_none_or(|c| c.is_empty()) {
        return oauth_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    }
    match parts[3] {
        "devicecode" => {
            let device_code = format!(
                "DAQABAAEAAAD-{:x}",
                COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(7919)
            );
            let user_code = format!(
                "S{:07X}",
                COUNTER
                    .fetch_add(1, Ordering::Relaxed)
                    .wrapping_mul(104_729)
                    % 0xFFF_FFFF
            );
            state.devices.insert(
                device_code.clone(),
                DeviceGrant {
                    issued: Instant::now(),
                    polls: 0,
                    done: false,
                },
            );
            let d = &state.config.device;
            (
                200,
                json!({
                    "user_code": user_code,
                    "device_code": device_code,
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": d.expires_in,
                    "interval": d.interval,
                    "message": format!("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code {user_code} to authenticate."),
                }),
            )
        }
        "token" => token(
            state,
            tenant,
            headers.get("host").map_or("", String::as_str),
            &f,
        ),
        _ => (404, json!({ "error": "not_found" })),
    }
}

/// Checks a client assertion the way the service documents it: registered certificate (x5t#S256), RS256
/// signature, audience = the token endpoint, issuer = subject = client id, within its time range.
fn verify_assertion(jwt: &str, app: &CertApp, token_url: &str) -> Result<(), (u32, &'static str)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let invalid = (700027, "Client assertion failed signature validation.");
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(invalid);
    }
    let decode = |p: &str| {
        b64.decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let (Some(header), Some(claims), Ok(signature)) =
        (decode(parts[0]), decode(parts[1]), b64.decode(parts[2]))
    else {
        return Err(invalid);
    };
    if header["alg"] != "RS256" || header["x5t#S256"].as_str() != Some(app.thumbprint_s256.as_str())
    {
        return Err((
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found.]",
        ));
    }
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &app.public_key_pkcs1,
    );
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .map_err(|_| invalid)?;
    if claims["aud"].as_str() != Some(token_url) {
        return Err((
            700212,
            "No matching federated identity record found for presented assertion audience.",
        ));
    }
    if claims["iss"].as_str() != Some(app.client_id.as_str())
        || claims["sub"].as_str() != Some(app.client_id.as_str())
    {
        return Err((
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now)
        || claims["nbf"].as_u64().is_some_and(|nbf| nbf > now + 300)
    {
        return Err((
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

fn unknown_app(client_id: &str, tenant: &str) -> (u16, Value) {
    oauth_error(
        400,
        "unauthorized_client",
        700016,
        &format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
        ),
    )
}

fn authenticate_with_secret(
    state: &State,
    tenant: &str,
    client_id: &str,
    f: &HashMap<String, String>,
) -> Result<(), (u16, Value)> {
    let Some((_, secret)) = state.config.apps.iter().find(|(id, _)| id == client_id) else {
        return Err(unknown_app(client_id, tenant));
    };
    if f.get("client_secret") != Some(secret) {
        return Err(oauth_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ));
    }
    Ok(())
}

fn authenticate_with_assertion(
    state: &State,
    tenant: &str,
    host: &str,
    client_id: &str,
    f: &HashMap<String, String>,
) -> Result<(), (u16, Value)> {
    if f.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err(oauth_error(
            400,
            "invalid_request",
            700025,
            "Client assertion type is invalid.",
        ));
    }
    let Some(app) = state
        .config
        .cert_apps
        .iter()
        .find(|a| a.client_id == client_id)
    else {
        return Err(unknown_app(client_id, tenant));
    };
    let token_url = format!("http://{host}/{tenant}/oauth2/v2.0/token");
    verify_assertion(&f["client_assertion"], app, &token_url)
        .map_err(|(code, text)| oauth_error(401, "invalid_client", code, text))
}

fn token(state: &mut State, tenant: &str, host: &str, f: &HashMap<String, String>) -> (u16, Value) {
    let scope = f.get("scope").cloned().unwrap_or_default();
    match f.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            state.seen.polls.push(Instant::now());
            let script = state.config.device.clone();
            let Some(grant) = f.get("device_code").and_then(|c| state.devices.get_mut(c)) else {
                return oauth_error(
                    400,
                    "bad_verification_code",
                    70018,
                    "Invalid verification code: the device code is not known.",
                );
            };
            if grant.done {
                return oauth_error(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed.",
                );
            }
            grant.polls += 1;
            let expired = grant.issued.elapsed() > Duration::from_secs(script.expires_in);
            if expired
                || (grant.polls > script.pending_polls
                    && matches!(script.outcome, DeviceOutcome::Expire))
            {
                return oauth_error(400, "expired_token", 70019, "Verification code expired.");
            }
            if script.slow_down_on_poll == Some(grant.polls) {
                return oauth_error(400, "slow_down", 70016, "Client is polling too quickly.");
            }
            if grant.polls <= script.pending_polls {
                return oauth_error(
                    400,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                );
            }
            match script.outcome {
                DeviceOutcome::Decline => oauth_error(
                    400,
                    "authorization_declined",
                    70000,
                    "The user declined the sign-in.",
                ),
                DeviceOutcome::Expire => unreachable!(),
                DeviceOutcome::ApproveAs(upn) => {
                    grant.done = true;
                    issue_token(state, Principal::User(upn), &scope, true)
                }
            }
        }
        Some("password") => {
            if ["common", "consumers"].contains(&tenant.to_ascii_lowercase().as_str()) {
                return oauth_error(
                    400,
                    "invalid_request",
                    9002331,
                    "Application is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.",
                );
            }
            let (username, password) = (
                f.get("username").cloned().unwrap_or_default(),
                f.get("password").cloned().unwrap_or_default(),
            );
            let Some(user) = state
                .config
                .users
                .iter()
                .find(|u| u.upn.eq_ignore_ascii_case(&username))
                .cloned()
            else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    50034,
                    &format!(
                        "The user account {username} does not exist in the {tenant} directory."
                    ),
                );
            };
            if user.password != password {
                return oauth_error(
                    400,
                    "invalid_grant",
                    50126,
                    "Error validating credentials due to invalid username or password.",
                );
            }
            if user.password_expired {
                let (s, mut v) =
                    oauth_error(400, "invalid_grant", 50055, "The password is expired.");
                v["suberror"] = json!("user_password_expired");
                return (s, v);
            }
            if user.mfa_required {
                let (s, mut v) = oauth_error(
                    400,
                    "invalid_grant",
                    50076,
                    "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
                );
                v["suberror"] = json!("basic_action");
                return (s, v);
            }
            issue_token(state, Principal::User(user.upn), &scope, true)
        }
        Some("client_credentials") => {
            let client_id = f.get("client_id").cloned().unwrap_or_default();
            let authenticated = if f.contains_key("client_assertion") {
                authenticate_with_assertion(state, tenant, host, &client_id, f)
            } else {
                authenticate_with_secret(state, tenant, &client_id, f)
            };
            if let Err(refusal) = authenticated {
                return refusal;
            }
            if !scope.ends_with("/.default") {
                return oauth_error(
                    400,
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
                );
            }
            issue_token(state, Principal::App(client_id), &scope, false)
        }
        other => oauth_error(
            400,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{}'.",
                other.unwrap_or("")
            ),
        ),
    }
}

fn graph(
    state: &mut State,
    method: &str,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HashMap<String, String>,
) -> (u16, Value) {
    let token = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(principal) = state.tokens.get(token).cloned() else {
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            if token.is_empty() {
                "Access token is empty."
            } else {
                "Access token validation failure. Invalid audience."
            },
        );
    };
    if method != "GET" {
        return graph_error(
            405,
            "Request_BadRequest",
            "Only GET is implemented by the stand-in.",
        );
    }
    let user = match &principal {
        Principal::User(upn) => state
            .config
            .users
            .iter()
            .find(|u| u.upn.eq_ignore_ascii_case(upn))
            .cloned(),
        Principal::App(_) => None,
    };
    let c = &state.config;
    match path {
        "/organization" => (
            200,
            json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
                "value": [{
                    "id": c.tenant_id,
                    "displayName": c.display_name,
                    "verifiedDomains": c.verified_domains.iter().enumerate().map(|(i, d)| json!({ "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": i == 0, "isInitial": d.ends_with(".onmicrosoft.com"), "name": d, "type": "Managed" })).collect::<Vec<_>>(),
                    "onPremisesSyncEnabled": c.sync_enabled,
                    "onPremisesLastSyncDateTime": c.last_sync,
                }],
            }),
        ),
        "/me" | "/me/transitiveMemberOf" if user.is_none() => graph_error(
            400,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ),
        "/me" => {
            let u = user.unwrap();
            (
                200,
                json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "id": u.id, "displayName": u.upn.split('@').next(), "userPrincipalName": u.upn }),
            )
        }
        "/me/transitiveMemberOf" => {
            // A group first, then the roles, two items a page, so clients must filter and follow nextLink.
            let u = user.unwrap();
            let mut items = vec![
                json!({ "@odata.type": "#microsoft.graph.group", "id": "11111111-1111-4111-8111-111111111111", "displayName": "All staff" }),
            ];
            items.extend(u.active_roles.iter().map(|r| json!({ "@odata.type": "#microsoft.graph.directoryRole", "id": format!("role-{r}"), "displayName": role_name(r), "roleTemplateId": r })));
            let skip: usize = query
                .get("$skiptoken")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = items.iter().skip(skip).take(2).cloned().collect();
            let mut body = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": page });
            if skip + 2 < items.len() {
                body["@odata.nextLink"] = json!(format!(
                    "{}/v1.0/me/transitiveMemberOf?$skiptoken={}",
                    headers
                        .get("host")
                        .map(|h| format!("http://{h}"))
                        .unwrap_or_default(),
                    skip + 2
                ));
            }
            (200, body)
        }
        "/roleManagement/directory/roleEligibilityScheduleInstances" => {
            let filter = query.get("$filter").cloned().unwrap_or_default();
            let principal_id = filter
                .strip_prefix("principalId eq '")
                .and_then(|r| r.strip_suffix('\''))
                .unwrap_or("");
            let eligible: Vec<Value> = c
                .users
                .iter()
                .filter(|u| u.id == principal_id)
                .flat_map(|u| u.eligible_roles.iter().map(move |r| json!({ "id": format!("elig-{r}"), "principalId": u.id, "roleDefinitionId": r, "directoryScopeId": "/", "memberType": "Direct" })))
                .collect();
            (
                200,
                json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances", "value": eligible }),
            )
        }
        _ => graph_error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{path}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

fn role_name(template: &str) -> &'static str {
    match template {
        GLOBAL_ADMINISTRATOR => "Global Administrator",
        HYBRID_IDENTITY_ADMINISTRATOR => "Hybrid Identity Administrator",
        USER_ADMINISTRATOR => "User Administrator",
        _ => "Directory role",
    }
}
