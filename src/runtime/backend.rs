//! The one place the wizard calls the back end (`grants` plan/apply/check/revert, `grants::plan::connect`, the
//! cloud sign-in and checks). Each function turns back-end results into the plain data of
//! [`crate::wizard::data`]. Kept thin on purpose: when the back end's signatures change (structured apply
//! events, a cancel flag, revert per journal), only this file follows.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ldap3::Scope as LdapScope;

use crate::ad::connection::text_attrs;
use crate::ad::dcs::Dcs;
use crate::answers::{Answers, Cloud, Directory};
use crate::cloud::roles::RoleDecision;
use crate::error::{Error, Result};
use crate::grants::journal::Journal;
use crate::grants::{Plan, apply, check, effective, explain, plan, revert};
use crate::wizard::data::{
    ApplyEvent, ApplyResult, CheckSummary, CloudSummary, DevicePrompt, DirectoryInfo,
    DirectoryResult, OuEntry, PlanSummary, TargetSummary, UsersSummary, Verdict,
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
        verified_domains: report.verified_domains,
    }
}

/// Signs in and checks the role and the tenant, as `writeback-wizard check` does; a device code prompt goes
/// to `on_prompt`, and `cancel` stops the wait.
pub async fn sign_in(
    cloud: &Cloud,
    upn_suffixes: &[String],
    on_prompt: impl FnOnce(DevicePrompt),
    cancel: impl std::future::Future<Output = ()>,
) -> Result<CloudSummary> {
    crate::cloud::check::check_with(
        cloud,
        upn_suffixes,
        |p| {
            on_prompt(DevicePrompt {
                user_code: p.user_code.clone(),
                verification_uri: p.verification_uri.clone(),
                message: p.message.clone(),
            })
        },
        cancel,
    )
    .await
    .map(summary)
}

/// Connects, binds, discovers the forest and resolves the connector (`grants::plan::connect`).
pub async fn validate_directory(d: &Directory) -> Result<DirectoryInfo> {
    let (dcs, connector) = plan::connect(d, true).await?;
    let forest = dcs.forest().clone();
    dcs.unbind().await;
    Ok(DirectoryInfo {
        forest: forest.forest_name(),
        domains: forest
            .domains
            .iter()
            .map(|d| (d.nc.to_string(), d.dns_name.clone()))
            .collect(),
        upn_suffixes: forest.upn_suffixes(),
        connector_dn: connector.dn,
        connector_sid: connector.sid.to_string(),
    })
}

/// The forest's DCs, signed in, for reading the OU tree (each level from a DC of its own domain).
pub async fn tree_session(d: &Directory) -> Result<Dcs> {
    Dcs::open(d).await
}

const CONTAINERS: &str =
    "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=builtinDomain))";
/// Children handed to the UI per message: the first rows show before a large level is read.
pub const BATCH: usize = 200;

/// The containers one level below `dn`, read with a paged search and handed over `BATCH` at a time.
pub async fn children(dcs: &Dcs, dn: &str, mut batch: impl FnMut(Vec<OuEntry>)) -> Result<usize> {
    let mut pending = Vec::with_capacity(BATCH);
    let n = dcs
        .for_dn(dn)
        .await?
        .search_each(
            dn,
            LdapScope::OneLevel,
            CONTAINERS,
            &["name", "objectClass"],
            false,
            |e| {
                let name = text_attrs(&e, "name")
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| e.dn.split(',').next().unwrap_or_default().to_string());
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
                .targets()
                .iter()
                .map(|t| TargetSummary {
                    dn: t.dn.clone(),
                    kind: t.kind.label().to_string(),
                    aces_to_add: t.to_add().len(),
                    writable: t.writable(),
                    sddl_before: t.before().to_string(),
                    sddl_after: t.after().to_string(),
                })
                .collect(),
            // The refusal is carried on its own (it disables Configure); not repeated as a warning.
            warnings: p
                .warnings
                .iter()
                .filter(|w| !w.starts_with("apply would refuse"))
                .cloned()
                .collect(),
            refusal: p.refusal().map(|e| e.to_string()),
        });
        plans.push(p);
    }
    Ok((plans, summaries))
}

/// Applies the plans (`grants::apply::apply_all`: nothing is written anywhere if any forest would refuse).
/// `cancel` is looked at before each write: apply stops there, and the result says what was written.
pub async fn apply_all(
    plans: Vec<Plan>,
    state_dir: &Path,
    progress: &(dyn Fn(ApplyEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<ApplyResult> {
    let outcomes = apply::apply_all(&plans, state_dir, cancel, &|_, e: apply::ApplyEvent<'_>| {
        progress(ApplyEvent {
            done: e.done,
            total: e.total,
            dn: e.dn.to_string(),
            ok: e.result.is_success(),
            text: e.result.describe(),
        })
    })
    .await;
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            for p in plans {
                p.dcs.unbind().await;
            }
            return Err(e);
        }
    };
    let mut result = ApplyResult::default();
    for (p, outcome) in plans.into_iter().zip(outcomes) {
        let mut d = DirectoryResult {
            forest: p.forest.forest_name(),
            unchanged: p
                .targets()
                .iter()
                .filter(|t| !t.changes())
                .map(|t| t.dn.clone())
                .collect(),
            ..Default::default()
        };
        match outcome {
            Ok(outcome) => {
                d.journal = outcome.journal.as_ref().map(|j| j.display().to_string());
                d.written = outcome.written().map(String::from).collect();
                for (dn, r) in &outcome.results {
                    match r {
                        apply::TargetResult::Verified { .. } => {}
                        apply::TargetResult::NotStarted => d.skipped.push(dn.clone()),
                        other => d.failed.push((dn.clone(), other.describe())),
                    }
                }
                if let Some(e) = &outcome.aborted {
                    d.error = Some(e.to_string());
                }
                result.cancelled |= outcome.cancelled;
            }
            Err(e) => d.error = Some(e.to_string()),
        }
        p.dcs.unbind().await;
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

/// Directories that failed, as (forest, error): one directory's failure does not hide the others' results.
pub type Failed = Vec<(String, String)>;

/// `check` on every directory.
pub async fn check_all(answers: &Answers) -> (Vec<CheckSummary>, Failed) {
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for d in &answers.directories {
        match check_one(d, &answers.features).await {
            Ok(c) => out.push(c),
            Err(e) => failed.push((d.forest.clone(), e.to_string())),
        }
    }
    (out, failed)
}

async fn check_one(d: &Directory, features: &crate::answers::Features) -> Result<CheckSummary> {
    let report = check::run(d, features, |_| {}).await?.report;
    Ok(CheckSummary {
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
    })
}

/// Blocked users listed per directory on the Troubleshoot page (the counts cover every user).
const BLOCKED_LISTED: usize = 500;

/// `check --users` on every directory.
pub async fn check_users_all(answers: &Answers) -> (Vec<UsersSummary>, Failed) {
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for (i, d) in answers.directories.iter().enumerate() {
        match check_users_one(i, d, &answers.features).await {
            Ok(u) => out.push(u),
            Err(e) => failed.push((d.forest.clone(), e.to_string())),
        }
    }
    (out, failed)
}

async fn check_users_one(
    i: usize,
    d: &Directory,
    features: &crate::answers::Features,
) -> Result<UsersSummary> {
    {
        let p = Plan::prepare(d, features).await?;
        let attributes = effective::schema_attributes();
        let inputs = futures::try_join!(
            crate::ad::access::token(&p.dcs, &p.connector),
            crate::ad::access::SchemaGuids::load(&p.session, &p.forest, &attributes),
        );
        let (token, schema) = match inputs {
            Ok(x) => x,
            Err(e) => {
                p.session.unbind().await;
                return Err(e);
            }
        };
        let mut listed = Vec::new();
        let mut more = 0;
        let summary = effective::check_users(&p, &token, &schema, |r| {
            if r.covered() {
                return;
            }
            if listed.len() < BLOCKED_LISTED {
                let reasons = r
                    .reasons
                    .iter()
                    .map(|x| format!("{}: {}", x.right.label(), x.detail))
                    .collect();
                listed.push((r.dn.clone(), reasons));
            } else {
                more += 1;
            }
        })
        .await;
        p.session.unbind().await;
        let summary = summary?;
        Ok(UsersSummary {
            forest: p.forest.forest_name(),
            directory: i,
            users: summary.users,
            fully_covered: summary.fully_covered,
            blocked: summary.blocked,
            by_reason: summary
                .by_reason
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
            unexpire: summary
                .unexpire_password
                .iter()
                .map(|d| (d.domain.clone(), d.granted, d.detail.clone()))
                .collect(),
            blocked_users: listed,
            more_blocked: more,
        })
    }
}

/// `explain` for one user of directory `index`, as text.
pub async fn explain_user(answers: &Answers, index: usize, user: &str) -> Result<String> {
    let d = answers
        .directories
        .get(index)
        .ok_or_else(|| Error::runtime("that directory is no longer in the answers"))?;
    let p = Plan::prepare(d, &answers.features).await?;
    let attributes = effective::schema_attributes();
    let inputs = futures::try_join!(
        crate::ad::access::token(&p.dcs, &p.connector),
        crate::ad::access::SchemaGuids::load(&p.session, &p.forest, &attributes),
    );
    let result = match inputs {
        Ok((token, schema)) => explain::explain(&p, &token, &schema, user).await,
        Err(e) => Err(e),
    };
    p.session.unbind().await;
    result.map(|e| e.text())
}

/// What revert would take back: the objects its journals say apply wrote, per forest.
pub async fn revert_preview(
    answers: &Answers,
    state_dir: &Path,
) -> (Vec<(String, Vec<String>)>, Failed) {
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for d in &answers.directories {
        match revert_preview_one(d, state_dir).await {
            Ok(x) => out.push(x),
            Err(e) => failed.push((d.forest.clone(), e.to_string())),
        }
    }
    (out, failed)
}

async fn revert_preview_one(d: &Directory, state_dir: &Path) -> Result<(String, Vec<String>)> {
    let dcs = Dcs::open(d).await?;
    let found = revert::journals_for(&dcs, d, state_dir).await;
    let forest = dcs.forest().forest_name();
    dcs.unbind().await;
    Ok((
        forest,
        found?
            .journals
            .iter()
            .flat_map(|j| j.outstanding().map(|t| t.dn.clone()))
            .collect(),
    ))
}

/// Revert every directory; (done, not done) per object with what happened.
#[allow(clippy::type_complexity)]
pub async fn revert_all(
    answers: &Answers,
    state_dir: &Path,
) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for d in &answers.directories {
        // A directory that cannot be reached or read is named with its error; the others are reverted.
        let dcs = match Dcs::open(d).await {
            Ok(dcs) => dcs,
            Err(e) => {
                failed.push((format!("forest {}", d.forest), e.to_string()));
                continue;
            }
        };
        let found = match revert::journals_for(&dcs, d, state_dir).await {
            Ok(found) => found,
            Err(e) => {
                dcs.unbind().await;
                failed.push((format!("forest {}", d.forest), e.to_string()));
                continue;
            }
        };
        let paths: Vec<std::path::PathBuf> =
            found.journals.iter().map(|j| j.path.clone()).collect();
        let max = usize::from(
            d.max_in_flight
                .unwrap_or(crate::answers::DEFAULT_MAX_IN_FLIGHT),
        );
        let never = std::sync::atomic::AtomicBool::new(false);
        let outcome = revert::revert(&dcs, &paths, max, &never, &|_| {}).await;
        dcs.unbind().await;
        for (dn, r) in outcome.targets {
            if r.is_done() {
                done.push((dn, r.describe()));
            } else {
                failed.push((dn, r.describe()));
            }
        }
        for p in outcome.busy {
            failed.push((
                p.display().to_string(),
                "in use by another run (an apply still writing, or another revert)".into(),
            ));
        }
        for (p, e) in outcome.failed_journals {
            failed.push((p.display().to_string(), e.to_string()));
        }
    }
    (done, failed)
}

/// The newest journal file in the state directory, described in one line.
pub fn last_journal(state_dir: &Path) -> Option<String> {
    let dir = state_dir.join("journal");
    let newest = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            !name.starts_with('.')
                && (name.ends_with(".jsonl") || name.ends_with(".jsonl.reverted"))
        })
        .max()?;
    let name = newest.display().to_string();
    let state = if name.ends_with(".reverted") {
        "reverted"
    } else {
        "active"
    };
    Some(match Journal::load(&newest) {
        Ok(j) => {
            let written = j
                .targets
                .iter()
                .filter(|t| t.state != crate::grants::journal::TargetState::Planned)
                .count();
            format!(
                "{name} ({state}): forest {}, {written} of {} object(s) written",
                j.header.forest,
                j.targets.len()
            )
        }
        Err(e) => format!("{name} ({state}): {}", e.message),
    })
}

pub fn error_text(e: &Error) -> String {
    e.to_string()
}
