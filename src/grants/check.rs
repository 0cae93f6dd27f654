//! `check`: which required ACEs are present on each target, and what in scope would still stop a reset:
//! inheritance disabled, protected accounts (adminCount=1), explicit denies for the connector, a connector
//! account that is disabled or locked out.

use std::collections::{HashMap, HashSet};

use ldap3::{Scope, SearchEntry};
use serde::Serialize;

use super::plan::{Plan, PlanOptions, Reads, TargetKind, TargetPlan, candidates, read_these};
use super::profile::{DOMAIN_DNS_CLASS, Grant};
use super::scope;
use crate::ad::access::Tokens;
use crate::ad::account::Account;
use crate::ad::connection::{DaclRead, binary_attr, text_attr};
use crate::ad::dcs::Dcs;
use crate::ad::discovery::{Domain, Forest, by_domain};
use crate::ad::dn::Dn;
use crate::ad::no_such_object;
use crate::answers::{Directory, Features};
use crate::error::Result;
use crate::security::access::walk;
use crate::security::{Ace, SecurityDescriptor, Token, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct RightStatus {
    pub right: String,
    pub sddl: String,
    /// The connector holds it on every object the grant reaches, nothing denying it first.
    pub present: bool,
    /// A deny ACE for the connector (or a group it is in) takes this right away.
    pub denied: bool,
    /// Held through this group (name, or SID when it has none), not by an ACE for the connector itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// An ACE this tool cannot read as a definite grant or deny could decide it: why, naming the ACE.
    /// Counted as missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<String>,
}

/// Where the target hands a grant's right, and what decides it there: the target's DACL walked in stored
/// order for the connector's token, as the DC will walk the copies it makes (a deny before the allow wins,
/// one that does not reach the objects counts for nothing).
fn right_status(plan: &Plan, t: &TargetPlan, grant: &Grant, token: &Token) -> RightStatus {
    let sid = &plan.connector.sid;
    let ace = grant.ace(sid);
    let dacl = t.before().dacl.clone().unwrap_or_default();
    let own_class = (t.kind == TargetKind::DomainRoot).then_some(DOMAIN_DNS_CLASS);
    let verdicts: Vec<Verdict> = super::dacl::right_of(&ace, own_class)
        .map(|(request, places)| {
            places
                .into_iter()
                .map(|place| walk(&dacl, &request, place, |s| token.member(s, None)))
                .collect()
        })
        .unwrap_or_default();
    let denied = verdicts.iter().any(|v| matches!(v, Verdict::Denied { .. }));
    let uncertain = verdicts.iter().find_map(|v| match v {
        Verdict::Uncertain { ace, why, .. } => Some(super::effective::uncertain_text(ace, *why)),
        _ => None,
    });
    let present = !verdicts.is_empty() && verdicts.iter().all(Verdict::granted);
    let via = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Allowed { ace, .. } => ace.sid().filter(|s| *s != sid),
            _ => None,
        })
        .next()
        .filter(|_| present)
        .map(|group| plan.group_name(group));
    RightStatus {
        right: grant.label(),
        sddl: ace.to_string(),
        present,
        denied,
        via,
        uncertain,
    }
}

/// The deny ACEs that decide one of the target's rights for the connector.
fn deciding_denies(plan: &Plan, t: &TargetPlan, token: &Token) -> Vec<Ace> {
    let dacl = t.before().dacl.clone().unwrap_or_default();
    let own_class = (t.kind == TargetKind::DomainRoot).then_some(DOMAIN_DNS_CLASS);
    let mut out: Vec<Ace> = Vec::new();
    for grant in &t.grants {
        let Some((request, places)) =
            super::dacl::right_of(&grant.ace(&plan.connector.sid), own_class)
        else {
            continue;
        };
        for place in places {
            if let Verdict::Denied { ace, .. } =
                walk(&dacl, &request, place, |s| token.member(s, None))
                && !out.contains(&ace)
            {
                out.push(ace);
            }
        }
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub dn: String,
    pub kind: &'static str,
    pub rights: Vec<RightStatus>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Risk {
    pub kind: &'static str,
    pub dn: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub forest: String,
    pub connector: String,
    pub connector_sid: String,
    pub targets: Vec<TargetCheck>,
    pub risks: Vec<Risk>,
    pub missing: usize,
}

const SCOPE_FILTER: &str = "(|(objectClass=organizationalUnit)(objectClass=container)(&(objectCategory=person)(objectClass=user)))";

/// What the walk of the scope asks for, per object.
const WALK_ATTRS: &[&str] = &["nTSecurityDescriptor", "adminCount", "objectClass"];

/// What `check` found in one directory.
pub struct Checked {
    pub report: CheckReport,
    /// The forest's UPN suffixes (for the tenant's verified-domain check).
    pub upn_suffixes: Vec<String>,
}

/// `check` of one directory from the start: signs in (then calls `connected`), reads the targets and walks
/// everything below them in one pass (a target's descriptor comes from the same search as its scope, so the
/// directory is read once), and signs out.
pub async fn run(
    directory: &Directory,
    features: &Features,
    connected: impl FnOnce(&Forest),
) -> Result<Checked> {
    let (dcs, connector) = super::plan::connect(directory, true).await?;
    connected(dcs.forest());
    let upn_suffixes = dcs.forest().upn_suffixes();
    let report = run_on(directory, features, dcs.clone(), connector).await;
    dcs.unbind().await;
    Ok(Checked {
        report: report?,
        upn_suffixes,
    })
}

async fn run_on(
    directory: &Directory,
    features: &Features,
    dcs: Dcs,
    connector: Account,
) -> Result<CheckReport> {
    let per_domain = candidates(directory, features, dcs.forest())?;
    let wanted: HashSet<String> = per_domain
        .iter()
        .flat_map(|(_, dns)| {
            dns.iter()
                .filter_map(|dn| Dn::parse(dn).ok())
                .map(|d| d.key())
        })
        .collect();
    // Selected OUs and domains (by their RDN) are walked as subtrees and their descriptors taken from the
    // walk; other selected objects (CN=: a container, a user, ...) are read first, so that only containers
    // are walked as subtrees and a single object as itself.
    let mut reads: Reads = HashMap::new();
    let mut places: Vec<(Dn, Scope)> = Vec::new();
    if features.password_writeback {
        match directory.scope {
            crate::answers::Scope::Domains => places.extend(
                per_domain
                    .iter()
                    .filter_map(|(d, _)| Dn::parse(&d.nc.to_string()).ok())
                    .map(|dn| (dn, Scope::Subtree)),
            ),
            crate::answers::Scope::Selected => {
                let (walked, read_first): (Vec<Dn>, Vec<Dn>) =
                    directory.ous().into_iter().partition(|dn| {
                        dn.first_attribute().is_some_and(|a| {
                            a.eq_ignore_ascii_case("OU") || a.eq_ignore_ascii_case("DC")
                        })
                    });
                places.extend(walked.into_iter().map(|dn| (dn, Scope::Subtree)));
                let mut by_key: HashMap<String, Dn> = HashMap::new();
                let first = by_domain(read_first.into_iter().filter_map(|dn| {
                    let domain = dcs.forest().domain_of(&dn)?.clone();
                    by_key
                        .insert(dn.key(), dn.clone())
                        .is_none()
                        .then(|| (domain, dn.to_string()))
                }));
                for (key, read) in read_these(&dcs, first).await? {
                    // Only containers hand rights down; a single object has nothing below it to walk.
                    if let (Some((r, _)), Some(dn)) = (&read, by_key.get(&key))
                        && TargetKind::of_selected(&r.classes) != TargetKind::Object
                    {
                        places.push((dn.clone(), Scope::Subtree));
                    }
                    reads.insert(key, read);
                }
            }
        }
    }
    // A selected object that is not there: no walk, planning names it (ous[N], exit 2).
    if reads.values().any(Option::is_none) {
        return check_from_plain_reads(directory, features, dcs, connector).await;
    }
    let bases = scope::bases_of(dcs.forest(), places);
    let mut captured: HashMap<String, DaclRead> = HashMap::new();
    let mut found: Vec<(String, Risk)> = Vec::new();
    let walked = scope::walk(&dcs, &bases, SCOPE_FILTER, WALK_ATTRS, |e, base| {
        let own = Dn::parse(&e.dn).map(|d| d.key()).unwrap_or_default();
        if own != base.key {
            found.extend(scope_risks(&e).into_iter().map(|r| (base.key.clone(), r)));
        }
        if wanted.contains(&own)
            && let Ok(read) = DaclRead::from_entry(e)
        {
            captured.insert(own, read);
        }
    });
    let (walked, token) = futures::join!(walked, crate::ad::access::token(&dcs, &connector));
    let token = token?;
    if let Err(e) = walked {
        if !no_such_object(&e) {
            return Err(e);
        }
        // A selected object that is not there: planning names it (ous[N], exit 2).
        return check_from_plain_reads(directory, features, dcs, connector).await;
    }
    // Targets neither read first nor brought by the walk (domain roots, AdminSDHolder, objects of other
    // classes) are read alone.
    let mut rest: Vec<(Domain, Vec<String>)> = Vec::new();
    for (domain, dns) in per_domain {
        let dc = dcs.for_domain(&domain).await?.dc().clone();
        let mut missing = Vec::new();
        for dn in dns {
            let key = Dn::parse(&dn).map(|d| d.key()).unwrap_or_default();
            if reads.contains_key(&key) {
                continue;
            }
            match captured.remove(&key) {
                Some(read) => {
                    reads.insert(key, Some((read, dc.clone())));
                }
                None => missing.push(dn),
            }
        }
        if !missing.is_empty() {
            rest.push((domain, missing));
        }
    }
    reads.extend(read_these(&dcs, rest).await?);
    plan_and_report(
        directory,
        features,
        dcs,
        connector,
        reads,
        &token,
        Some(found),
    )
    .await
}

/// `check` the plain way on the same connection: every candidate read, the plan, then the walk. Planning
/// names a selected object that is not there.
async fn check_from_plain_reads(
    directory: &Directory,
    features: &Features,
    dcs: Dcs,
    connector: Account,
) -> Result<CheckReport> {
    let per_domain = candidates(directory, features, dcs.forest())?;
    let (reads, token) = futures::try_join!(
        read_these(&dcs, per_domain),
        crate::ad::access::token(&dcs, &connector)
    )?;
    plan_and_report(directory, features, dcs, connector, reads, &token, None).await
}

/// The plan from what was read, and its report with the risks `walked` found (each with the key of the base
/// it was found under), or, without them, with a walk of the plan's scope now.
async fn plan_and_report(
    directory: &Directory,
    features: &Features,
    dcs: Dcs,
    connector: Account,
    reads: Reads,
    token: &Tokens,
    walked: Option<Vec<(String, Risk)>>,
) -> Result<CheckReport> {
    let plan = Plan::from_reads(
        directory,
        features,
        PlanOptions::default(),
        dcs,
        connector,
        reads,
        token,
    )
    .await?;
    let Some(found) = walked else {
        return check(&plan, token).await;
    };
    // What was found below a selected object that turned out not to hand rights down is not in scope.
    let subtrees: HashSet<String> = scope::bases(&plan)
        .into_iter()
        .filter(|b| b.scope == Scope::Subtree)
        .map(|b| b.key)
        .collect();
    let found = found
        .into_iter()
        .filter(|(base, _)| subtrees.contains(base))
        .map(|(_, r)| r)
        .collect();
    Ok(report(&plan, found, token))
}

/// `check` of a plan made already: walks its scope for what would stop the rights.
pub async fn check(plan: &Plan, token: &Tokens) -> Result<CheckReport> {
    // Objects below targets that hand rights down to descendant users, page by page: memory stays flat
    // however many objects a domain holds. A single object (a base of its own) has nothing below it.
    let mut bases = scope::bases(plan);
    bases.retain(|b| b.scope == Scope::Subtree);
    let mut found = Vec::new();
    scope::walk(&plan.dcs, &bases, SCOPE_FILTER, WALK_ATTRS, |e, base| {
        let own = Dn::parse(&e.dn).map(|d| d.key()).unwrap_or_default();
        if own != base.key {
            found.extend(scope_risks(&e));
        }
    })
    .await?;
    Ok(report(plan, found, token))
}

/// The report from the plan (each target's rights, the connector's state, the denies that decide a right)
/// and the risks found below the targets.
fn report(plan: &Plan, found: Vec<Risk>, tokens: &Tokens) -> CheckReport {
    let sid = &plan.connector.sid;
    let mut risks = Vec::new();
    if plan.connector.disabled {
        risks.push(Risk {
            kind: "connector-disabled",
            dn: plan.connector.dn.clone(),
            detail: "the connector account is disabled: writeback cannot bind".into(),
        });
    }
    if plan.connector.locked_out {
        risks.push(Risk {
            kind: "connector-locked",
            dn: plan.connector.dn.clone(),
            detail: "the connector account is locked out (lockoutTime > 0)".into(),
        });
    }
    let mut targets = Vec::new();
    let mut missing = 0;
    for t in plan.targets() {
        let token = tokens.for_dn(&plan.forest, &t.dn);
        let rights: Vec<RightStatus> = t
            .grants
            .iter()
            .map(|g| right_status(plan, t, g, token))
            .collect();
        missing += rights.iter().filter(|r| !r.present).count();
        for ace in deciding_denies(plan, t, token) {
            let (kind, place) = if ace.is_inherited() {
                ("inherited-deny", "inherited")
            } else {
                ("explicit-deny", "explicit")
            };
            risks.push(Risk {
                kind,
                dn: t.dn.clone(),
                detail: format!(
                    "an {place} deny for the connector (or a group it is in) comes before the grant and overrides it: {ace}"
                ),
            });
        }
        targets.push(TargetCheck {
            dn: t.dn.clone(),
            kind: t.kind.label(),
            rights,
        });
    }
    let mut seen: HashSet<(&'static str, String)> = risks
        .iter()
        .map(|r| (r.kind, r.dn.to_ascii_lowercase()))
        .collect();
    for risk in found {
        if seen.insert((risk.kind, risk.dn.to_ascii_lowercase())) {
            risks.push(risk);
        }
    }
    CheckReport {
        forest: plan.forest.forest_name(),
        connector: plan.connector_name.clone(),
        connector_sid: sid.to_string(),
        targets,
        risks,
        missing,
    }
}

/// What about one object below a target would stop the inherited rights from working.
fn scope_risks(e: &SearchEntry) -> Vec<Risk> {
    let mut out = Vec::new();
    let is_user = e
        .attrs
        .get("objectClass")
        .is_some_and(|c| c.iter().any(|c| c.eq_ignore_ascii_case("user")));
    if is_user && text_attr(e, "adminCount") == Some("1") {
        out.push(Risk {
            kind: "protected-account",
            dn: e.dn.clone(),
            detail: "adminCount=1: SDProp replaces its DACL with AdminSDHolder's, so the inherited rights never reach it (by design; features.admin_sd_holder grants on AdminSDHolder)".into(),
        });
    }
    let protected = binary_attr(e, "nTSecurityDescriptor")
        .and_then(|b| SecurityDescriptor::from_bytes(&b).ok())
        .is_some_and(|sd| sd.dacl_protected());
    if protected {
        let what = if is_user { "user" } else { "OU/container" };
        out.push(Risk {
            kind: "inheritance-disabled",
            dn: e.dn.clone(),
            detail: format!("this {what} does not inherit permissions, so the rights do not reach it or anything below it; add it to ous, or enable inheritance"),
        });
    }
    out
}
