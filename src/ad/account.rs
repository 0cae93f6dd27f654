//! Resolving an account name (`DOMAIN\name`, `name`, UPN or DN) to the object and its SID.

use ldap3::{Scope, SearchEntry};

use super::connection::{Session, binary_attr, text_attr};
use super::discovery::Forest;
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
    pub async fn resolve(
        session: &Session,
        forest: &Forest,
        name: &str,
        role: &str,
    ) -> Result<Self> {
        let name = name.trim();
        let not_found = || {
            Error::usage(format!("{role} {name:?} was not found in forest {}", forest.forest_name()))
                .hint(format!("check {role} in the answers file: DOMAIN\\name, name, UPN or DN of an existing account"))
        };
        let entries: Vec<SearchEntry> = if name.contains('=') {
            let dn = Dn::parse(name)
                .map_err(|m| Error::usage(format!("{role} {name:?} is not a valid DN: {m}")))?;
            session
                .read_entry(dn.as_str(), ATTRS)
                .await?
                .into_iter()
                .collect()
        } else {
            let (domains, filter) = if let Some((domain, sam)) = name.split_once('\\') {
                let domain = forest.domain_named(domain).ok_or_else(|| {
                    let known: Vec<&str> =
                        forest.domains.iter().map(|d| d.netbios.as_str()).collect();
                    Error::usage(format!(
                        "{role} {name:?}: {domain} is not a domain of forest {} (domains: {})",
                        forest.forest_name(),
                        known.join(", ")
                    ))
                })?;
                (vec![domain.nc.clone()], sam_filter(sam))
            } else if name.contains('@') {
                let upn = escape_filter_value(name);
                let sam = name.split('@').next().unwrap_or_default();
                let suffix = name.rsplit('@').next().unwrap_or_default();
                let filter = match forest.domain_named(suffix) {
                    Some(_) => format!("(|(userPrincipalName={upn}){})", sam_filter(sam)),
                    None => format!("(userPrincipalName={upn})"),
                };
                let domains = match forest.domain_named(suffix) {
                    Some(d) => vec![d.nc.clone()],
                    None => forest.domains.iter().map(|d| d.nc.clone()).collect(),
                };
                (domains, filter)
            } else {
                (vec![forest.default_nc.clone()], sam_filter(name))
            };
            let mut found = Vec::new();
            for base in domains {
                found.extend(
                    session
                        .search(base.as_str(), Scope::Subtree, &filter, ATTRS, false)
                        .await?,
                );
            }
            found
        };
        match entries.len() {
            0 => Err(not_found()),
            1 => Self::from_entry(&entries[0], role, name),
            n => Err(
                Error::usage(format!("{role} {name:?} matches {n} accounts"))
                    .hint(format!("give {role} as a DN to pick one")),
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
