//! The one place the wizard calls the back end (`grants` plan/apply/check/revert, `grants::plan::connect`, the
//! cloud sign-in and checks). Each function turns back-end results into the plain data of
//! [`crate::wizard::data`]. Kept thin on purpose: when the back end's signatures change (structured apply
//! events, a cancel flag, revert per journal), only this file follows.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ldap3::Scope as LdapScope;

use crate::ad::connection::text_attrs;
use crate::ad::{ConnectionSettings, Session};
use crate::answers::{Answers, Cloud, Directory};
use crate::cloud::endpoints::Endpoints;
use crate::cloud::graph::Graph;
use crate::cloud::roles::{GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR, RoleDecision, decide};
use crate::cloud::signin::{self, DEFAULT_CLIENT_ID, SignInMethod};
use crate::error::{Error, Result};
use crate::grants::journal::Journal;
use crate::grants::{Plan, apply, check, plan, revert};
use crate::wizard::data::{
    ApplyEvent, ApplyResult, CheckSummary, CloudSummary, DevicePrompt, DirectoryInfo,
    DirectoryResult, OuEntry, PlanSummary, TargetSummary, Verdict,
};

fn summary(report: crate::cloud::check::CloudReport) -> CloudSummary {
    let (verdict, message) = match &report.role {
        RoleDecision::Pass(m) => (Verdict::Pass, m.clone()),
        RoleDecision::PassWithWarning(m) => (Verdict::PassWithWarning, m.clone()),
        RoleDecision::Refuse(m) => (Verdict::Refuse, m.clone()),
    };
    CloudSummary {
        signed_in: report.signed_in,
        tenant: match report.tenant_name {
            Some(name) => format!("{name} ({})", report.tenant_id),
            None => report.tenant_id,
        },
        verdict,
        message,
        warnings: report.warnings,
    }
}

/// Signs in and checks the role and the tenant. Device code reports its prompt through `on_prompt` and stops
/// when `cancel` completes; the other methods are `cloud::check::check` as `writeback-wizard check` runs it.
pub async fn sign_in(
    cloud: &Cloud,
    upn_suffixes: &[String],
    on_prompt: impl FnOnce(DevicePrompt),
    cancel: impl std::future::Future<Output = ()>,
) -> Result<CloudSummary> {
    if cloud.sign_in != SignInMethod::DeviceCode {
        return crate::cloud::check::check(cloud, upn_suffixes)
            .await
            .map(summary);
    }
    // Device code: cloud::check::sign_in prints its prompt on stderr and waits for a SIGINT, neither of which
    // works under the wizard, so the same steps are taken here with the prompt and cancel wired to the UI.
    let endpoints = Endpoints::new(
        cloud.environment,
        &cloud.tenant,
        cloud.authority_url.as_deref(),
        cloud.graph_url.as_deref(),
    )?;
    let client_id = cloud.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID);
    let token = signin::device_code(
        &endpoints,
        client_id,
        |p| {
            on_prompt(DevicePrompt {
                user_code: p.user_code.clone(),
                verification_uri: p.verification_uri.clone(),
                message: p.message.clone(),
            })
        },
        tokio::time::sleep,
        cancel,
    )
    .await?;
    let graph = Graph::new(&endpoints.graph, token.access_token)?;
    let (me, org, active) =
        futures::try_join!(graph.me(), graph.organization(), graph.active_roles())?;
    let who = me
        .user_principal_name
        .clone()
        .or(cloud.username.clone())
        .unwrap_or_default();
    let active: Vec<String> = active.into_iter().map(|r| r.template_id).collect();
    let holds = |id: &str| active.iter().any(|a| a.eq_ignore_ascii_case(id));
    let eligible = if holds(GLOBAL_ADMINISTRATOR) || holds(HYBRID_IDENTITY_ADMINISTRATOR) {
        Vec::new()
    } else {
        graph.eligible_role_ids(&me.id).await.unwrap_or_default()
    };
    let role = decide(&who, &active, &eligible, false);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verified: Vec<String> = org.verified_domains.iter().map(|d| d.name.clone()).collect();
    let warnings = crate::cloud::check::tenant_warnings(
        org.on_premises_sync_enabled,
        org.on_premises_last_sync_date_time.as_deref(),
        now,
    )
    .into_iter()
    .chain(crate::cloud::check::upn_warnings(upn_suffixes, &verified))
    .collect();
    Ok(summary(crate::cloud::check::CloudReport {
        signed_in: who,
        app_only: false,
        tenant_id: org.id,
        tenant_name: org.display_name,
        verified_domains: verified,
        on_premises_sync_enabled: org.on_premises_sync_enabled,
        on_premises_last_sync: org.on_premises_last_sync_date_time,
        role,
        warnings,
    }))
}

/// Connects, binds, discovers the forest and resolves the connector (`grants::plan::connect`).
pub async fn validate_directory(d: &Directory) -> Result<DirectoryInfo> {
    let (session, forest, connector) = plan::connect(d, true).await?;
    session.unbind().await;
    Ok(DirectoryInfo {
        forest: forest.forest_name(),
        domains: forest
            .domains
            .iter()
            .map(|d| (d.nc.to_string(), d.dns_name.clone()))
            .collect(),
        connector_dn: connector.dn,
        connector_sid: connector.sid.to_string(),
    })
}

/// A bound session for reading the OU tree.
pub async fn tree_session(d: &Directory) -> Result<Session> {
    let password = d.admin_password.resolve("admin_password")?;
    let mut session = Session::connect(&ConnectionSettings::from(d)).await?;
    session.bind(&d.admin, &password).await?;
    Ok(session)
}

const CONTAINERS: &str =
    "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=builtinDomain))";
/// Children handed to the UI per message: the first rows show before a large level is read.
pub const BATCH: usize = 200;

/// The containers one level below `dn`, read with a paged search and handed over `BATCH` at a time.
pub async fn children(
    session: &Session,
    dn: &str,
    mut batch: impl FnMut(Vec<OuEntry>),
) -> Result<usize> {
    let mut pending = Vec::with_capacity(BATCH);
    let n = session
        .search_each(
            dn,
            LdapScope::OneLevel,
            CONTAINERS,
            &["name", "objectClass"],
            false,
            |e| {
                let name = text_attrs(&e, "name").into_iter().next().unwrap_or_else(|| {
                    e.dn.split(',').next().unwrap_or_default().to_string()
                });
                let is_ou = text_attrs(&e, "objectClass")
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case("organizationalUnit"));
                pending.push(OuEntry {
                    dn: e.dn,
                    name,
                    is_ou,
                });
                if pending.len() >= BATCH {
                    batch(std::mem::take(&mut pending));
                }
            },
        )
        .await?;
    batch(pending);
    Ok(n)
}

/// Plans every directory (nothing is written).
pub async fn plan_all(answers: &Answers) -> Result<(Vec<Plan>, Vec<PlanSummary>)> {
    let mut plans = Vec::new();
    let mut summaries = Vec::new();
    for d in &answers.directories {
        let p = Plan::prepare(d, &answers.features).await?;
        summaries.push(PlanSummary {
            forest: p.forest.forest_name(),
            connector_sid: p.connector.sid.to_string(),
            targets: p
                .targets
                .iter()
                .map(|t| TargetSummary {
                    dn: t.dn.clone(),
                    kind: t.kind.label().to_string(),
                    aces_to_add: t.to_add.len(),
                    writable: t.writable,
                    sddl_before: t.before.to_string(),
                    sddl_after: t.after.to_string(),
                })
                .collect(),
            warnings: p.warnings.clone(),
        });
        plans.push(p);
    }
    Ok((plans, summaries))
}

/// `[3/7] OU=X,DC=y: added 4 ACE(s), verified` → an event.
fn parse_progress(line: &str) -> ApplyEvent {
    let (count, rest) = line
        .strip_prefix('[')
        .and_then(|l| l.split_once("] "))
        .unwrap_or(("0/0", line));
    let (done, total) = count.split_once('/').unwrap_or(("0", "0"));
    let dn = rest.rsplit_once(": ").map_or(rest, |(dn, _)| dn);
    ApplyEvent {
        done: done.parse().unwrap_or(0),
        total: total.parse().unwrap_or(0),
        dn: dn.to_string(),
        ok: !rest.ends_with("FAILED"),
        text: rest.to_string(),
    }
}

/// Applies the plans in order. `cancel` is read before each directory: the back end's apply has no cancel
/// flag yet, so a directory that started writing finishes its writes.
pub async fn apply_all(
    plans: Vec<Plan>,
    state_dir: &Path,
    progress: &(dyn Fn(ApplyEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<ApplyResult> {
    let mut result = ApplyResult::default();
    for p in plans {
        let changed: Vec<String> = p.changed().map(|t| t.dn.clone()).collect();
        let unchanged: Vec<String> = p
            .targets
            .iter()
            .filter(|t| !t.changes())
            .map(|t| t.dn.clone())
            .collect();
        let mut d = DirectoryResult {
            forest: p.forest.forest_name(),
            unchanged,
            ..Default::default()
        };
        if cancel.load(Ordering::SeqCst) {
            result.cancelled = true;
            d.skipped = changed;
        } else if !changed.is_empty() {
            let outcome = apply::apply(&p, state_dir, &|line| progress(parse_progress(line))).await?;
            d.journal = outcome.journal.map(|j| j.display().to_string());
            d.written = outcome.written;
            d.failed = outcome
                .failed
                .into_iter()
                .map(|(dn, e)| (dn, e.to_string()))
                .collect();
        }
        p.session.unbind().await;
        result.directories.push(d);
    }
    Ok(result)
}

fn fix_for(kind: &str) -> &'static str {
    match kind {
        "connector-disabled" => "enable the connector account",
        "connector-locked" => "unlock the connector account (lockoutTime = 0)",
        "explicit-deny" => "remove the deny ACE for the connector from this object",
        "protected-account" => {
            "tick AdminSDHolder on Optional features, or take the account out of protected groups"
        }
        "inheritance-disabled" => {
            "enable inheritance on it, or select it on Domain and OU filtering"
        }
        _ => "see the detail",
    }
}

/// `check` on every directory.
pub async fn check_all(answers: &Answers) -> Result<Vec<CheckSummary>> {
    let mut out = Vec::new();
    for d in &answers.directories {
        let p = Plan::prepare(d, &answers.features).await?;
        let report = check::check(&p).await?;
        p.session.unbind().await;
        out.push(CheckSummary {
            forest: report.forest,
            connector: report.connector,
            rights: report
                .targets
                .iter()
                .flat_map(|t| {
                    t.rights.iter().map(|r| {
                        let state = if r.denied {
                            "denied"
                        } else if r.present {
                            "present"
                        } else {
                            "missing"
                        };
                        (t.dn.clone(), r.right.clone(), state)
                    })
                })
                .collect(),
            risks: report
                .risks
                .iter()
                .map(|r| {
                    (
                        r.kind.to_string(),
                        r.dn.clone(),
                        r.detail.clone(),
                        fix_for(r.kind).to_string(),
                    )
                })
                .collect(),
            missing: report.missing,
        });
    }
    Ok(out)
}

/// What revert would take back: the objects in the active journals, per forest.
pub async fn revert_preview(answers: &Answers, state_dir: &Path) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for d in &answers.directories {
        let (session, forest, connector) = plan::connect(d, false).await?;
        let journals = Journal::active(state_dir, &forest.forest_name(), &connector.sid.to_string())?;
        session.unbind().await;
        out.push((
            forest.forest_name(),
            journals
                .iter()
                .flat_map(|(_, j)| j.entries.iter().map(|e| e.dn.clone()))
                .collect(),
        ));
    }
    Ok(out)
}

/// Revert every directory; (done, failed) per object.
#[allow(clippy::type_complexity)]
pub async fn revert_all(
    answers: &Answers,
    state_dir: &Path,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for d in &answers.directories {
        let (session, forest, connector) = plan::connect(d, false).await?;
        let outcome = revert::revert(
            &session,
            &forest.forest_name(),
            &connector.sid.to_string(),
            state_dir,
            &|_| {},
        )
        .await?;
        session.unbind().await;
        done.extend(
            outcome
                .targets
                .into_iter()
                .map(|(dn, r)| (dn, revert::describe(r).to_string())),
        );
        failed.extend(outcome.failed.into_iter().map(|(dn, e)| (dn, e.to_string())));
    }
    Ok((done, failed))
}

/// The newest journal file in the state directory, described in one line.
pub fn last_journal(state_dir: &Path) -> Option<String> {
    let dir = state_dir.join("journal");
    let newest = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            !name.starts_with('.') && (name.ends_with(".json") || name.ends_with(".json.reverted"))
        })
        .max()?;
    let name = newest.display().to_string();
    let journal: Option<Journal> = std::fs::read(&newest)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let state = if name.ends_with(".reverted") { "reverted" } else { "active" };
    Some(match journal {
        Some(j) => format!(
            "{name} ({state}): forest {}, {} object(s) written",
            j.forest,
            j.entries.len()
        ),
        None => format!("{name} ({state})"),
    })
}

/// Forest UPN suffixes for the cloud check (none when the directories are not reachable yet).
pub fn upn_suffixes(infos: &[DirectoryInfo]) -> Vec<String> {
    infos
        .iter()
        .flat_map(|i| i.domains.iter().map(|(_, dns)| dns.clone()))
        .collect()
}

pub fn error_text(e: &Error) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_apply_progress_lines() {
        let e = parse_progress("[2/5] OU=In,OU=T,DC=corp,DC=test: added 4 ACE(s), verified");
        assert_eq!((e.done, e.total, e.ok), (2, 5, true));
        assert_eq!(e.dn, "OU=In,OU=T,DC=corp,DC=test");
        let e = parse_progress("[3/5] DC=corp,DC=test: FAILED");
        assert!(!e.ok);
    }
}
