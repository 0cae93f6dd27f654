//! Text and JSON views of plans, check reports and outcomes. Pure: strings in, strings out.

use serde::Serialize;

use crate::cloud::check::CloudReport;
use crate::cloud::roles::RoleDecision;
use crate::grants::Plan;
use crate::grants::check::CheckReport;

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
    /// The target's domain (DNS name) and the DC of that domain that reads and writes it.
    pub domain: String,
    pub dc: String,
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
                domain: crate::ad::dn::Dn::parse(&t.dn)
                    .ok()
                    .and_then(|dn| plan.forest.domain_of(&dn).map(|d| d.dns_name.clone()))
                    .unwrap_or_default(),
                dc: t.dc.url.clone(),
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
        // Grouped by domain, each with the DC used there.
        let mut domains: Vec<(&str, &str)> = self
            .targets
            .iter()
            .map(|t| (t.domain.as_str(), t.dc.as_str()))
            .collect();
        domains.sort_unstable();
        domains.dedup();
        for (domain, dc) in domains {
            out.push_str(&format!("\ndomain {domain} (DC {dc})\n"));
            for t in self
                .targets
                .iter()
                .filter(|t| t.domain == domain && t.dc == dc)
            {
                out.push_str(&target_text(t));
            }
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

fn target_text(t: &TargetView) -> String {
    let mut out = format!("\n{} ({})\n", t.dn, t.kind);
    for present in &t.already_present {
        out.push_str(&format!("  already present: {present}\n"));
    }
    if t.changes {
        out.push_str(&format!("  before: {}\n", t.before_sddl));
        for a in &t.add {
            out.push_str(&format!("  add:    {}\n          {}\n", a.right, a.sddl));
        }
        out.push_str(&format!("  after:  {}\n", t.after_sddl));
    }
    out
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
            } else if r.uncertain.is_some() {
                "UNCERTAIN"
            } else {
                "MISSING"
            };
            match &r.via {
                Some(group) => out.push_str(&format!("  [{status}] {} via {group}\n", r.right)),
                None => out.push_str(&format!("  [{status}] {}\n", r.right)),
            }
            if let Some(why) = &r.uncertain {
                out.push_str(&format!("    {why}\n"));
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
            "\n{} required permission(s) missing, denied or uncertain: run `writeback-wizard apply --answers FILE`, and remove the denies listed above.\n",
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
