//! The cloud side of `check`: sign in as the answers say, then who signed in, the tenant, the role decision,
//! and warnings (tenant not synchronized, last sync long ago, forests whose UPN suffix is not verified).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::endpoints::Endpoints;
use super::graph::Graph;
use super::roles::{GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR, RoleDecision, decide};
use super::signin::{self, DEFAULT_CLIENT_ID, DevicePrompt, SignInMethod, Token};
use crate::answers::Cloud;
use crate::error::{Error, Result};

/// Synchronization normally runs every 30 minutes.
const SYNC_STALE_AFTER: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone, Serialize)]
pub struct CloudReport {
    pub signed_in: String,
    pub app_only: bool,
    pub tenant_id: String,
    pub tenant_name: Option<String>,
    pub verified_domains: Vec<String>,
    pub on_premises_sync_enabled: Option<bool>,
    pub on_premises_last_sync: Option<String>,
    pub role: RoleDecision,
    pub warnings: Vec<String>,
}

/// Signs in as the answers say. Device code hands its prompt to `show` and stops when `cancel` completes.
pub async fn sign_in(
    cloud: &Cloud,
    endpoints: &Endpoints,
    show: impl FnOnce(&DevicePrompt),
    cancel: impl Future<Output = ()>,
) -> Result<(Token, String)> {
    let client_id = cloud.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID);
    match cloud.sign_in {
        SignInMethod::DeviceCode => {
            let token =
                signin::device_code(endpoints, client_id, show, tokio::time::sleep, cancel).await?;
            Ok((token, cloud.username.clone().unwrap_or_default()))
        }
        SignInMethod::Password => {
            let username = cloud.username.as_deref().unwrap_or_default();
            let password = cloud
                .password
                .as_ref()
                .ok_or_else(|| {
                    Error::usage("cloud.password is required with sign_in = \"password\"")
                })?
                .resolve("cloud.password")?;
            Ok((
                signin::password(endpoints, &cloud.tenant, client_id, username, &password).await?,
                username.to_string(),
            ))
        }
        SignInMethod::ClientCredentials => {
            let token = match (&cloud.client_certificate, &cloud.client_certificate_key) {
                (Some(cert), Some(key)) => {
                    let key = key.resolve("cloud.client_certificate_key")?;
                    signin::client_certificate(endpoints, client_id, cert, &key).await?
                }
                _ => {
                    let secret = cloud
                        .client_secret
                        .as_ref()
                        .ok_or_else(|| Error::usage("cloud.client_secret is required with sign_in = \"client-credentials\""))?
                        .resolve("cloud.client_secret")?;
                    signin::client_credentials(endpoints, client_id, &secret).await?
                }
            };
            Ok((token, client_id.to_string()))
        }
    }
}

/// `upn_suffixes`: the suffixes of the forests in the answers, once known (empty when there are none). For
/// the command line: a device code prompt goes to standard error, and Ctrl-C cancels.
pub async fn check(cloud: &Cloud, upn_suffixes: &[String]) -> Result<CloudReport> {
    check_with(
        cloud,
        upn_suffixes,
        |p| eprintln!("{}\n(waiting for the sign-in; Ctrl-C cancels)", p.message),
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await
}

/// [`check`] with the device code prompt handed to `show` and cancelled when `cancel` completes (the wizard).
pub async fn check_with(
    cloud: &Cloud,
    upn_suffixes: &[String],
    show: impl FnOnce(&DevicePrompt),
    cancel: impl Future<Output = ()>,
) -> Result<CloudReport> {
    let endpoints = Endpoints::new(
        cloud.environment,
        &cloud.tenant,
        cloud.authority_url.as_deref(),
        cloud.graph_url.as_deref(),
    )?;
    let (token, name) = sign_in(cloud, &endpoints, show, cancel).await?;
    let app_only = token.app_only;
    let graph = Graph::new(&endpoints.graph, token.access_token)?;
    let (org, who, role) = if app_only {
        let org = graph.organization().await?;
        let role = decide(&name, &[], &[], true);
        (org, name, role)
    } else {
        let (me, org, active) =
            futures::try_join!(graph.me(), graph.organization(), graph.active_roles())?;
        let who = me.user_principal_name.clone().unwrap_or(name);
        let active: Vec<String> = active.into_iter().map(|r| r.template_id).collect();
        let holds = |id: &str| active.iter().any(|a| a.eq_ignore_ascii_case(id));
        // Only ask PIM when no qualifying role is active; a 403 there just means we cannot tell.
        let eligible = if holds(GLOBAL_ADMINISTRATOR) || holds(HYBRID_IDENTITY_ADMINISTRATOR) {
            Vec::new()
        } else {
            graph.eligible_role_ids(&me.id).await.unwrap_or_default()
        };
        let role = decide(&who, &active, &eligible, false);
        (org, who, role)
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let warnings = tenant_warnings(
        org.on_premises_sync_enabled,
        org.on_premises_last_sync_date_time.as_deref(),
        now,
    )
    .into_iter()
    .chain(upn_warnings(
        upn_suffixes,
        &org.verified_domains
            .iter()
            .map(|d| d.name.clone())
            .collect::<Vec<_>>(),
    ))
    .collect();
    Ok(CloudReport {
        signed_in: who,
        app_only,
        tenant_id: org.id,
        tenant_name: org.display_name,
        verified_domains: org.verified_domains.into_iter().map(|d| d.name).collect(),
        on_premises_sync_enabled: org.on_premises_sync_enabled,
        on_premises_last_sync: org.on_premises_last_sync_date_time,
        role,
        warnings,
    })
}

pub fn tenant_warnings(
    sync_enabled: Option<bool>,
    last_sync: Option<&str>,
    now_unix: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    match sync_enabled {
        None => out.push("the tenant has never been synchronized from on-premises (onPremisesSyncEnabled is null): password writeback only serves synchronized users; set up Entra Connect Sync or Cloud Sync first".to_string()),
        Some(false) => out.push("directory synchronization is turned off for this tenant (onPremisesSyncEnabled is false): writeback needs a running sync".to_string()),
        Some(true) => {}
    }
    if let Some(at) = last_sync.and_then(parse_utc)
        && now_unix.saturating_sub(at) > SYNC_STALE_AFTER.as_secs()
    {
        out.push(format!(
            "the last synchronization was at {}, {} hours ago: check that the sync server is running",
            last_sync.unwrap_or_default(),
            (now_unix - at) / 3600
        ));
    }
    out
}

/// UPN suffixes that are neither a verified domain of the tenant nor below one.
pub fn upn_warnings(suffixes: &[String], verified: &[String]) -> Vec<String> {
    suffixes
        .iter()
        .filter(|f| {
            let f = f.to_ascii_lowercase();
            !verified.iter().any(|v| {
                let v = v.to_ascii_lowercase();
                f == v || f.ends_with(&format!(".{v}"))
            })
        })
        .map(|f| format!("UPN suffix {f} is not a verified domain of the tenant: users with it would sign in with the onmicrosoft.com suffix (verify the domain in the tenant, or give those users a verified suffix)"))
        .collect()
}

/// An RFC 3339 timestamp as Graph writes it (`2026-11-25T05:00:00Z`, fractional seconds and offsets
/// accepted) to Unix seconds; `None` for anything else, or a time before 1970.
pub fn parse_utc(text: &str) -> Option<u64> {
    let at =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .ok()?;
    u64::try_from(at.unix_timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graph_timestamps() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2026-11-25T05:00:00Z"), Some(1_795_582_800));
        assert_eq!(
            parse_utc("2026-11-25T05:00:00.1234567Z"),
            Some(1_795_582_800)
        );
        assert_eq!(parse_utc("2026-11-25T06:00:00+01:00"), Some(1_795_582_800));
        assert_eq!(parse_utc("yesterday"), None);
        assert_eq!(parse_utc("2026-02-30T00:00:00Z"), None);
    }

    #[test]
    fn warns_about_unsynchronized_or_stale_tenants_and_unverified_suffixes() {
        let now = parse_utc("2026-11-25T12:00:00Z").unwrap();
        assert!(tenant_warnings(None, None, now)[0].contains("never been synchronized"));
        assert!(tenant_warnings(Some(false), None, now)[0].contains("turned off"));
        assert!(tenant_warnings(Some(true), Some("2026-11-25T11:40:00Z"), now).is_empty());
        assert!(
            tenant_warnings(Some(true), Some("2026-11-24T11:40:00Z"), now)[0]
                .contains("24 hours ago")
        );
        let verified = vec![
            "contoso.com".to_string(),
            "contoso.onmicrosoft.com".to_string(),
        ];
        assert!(
            upn_warnings(
                &["corp.contoso.com".into(), "contoso.com".into()],
                &verified
            )
            .is_empty()
        );
        assert_eq!(
            upn_warnings(&["corp.example.test".into()], &verified).len(),
            1
        );
    }
}
