//! Text and JSON views of plans, check reports and outcomes. Pure: strings in, strings out.

use serde::Serialize;

use crate::cloud::check::CloudReport;
use crate::cloud::roles::RoleDecision;
use crate::grants::Plan;
use std::collections::HashMap;

use crate::grants::check::CheckReport;
use crate::grants::effective::{UserObject, UserReport, UserRight};
use crate::security::{Request, Sid, Token, Verdict};

#[derive(Debug, Serialize)]
pub struct PlanView {
    pub forest: String,
    pub url: String,
    pub connector: String,
    pub connector_sid: String,
    pub targets: Vec<TargetView>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TargetView {
    pub dn: String,
    pub kind: &'static str,
    pub changes: bool,
    pub before_sddl: String,
    pub add: Vec<AddView>,
    pub already_present: Vec<String>,
    pub after_sddl: String,
}

#[derive(Debug, Serialize)]
pub struct AddView {
    pub right: String,
    pub sddl: String,
}

impl PlanView {
    pub fn new(plan: &Plan) -> Self {
        let targets = plan
            .targets()
            .iter()
            .map(|t| TargetView {
                dn: t.dn.clone(),
                kind: t.kind.label(),
                changes: t.changes(),
                before_sddl: t.before().to_string(),
                add: t
                    .to_add()
                    .iter()
                    .map(|(g, a)| AddView {
                        right: g.label(),
                        sddl: a.to_string(),
                    })
                    .collect(),
                already_present: t
                    .grants
                    .iter()
                    .filter(|g| !t.to_add().iter().any(|(added, _)| added == *g))
                    .map(|g| match t.held_via().iter().find(|(held, _)| held == g) {
                        Some((_, group)) => format!("{} via {}", g.label(), plan.group_name(group)),
                        None => g.label(),
                    })
                    .collect(),
                after_sddl: t.after().to_string(),
            })
            .collect();
        Self {
            forest: plan.forest.forest_name(),
            url: plan.session.url.clone(),
            connector: plan.connector_name.clone(),
            connector_sid: plan.connector.sid.to_string(),
            targets,
            warnings: plan.warnings.clone(),
        }
    }

    pub fn ace_count(&self) -> usize {
        self.targets.iter().map(|t| t.add.len()).sum()
    }

    pub fn changed_count(&self) -> usize {
        self.targets.iter().filter(|t| t.changes).count()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "forest {} via {}\nconnector {} ({})\n",
            self.forest, self.url, self.connector, self.connector_sid
        );
        for t in &self.targets {
            out.push_str(&format!("\n{} ({})\n", t.dn, t.kind));
            for present in &t.already_present {
                out.push_str(&format!("  already present: {present}\n"));
            }
            if !t.changes {
                continue;
            }
            out.push_str(&format!("  before: {}\n", t.before_sddl));
            for a in &t.add {
                out.push_str(&format!("  add:    {}\n          {}\n", a.right, a.sddl));
            }
            out.push_str(&format!("  after:  {}\n", t.after_sddl));
        }
        for w in &self.warnings {
            out.push_str(&format!("\nwarning: {w}\n"));
        }
        out.push_str(&format!(
            "\n{} target(s), {} to change, {} ACE(s) to add.\n",
            self.targets.len(),
            self.changed_count(),
            self.ace_count()
        ));
        out
    }
}

pub fn check_text(report: &CheckReport) -> String {
    let mut out = format!(
        "forest {}\nconnector {} ({})\n",
        report.forest, report.connector, report.connector_sid
    );
    for t in &report.targets {
        out.push_str(&format!("\n{} ({})\n", t.dn, t.kind));
        for r in &t.rights {
            let status = if r.denied {
                "DENIED"
            } else if r.present {
                "ok"
            } else {
                "MISSING"
            };
            match &r.via {
                Some(group) => out.push_str(&format!("  [{status}] {} via {group}\n", r.right)),
                None => out.push_str(&format!("  [{status}] {}\n", r.right)),
            }
        }
    }
    if !report.risks.is_empty() {
        out.push_str("\nrisks in scope:\n");
        for r in &report.risks {
            out.push_str(&format!("  {}: {}\n    {}\n", r.kind, r.dn, r.detail));
        }
    }
    if report.missing == 0 {
        out.push_str("\nevery required permission is present.\n");
    } else {
        out.push_str(&format!(
            "\n{} required permission(s) missing or denied: run `writeback-wizard apply --answers FILE`, and remove explicit denies listed above.\n",
            report.missing
        ));
    }
    out
}

pub fn cloud_text(report: &CloudReport) -> String {
    let mut out = format!(
        "Microsoft Entra ID tenant {} ({})\nsigned in: {}{}\n",
        report.tenant_name.as_deref().unwrap_or("?"),
        report.tenant_id,
        report.signed_in,
        if report.app_only {
            " (application, app-only)"
        } else {
            ""
        }
    );
    let verdict = match &report.role {
        RoleDecision::Pass(_) => "ok",
        RoleDecision::PassWithWarning(_) => "ok, with a warning",
        RoleDecision::Refuse(_) => "REFUSED",
    };
    out.push_str(&format!("role: [{verdict}] {}\n", report.role.message()));
    for w in &report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out.push('\n');
    out
}

/// `explain`: one user, the token, and each right with what decided it.
#[derive(Debug, Serialize)]
pub struct ExplainView {
    pub user: String,
    pub class: String,
    pub admin_count: bool,
    pub inheritance_disabled: bool,
    pub connector: String,
    pub token: Vec<TokenEntry>,
    pub rights: Vec<RightExplained>,
}

#[derive(Debug, Serialize)]
pub struct TokenEntry {
    pub sid: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RightExplained {
    pub right: &'static str,
    pub granted: bool,
    /// allowed | denied | null-dacl | not-granted
    pub decision: &'static str,
    pub ace: Option<String>,
    pub ace_index: Option<usize>,
    /// "explicit on the user", or "inherited from DN".
    pub source: Option<String>,
    pub reason: Option<String>,
    pub fix: Option<String>,
}

impl ExplainView {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        user: &UserObject,
        plan: &Plan,
        token: &Token,
        names: &HashMap<Sid, String>,
        verdicts: &[(UserRight, Verdict, Request)],
        sources: &[Option<String>],
        report: &UserReport,
    ) -> Self {
        let in_scope = crate::grants::effective::in_scope(plan, &user.dn);
        let mut sids: Vec<&Sid> = token.sids().collect();
        sids.sort_by_key(|s| (s != &token.user(), s.to_string()));
        let rights = verdicts
            .iter()
            .zip(sources)
            .map(|((right, verdict, _), source)| {
                let reason = report.reasons.iter().find(|r| r.right == *right);
                let (decision, ace) = match verdict {
                    Verdict::Allowed { index, ace } => ("allowed", Some((*index, ace))),
                    Verdict::Denied { index, ace } => ("denied", Some((*index, ace))),
                    Verdict::NullDacl => ("null-dacl", None),
                    Verdict::NotGranted => ("not-granted", None),
                };
                RightExplained {
                    right: right.label(),
                    granted: verdict.granted(),
                    decision,
                    ace: ace.map(|(_, a)| a.to_string()),
                    ace_index: ace.map(|(i, _)| i),
                    source: ace.map(|(_, a)| {
                        if !a.is_inherited() {
                            "explicit on the user".to_string()
                        } else {
                            match source {
                                Some(dn) => format!("inherited from {dn}"),
                                None => {
                                    "inherited (its source above could not be found)".to_string()
                                }
                            }
                        }
                    }),
                    reason: reason.map(|r| r.detail.clone()),
                    fix: reason.map(|r| fix(r.kind, &user.dn, &r.detail, in_scope)),
                }
            })
            .collect();
        Self {
            user: user.dn.clone(),
            class: user.classes.last().cloned().unwrap_or_default(),
            admin_count: user.admin_count,
            inheritance_disabled: user.sd.dacl_protected(),
            connector: format!("{} ({})", plan.connector_name, plan.connector.sid),
            token: sids
                .into_iter()
                .map(|s| TokenEntry {
                    sid: s.to_string(),
                    name: names.get(s).cloned(),
                })
                .collect(),
            rights,
        }
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "user {} ({}{}{})\nconnector {}\ntoken:\n",
            self.user,
            self.class,
            if self.admin_count {
                ", adminCount=1"
            } else {
                ""
            },
            if self.inheritance_disabled {
                ", inheritance disabled"
            } else {
                ""
            },
            self.connector
        );
        for t in &self.token {
            out.push_str(&format!(
                "  {} {}\n",
                t.sid,
                t.name.as_deref().unwrap_or("")
            ));
        }
        for r in &self.rights {
            let status = if r.granted { "ALLOWED" } else { "REFUSED" };
            out.push_str(&format!("\n{}: {status}\n", r.right));
            if let (Some(ace), Some(i)) = (&r.ace, r.ace_index) {
                out.push_str(&format!(
                    "  decided by ACE #{i} {ace}, {}\n",
                    r.source.as_deref().unwrap_or("")
                ));
            }
            if let Some(reason) = &r.reason {
                out.push_str(&format!("  why: {reason}\n"));
            }
            if let Some(fix) = &r.fix {
                out.push_str(&format!("  fix: {fix}\n"));
            }
        }
        out
    }
}

/// What to do about a refusal, preferring what this tool can do itself.
fn fix(kind: &str, user_dn: &str, detail: &str, in_scope: bool) -> String {
    let parent = user_dn.split_once(',').map_or("", |(_, p)| p);
    match kind {
        "no-grant" if in_scope => "this user is in the answers' scope but the grant is not there yet: run `writeback-wizard apply`".into(),
        "no-grant" => format!(
            "add \"{parent}\" (or an OU above it) to ous, or use scope = \"domains\", then run `writeback-wizard apply`"
        ),
        "deny" => "remove that deny ACE (ADUC > Security > Advanced on the object it sits on); writeback-wizard never removes other people's ACEs".into(),
        "user-cannot-change-password" => "clear \"User cannot change password\" on the user (Account tab in ADUC); Reset Password is not affected".into(),
        "inheritance-disabled-user" => format!(
            "add \"{user_dn}\" to ous: the rights then go on the user itself; or enable inheritance on it"
        ),
        "inheritance-disabled-ou" => {
            let ou = detail
                .strip_prefix("inheritance is disabled on ")
                .and_then(|d| d.split(", so").next())
                .unwrap_or("that OU");
            format!("add \"{ou}\" to ous, or enable inheritance on it")
        }
        "protected-account" => "set features.admin_sd_holder = true and run `writeback-wizard apply`: SDProp copies AdminSDHolder's permissions to protected accounts within an hour".into(),
        "wrong-object-type" => "grant the same rights for this object class too (writeback-wizard grants them for user objects only)".into(),
        _ => "see the reason above".into(),
    }
}
