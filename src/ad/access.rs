//! What the access check needs from the directory: the connector's token (`tokenGroups`) and, from the live
//! schema, the GUID of every class and the property set (`attributeSecurityGUID`) of the attributes we check.

use std::collections::HashMap;

use ldap3::Scope;

use super::account::Account;
use super::connection::{Session, binary_attr, binary_attrs, guid_attr, text_attr};
use super::dcs::Dcs;
use super::discovery::Forest;
use super::dn::escape_filter_bytes;
use crate::error::{Error, Result};
use crate::security::{Guid, Sid, Token};

/// The account's tokens as DCs build them for a network logon: on its own domain's objects, its SID, every
/// group it is in (nested, transitively: `tokenGroups`) and the logon SIDs; on another domain's objects,
/// only its global and universal groups count (`tokenGroupsGlobalAndUniversal`): its domain's domain-local
/// and BUILTIN groups mean nothing there, and that domain's own domain-local groups are not known here: an
/// ACE for a group that may be one of them makes the verdict uncertain where it could change it.
pub async fn token(dcs: &Dcs, account: &Account) -> Result<Tokens> {
    // Both are computed by a DC of the account's own domain.
    let session = dcs.for_dn(&account.dn).await?;
    let entry = session
        .read_entry(
            &account.dn,
            &["tokenGroups", "tokenGroupsGlobalAndUniversal"],
        )
        .await?
        .ok_or_else(|| Error::runtime(format!("{} disappeared while it was read", account.dn)))?;
    let sids = |attr: &str| {
        binary_attrs(&entry, attr)
            .iter()
            .filter_map(|b| Sid::from_bytes(b).ok())
            .collect::<Vec<_>>()
    };
    let home = crate::ad::dn::Dn::parse(&account.dn)
        .ok()
        .and_then(|dn| dcs.forest().domain_of(&dn).map(|d| d.nc.key()))
        .unwrap_or_default();
    Ok(Tokens {
        home,
        own: Token::new(account.sid.clone(), sids("tokenGroups")),
        elsewhere: Token::without_domain_local_groups(
            account.sid.clone(),
            sids("tokenGroupsGlobalAndUniversal"),
        ),
    })
}

/// An account's token in its own domain and in the others.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The account's domain (naming context key).
    home: String,
    pub own: Token,
    pub elsewhere: Token,
}

impl Tokens {
    /// The token that applies to objects of the domain that holds `dn`.
    pub fn for_dn(&self, forest: &Forest, dn: &str) -> &Token {
        let domain = crate::ad::dn::Dn::parse(dn)
            .ok()
            .and_then(|d| forest.domain_of(&d).map(|d| d.nc.key()));
        match domain {
            Some(k) if k != self.home => &self.elsewhere,
            _ => &self.own,
        }
    }
}

/// Class GUIDs by lDAPDisplayName (lowercase), and the property set of the attributes asked for.
#[derive(Debug, Clone, Default)]
pub struct SchemaGuids {
    classes: HashMap<String, Guid>,
    property_sets: HashMap<Guid, Guid>,
}

impl SchemaGuids {
    /// Reads every class (one paged search of the schema) and the `attributeSecurityGUID` of `attributes`.
    pub async fn load(session: &Session, forest: &Forest, attributes: &[Guid]) -> Result<Self> {
        let mut classes = HashMap::new();
        session
            .search_each(
                forest.schema_nc.as_str(),
                Scope::OneLevel,
                "(objectClass=classSchema)",
                &["lDAPDisplayName", "schemaIDGUID"],
                false,
                |e| {
                    if let (Some(name), Some(guid)) = (
                        text_attr(&e, "lDAPDisplayName"),
                        guid_attr(&e, "schemaIDGUID"),
                    ) {
                        classes.insert(name.to_ascii_lowercase(), guid);
                    }
                },
            )
            .await?;
        let mut property_sets = HashMap::new();
        for attribute in attributes {
            let filter = format!(
                "(schemaIDGUID={})",
                escape_filter_bytes(&attribute.to_bytes())
            );
            for e in session
                .search(
                    forest.schema_nc.as_str(),
                    Scope::OneLevel,
                    &filter,
                    &["attributeSecurityGUID"],
                    false,
                )
                .await?
            {
                if let Some(set) = guid_attr(&e, "attributeSecurityGUID") {
                    property_sets.insert(*attribute, set);
                }
            }
        }
        Ok(Self {
            classes,
            property_sets,
        })
    }

    /// A schema as given (tests).
    #[cfg(test)]
    pub(crate) fn from_parts(classes: &[(&str, Guid)], property_sets: &[(Guid, Guid)]) -> Self {
        Self {
            classes: classes
                .iter()
                .map(|(n, g)| (n.to_ascii_lowercase(), *g))
                .collect(),
            property_sets: property_sets.iter().copied().collect(),
        }
    }

    /// The GUID of a class by its lDAPDisplayName.
    pub fn class(&self, name: &str) -> Option<Guid> {
        self.classes.get(&name.to_ascii_lowercase()).copied()
    }

    /// The lDAPDisplayName of a class by its GUID.
    pub fn class_name(&self, guid: &Guid) -> Option<String> {
        self.classes
            .iter()
            .find(|(_, g)| *g == guid)
            .map(|(n, _)| n.clone())
    }

    /// The property set an attribute belongs to, if any.
    pub fn property_set(&self, attribute: &Guid) -> Option<Guid> {
        self.property_sets.get(attribute).copied()
    }

    /// The object's most specific class: AD lists `objectClass` from `top` down, so the last known one.
    pub fn structural_class<'a>(&self, object_classes: &'a [String]) -> Option<(&'a str, Guid)> {
        object_classes
            .iter()
            .rev()
            .find_map(|c| self.class(c).map(|g| (c.as_str(), g)))
    }
}

/// Names for SIDs: the logon SIDs by their well-known names, the others by `DOMAIN\sAMAccountName` from the
/// directory (one search per domain); a SID nobody answers for keeps its text.
/// Only the domains whose DC is already open are asked (the connector's, and those with targets).
pub async fn names_of<'a>(
    dcs: &Dcs,
    sids: impl Iterator<Item = &'a Sid>,
) -> Result<HashMap<Sid, String>> {
    const WELL_KNOWN: &[(&str, &str)] = &[
        ("S-1-1-0", "Everyone"),
        ("S-1-5-2", "NETWORK"),
        ("S-1-5-10", "SELF"),
        ("S-1-5-11", "Authenticated Users"),
        ("S-1-5-15", "This Organization"),
        ("S-1-5-18", "SYSTEM"),
    ];
    let mut names = HashMap::new();
    let mut wanted = Vec::new();
    for sid in sids {
        let text = sid.to_string();
        match WELL_KNOWN.iter().find(|(s, _)| *s == text) {
            Some((_, name)) => {
                names.insert(sid.clone(), (*name).to_string());
            }
            None => wanted.push(sid.clone()),
        }
    }
    if wanted.is_empty() {
        return Ok(names);
    }
    let filter = format!(
        "(|{})",
        wanted
            .iter()
            .map(|s| format!("(objectSid={})", escape_filter_bytes(&s.to_bytes())))
            .collect::<String>()
    );
    for (domain, session) in dcs.open_domains().await {
        for e in session
            .search(
                domain.nc.as_str(),
                Scope::Subtree,
                &filter,
                &["objectSid", "sAMAccountName"],
                false,
            )
            .await?
        {
            if let (Some(sid), Some(sam)) = (
                binary_attr(&e, "objectSid").and_then(|b| Sid::from_bytes(&b).ok()),
                text_attr(&e, "sAMAccountName"),
            ) {
                let prefix = if sid.to_string().starts_with("S-1-5-32-") {
                    "BUILTIN".to_string()
                } else {
                    domain.netbios.clone()
                };
                names.insert(sid, format!("{prefix}\\{sam}"));
            }
        }
    }
    Ok(names)
}
