//! `check`: which required ACEs are present on each target, and what in scope would still stop a reset:
//! inheritance disabled, protected accounts (adminCount=1), explicit denies for the connector, a connector
//! account that is disabled or locked out.

use ldap3::SearchEntry;
use serde::Serialize;

use super::plan::Plan;
use crate::ad::connection::{binary_attr, text_attr};
use crate::error::Result;
use crate::security::{Ace, SecurityDescriptor};

#[derive(Debug, Clone, Serialize)]
pub struct RightStatus {
    pub right: String,
    pub sddl: String,
    /// Granted and not overridden by an explicit deny.
    pub present: bool,
    /// An explicit deny ACE for the connector takes this right away.
    pub denied: bool,
    /// Held through this group (name, or SID when it has none), not by an ACE for the connector itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Whether deny ACE `deny` takes away (part of) what allow ACE `allow` grants: same trustee, overlapping rights,
/// and either no object type (all properties/rights) or the same one.
fn denies(deny: &Ace, allow: &Ace) -> bool {
    let (Some(d), Some(a)) = (deny.access(), allow.access()) else {
        return false;
    };
    d.sid == a.sid
        && d.mask.0 & a.mask.0 != 0
        && (d.object_type.is_none() || d.object_type == a.object_type)
        && (d.inherited_object_type.is_none() || d.inherited_object_type == a.inherited_object_type)
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

pub async fn check(plan: &Plan) -> Result<CheckReport> {
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
        let dacl = t.before().dacl.clone().unwrap_or_default();
        let rights: Vec<RightStatus> = t
            .grants
            .iter()
            .map(|g| {
                let ace = g.ace(sid);
                // Explicit denies come before allows in a canonical DACL, so one for this right wins.
                let denied = dacl
                    .aces
                    .iter()
                    .any(|d| !d.is_inherited() && d.ace_type.is_deny() && denies(d, &ace));
                let via = t
                    .held_via()
                    .iter()
                    .find(|(held, _)| held == g)
                    .map(|(_, group)| plan.group_name(group));
                RightStatus {
                    right: g.label(),
                    sddl: ace.to_string(),
                    present: (dacl.covers(&ace) || via.is_some()) && !denied,
                    denied,
                    via,
                }
            })
            .collect();
        missing += rights.iter().filter(|r| !r.present).count();
        for ace in dacl
            .aces
            .iter()
            .filter(|a| !a.is_inherited() && a.ace_type.is_deny() && a.sid() == Some(sid))
        {
            risks.push(Risk {
                kind: "explicit-deny",
                dn: t.dn.clone(),
                detail: format!("an explicit deny for the connector overrides the grant: {ace}"),
            });
        }
        targets.push(TargetCheck {
            dn: t.dn.clone(),
            kind: t.kind.label(),
            rights,
        });
    }
    // Objects below targets that hand rights down to descendant users, page by page: memory stays flat
    // however many objects a domain holds.
    let bases = super::scope::bases(plan);
    let mut found = Vec::new();
    super::scope::walk(
        plan,
        &bases,
        SCOPE_FILTER,
        &["nTSecurityDescriptor", "adminCount", "objectClass"],
        |e, base| {
            let own = crate::ad::dn::Dn::parse(&e.dn)
                .map(|d| d.key())
                .unwrap_or_default();
            if own != base.key {
                found.extend(scope_risks(&e));
            }
        },
    )
    .await?;
    let mut seen: std::collections::HashSet<(&'static str, String)> = risks
        .iter()
        .map(|r| (r.kind, r.dn.to_ascii_lowercase()))
        .collect();
    for risk in found {
        if seen.insert((risk.kind, risk.dn.to_ascii_lowercase())) {
            risks.push(risk);
        }
    }
    Ok(CheckReport {
        forest: plan.forest.forest_name(),
        connector: plan.connector_name.clone(),
        connector_sid: sid.to_string(),
        targets,
        risks,
        missing,
    })
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
