//! Rights and schema GUIDs by name from the live directory, checked against the well-known values we ship.
//! A mismatch means this is not the schema we think it is, and we stop before writing anything.

use ldap3::Scope;

use super::connection::{Session, guid_attr, text_attr};
use super::discovery::Forest;
use crate::error::{Error, Result};
use crate::security::Guid;

/// Something identified by a GUID in the schema: an extended right (CN=Extended-Rights, `rightsGuid`) or an
/// attribute/class (schema NC, `schemaIDGUID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaName {
    ExtendedRight(&'static str),
    SchemaObject(&'static str),
}

/// Looks every name up (two searches) and compares with `expected`; returns an error naming the first mismatch.
pub async fn verify(
    session: &Session,
    forest: &Forest,
    expected: &[(SchemaName, Guid)],
) -> Result<()> {
    let rights: Vec<&str> = expected
        .iter()
        .filter_map(|(n, _)| {
            if let SchemaName::ExtendedRight(c) = n {
                Some(*c)
            } else {
                None
            }
        })
        .collect();
    let objects: Vec<&str> = expected
        .iter()
        .filter_map(|(n, _)| {
            if let SchemaName::SchemaObject(c) = n {
                Some(*c)
            } else {
                None
            }
        })
        .collect();
    let any = |attr: &str, names: &[&str]| {
        format!(
            "(|{})",
            names
                .iter()
                .map(|n| format!("({attr}={n})"))
                .collect::<String>()
        )
    };
    let rights_base = format!("CN=Extended-Rights,{}", forest.configuration_nc);
    let (rights_filter, objects_filter) = (any("cn", &rights), any("lDAPDisplayName", &objects));
    let (found_rights, found_objects) = futures::try_join!(
        session.search(
            &rights_base,
            Scope::OneLevel,
            &rights_filter,
            &["cn", "rightsGuid"],
            false
        ),
        session.search(
            forest.schema_nc.as_str(),
            Scope::OneLevel,
            &objects_filter,
            &["lDAPDisplayName", "schemaIDGUID"],
            false
        ),
    )?;
    for (name, guid) in expected {
        let live: Option<Guid> = match name {
            SchemaName::ExtendedRight(cn) => found_rights
                .iter()
                .find(|e| text_attr(e, "cn").is_some_and(|v| v.eq_ignore_ascii_case(cn)))
                .and_then(|e| text_attr(e, "rightsGuid"))
                .and_then(|g| g.parse().ok()),
            SchemaName::SchemaObject(ldap_name) => found_objects
                .iter()
                .find(|e| {
                    text_attr(e, "lDAPDisplayName")
                        .is_some_and(|v| v.eq_ignore_ascii_case(ldap_name))
                })
                .and_then(|e| guid_attr(e, "schemaIDGUID")),
        };
        let label = match name {
            SchemaName::ExtendedRight(n) => format!("extended right {n}"),
            SchemaName::SchemaObject(n) => format!("schema object {n}"),
        };
        match live {
            Some(g) if g == *guid => {}
            Some(g) => {
                return Err(Error::runtime(format!(
                    "{label} has GUID {g} in this forest, not the well-known {guid}"
                ))
                .hint("this is not a schema writeback-wizard knows; nothing was written"));
            }
            None => {
                return Err(Error::runtime(format!("{label} was not found in this forest's schema"))
                    .hint("the admin account must be able to read the configuration and schema partitions"));
            }
        }
    }
    Ok(())
}
