//! Resolving an account name (`DOMAIN\name`, `name`, UPN or DN) to the object and its SID.

use ldap3::{Scope, SearchEntry};

use super::connection::{binary_attr, text_attr};
use super::dcs::Dcs;
use super::discovery::Domain;
use super::dn::{Dn, escape_filter_value};
use crate::error::{Error, Result};
use crate::security::Sid;

const ACCOUNTDISABLE: u32 = 0x2;

#[derive(Debug, Clone)]
pub struct Account {
    pub dn: String,
    pub sid: Sid,
    pub sam_account_name: String,
    pub disabled: bool,
    pub locked_out: bool,
}

const ATTRS: &[&str] = &[
    "objectSid",
    "sAMAccountName",
    "userAccountControl",
    "lockoutTime",
];

impl Account {
    /// Finds the account forest-wide, asking a DC of each domain concerned: a DN in its own domain;
    /// `DOMAIN\name` in that domain; a UPN by its userPrincipalName in every domain (a UPN suffix says nothing
    /// about the account's domain), and only when no account has that UPN, as `name@domain` (the implicit UPN
    /// AD also accepts) in the domain with that DNS name; a bare `name` in every domain.
    pub async fn resolve(dcs: &Dcs, name: &str, role: &str) -> Result<Self> {
        let forest = dcs.forest();
        let name = name.trim();
        let not_found = || {
            Error::usage(format!("{role} {name:?} was not found in forest {}", forest.forest_name()))
                .hint(format!("check {role} in the answers file: DOMAIN\\name, name, UPN or DN of an existing account"))
        };
        let search = |domains: Vec<Domain>, filter: String| async move {
            let mut found = Vec::new();
            for d in domains {
                let session = dcs.for_domain(&d).await?;
                found.extend(
                    session
                        .search(d.nc.as_str(), Scope::Subtree, &filter, ATTRS, false)
                        .await?,
                );
            }
            Ok::<_, Error>(found)
        };
        let entries: Vec<SearchEntry> = if name.contains('=') {
            let dn = Dn::parse(name).map_err(|m| {
                Error::usage(format!("{role} {name:?} is not a valid DN: {m}"))
                    .hint("write e.g. CN=Name,CN=Users,DC=corp,DC=example,DC=com")
            })?;
            let session = dcs.for_dn(dn.as_str()).await?;
            session
                .read_entry(dn.as_str(), ATTRS)
                .await?
                .into_iter()
                .collect()
        } else if let Some((domain, sam)) = name.split_once('\\') {
            let domain = forest.domain_named(domain).cloned().ok_or_else(|| {
                let known: Vec<&str> = forest.domains.iter().map(|d| d.netbios.as_str()).collect();
                Error::usage(format!(
                    "{role} {name:?}: {domain} is not a domain of forest {} (domains: {})",
                    forest.forest_name(),
                    known.join(", ")
                ))
                .hint(format!(
                    "check {role} in the answers file: DOMAIN\\name with one of the domains listed, or the account's UPN or DN"
                ))
            })?;
            search(vec![domain], sam_filter(sam)).await?
        } else if name.contains('@') {
            let upn = escape_filter_value(name);
            let explicit =
                search(forest.domains.clone(), format!("(userPrincipalName={upn})")).await?;
            if explicit.is_empty() {
                let (sam, suffix) = name.rsplit_once('@').unwrap_or((name, ""));
                match forest.domain_named(suffix).cloned() {
                    Some(d) => search(vec![d], sam_filter(sam)).await?,
                    None => Vec::new(),
                }
            } else {
                explicit
            }
        } else {
            search(forest.domains.clone(), sam_filter(name)).await?
        };
        match entries.len() {
            0 => Err(not_found()),
            1 => Self::from_entry(&entries[0], role, name),
            n => Err(
                Error::usage(format!("{role} {name:?} matches {n} accounts")).hint(format!(
                    "give {role} as DOMAIN\\name or as a DN to pick one"
                )),
            ),
        }
    }

    fn from_entry(entry: &SearchEntry, role: &str, name: &str) -> Result<Self> {
        let sid = binary_attr(entry, "objectSid")
            .and_then(|b| Sid::from_bytes(&b).ok())
            .ok_or_else(|| {
                Error::usage(format!(
                    "{role} {name:?} ({}) has no objectSid: it is not an account",
                    entry.dn
                ))
            })?;
        let uac: u32 = text_attr(entry, "userAccountControl")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let lockout: i64 = text_attr(entry, "lockoutTime")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Self {
            dn: entry.dn.clone(),
            sid,
            sam_account_name: text_attr(entry, "sAMAccountName")
                .unwrap_or_default()
                .to_string(),
            disabled: uac & ACCOUNTDISABLE != 0,
            locked_out: lockout > 0,
        })
    }
}

/// `name` or, for a group managed service account, `name$`.
fn sam_filter(sam: &str) -> String {
    let sam = escape_filter_value(sam);
    if sam.ends_with('$') {
        format!("(sAMAccountName={sam})")
    } else {
        format!("(|(sAMAccountName={sam})(sAMAccountName={sam}$))")
    }
}
