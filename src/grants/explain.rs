//! `explain`: for one user, each right the connector needs, the ACE that decides it (where it sits, explicit or
//! inherited and from where), or why nothing does, and the fix this tool can apply.

use std::collections::HashMap;

use serde::Serialize;

use super::effective::{self, UserObject, UserReport, UserRight};
use super::plan::Plan;
use crate::ad::access::{SchemaGuids, Tokens, names_of};
use crate::ad::account::Account;
use crate::ad::dn::Dn;
use crate::error::{Error, Result};
use crate::security::{Ace, AceFlags, Request, SecurityDescriptor, Sid, Token, Verdict};

/// Explains `user` (sAMAccountName, DOMAIN\\name, UPN or DN) for the plan's connector. The ancestors' DACLs are
/// read once, for where inherited ACEs come from and where inheritance stops.
pub async fn explain(
    plan: &Plan,
    tokens: &Tokens,
    schema: &SchemaGuids,
    user: &str,
) -> Result<Explanation> {
    let account = Account::resolve(&plan.dcs, user, "user").await?;
    // The connector's groups as they count on objects of the user's domain.
    let token = tokens.for_dn(&plan.forest, &account.dn);
    let session = plan.dcs.for_dn(&account.dn).await?;
    let entries = session
        .search(
            &account.dn,
            ldap3::Scope::Base,
            "(objectClass=*)",
            effective::USER_ATTRS,
            true,
        )
        .await?;
    let object = entries
        .first()
        .map(UserObject::from_entry)
        .transpose()?
        .ok_or_else(|| Error::runtime(format!("{} disappeared while it was read", account.dn)))?;
    let ancestors = ancestors(plan, &object.dn).await;
    // Inheritance disabled between the grant and the user: below the scope's base (or the domain root).
    let stop = effective::scope_base_of(plan, &object.dn);
    let is_stop = |dn: &str| {
        Dn::parse(dn).is_ok_and(|d| {
            stop.as_ref().map_or_else(
                || plan.forest.domains.iter().any(|x| x.nc.same_as(&d)),
                |s| s.same_as(&d),
            )
        })
    };
    let protected_above = ancestors
        .iter()
        .take_while(|(dn, _)| !is_stop(dn))
        .find(|(_, sd)| sd.dacl_protected())
        .map(|(dn, _)| dn.clone());
    let names = names_of(&plan.dcs, token.sids()).await?;
    let report = effective::report(token, schema, &object, protected_above.as_deref());
    let verdicts = effective::evaluate(token, schema, &object);
    let sources: Vec<Option<String>> = verdicts
        .iter()
        .map(|(_, verdict, _)| match verdict.ace() {
            Some((_, ace)) if ace.is_inherited() => source_of(&ancestors, ace),
            _ => None,
        })
        .collect();
    Ok(Explanation::new(
        &object, plan, token, &names, &verdicts, &sources, &report,
    ))
}

/// The DACLs of every ancestor of `dn`, nearest first, as far as they can be read.
async fn ancestors(plan: &Plan, dn: &str) -> Vec<(String, SecurityDescriptor)> {
    let mut out = Vec::new();
    let mut next = crate::ad::dn::Dn::parse(dn).ok().and_then(|d| d.parent());
    while let Some(parent) = next {
        let at = parent.to_string();
        let Ok(session) = plan.dcs.for_dn(&at).await else {
            break;
        };
        let Ok(read) = session.read_dacl(&at).await else {
            break;
        };
        let Ok(sd) = SecurityDescriptor::from_bytes(&read.sd) else {
            break;
        };
        out.push((at, sd));
        // ACEs do not inherit across naming contexts: a domain's root is the last ancestor that counts.
        if parent.is_domain_component() {
            break;
        }
        next = parent.parent();
    }
    out
}

/// The nearest ancestor that holds `ace` explicitly, with inheritance: where an inherited ACE comes from.
fn source_of(ancestors: &[(String, SecurityDescriptor)], ace: &Ace) -> Option<String> {
    ancestors.iter().find_map(|(dn, sd)| {
        let found = sd.dacl.iter().flat_map(|d| d.aces.iter()).any(|a| {
            !a.is_inherited()
                && a.flags.contains(AceFlags::CONTAINER_INHERIT)
                && a.ace_type == ace.ace_type
                && a.access().zip(ace.access()).is_some_and(|(x, y)| {
                    x.sid == y.sid && x.mask == y.mask && x.object_type == y.object_type
                })
        });
        found.then(|| dn.clone())
    })
}

/// One user, the token, and each right with what decided it (`explain`, and the wizard's Troubleshoot).
#[derive(Debug, Serialize)]
pub struct Explanation {
    pub user: String,
    pub class: String,
    pub admin_count: bool,
    pub inheritance_disabled: bool,
    pub connector: String,
    /// The token was built in the connector's own domain, not the user's: that domain's domain-local groups
    /// are not in it.
    pub token_partial: bool,
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
    /// allowed | denied | null-dacl | not-granted | uncertain (the ACE named could decide it and cannot be
    /// evaluated; never counted as granted)
    pub decision: &'static str,
    pub ace: Option<String>,
    pub ace_index: Option<usize>,
    /// "explicit on the user", or "inherited from DN".
    pub source: Option<String>,
    pub reason: Option<String>,
    pub fix: Option<String>,
}

impl Explanation {
    #[allow(clippy::too_many_arguments)]
    fn new(
        user: &UserObject,
        plan: &Plan,
        token: &Token,
        names: &HashMap<Sid, String>,
        verdicts: &[(UserRight, Verdict, Request)],
        sources: &[Option<String>],
        report: &UserReport,
    ) -> Self {
        let in_scope = effective::in_scope(plan, &user.dn);
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
                    Verdict::Uncertain { index, ace, .. } => ("uncertain", Some((*index, ace))),
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
                    fix: reason.map(|r| {
                        let then = r.otherwise.map(|k| fix(k, &user.dn, &r.detail, in_scope));
                        match (r.kind, then) {
                            ("uncertain", Some(then)) => {
                                format!(
                                    "{}; if it does not apply: {then}",
                                    fix(r.kind, &user.dn, &r.detail, in_scope)
                                )
                            }
                            _ => fix(r.kind, &user.dn, &r.detail, in_scope),
                        }
                    }),
                }
            })
            .collect();
        Self {
            user: user.dn.clone(),
            class: user.classes.last().cloned().unwrap_or_default(),
            admin_count: user.admin_count,
            inheritance_disabled: user.sd.dacl_protected(),
            connector: format!("{} ({})", plan.connector_name, plan.connector.sid),
            token_partial: token.is_partial(),
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
        if self.token_partial {
            out.push_str("  (the connector is in another domain: its domain-local groups in the user's domain are not known; an ACE for one of them makes a verdict UNCERTAIN)\n");
        }
        for t in &self.token {
            out.push_str(&format!(
                "  {} {}\n",
                t.sid,
                t.name.as_deref().unwrap_or("")
            ));
        }
        for r in &self.rights {
            let status = match (r.granted, r.decision) {
                (true, _) => "ALLOWED",
                (false, "uncertain") => "UNCERTAIN",
                (false, _) => "REFUSED",
            };
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
    let parent = crate::ad::dn::Dn::parse(user_dn)
        .ok()
        .and_then(|d| d.parent())
        .map(|p| p.to_string())
        .unwrap_or_default();
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
        "uncertain" => "find out what that ACE does for the connector (ADUC > Security > Advanced on the object it sits on, or the connector's groups in this domain), then try a reset as the connector".into(),
        _ => "see the reason above".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fix_names_the_users_parent_even_with_a_comma_in_a_name() {
        let fix = super::fix(
            "no-grant",
            r"CN=Doe\, Jane,OU=Smith\, J,OU=Lab,DC=x",
            "",
            false,
        );
        assert!(fix.contains(r#"add "OU=Smith\, J,OU=Lab,DC=x""#), "{fix}");
    }
}
