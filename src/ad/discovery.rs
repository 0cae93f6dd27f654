//! What the DC says about its forest: naming contexts from the rootDSE, and every domain of the forest from the
//! crossRef objects under CN=Partitions.

use ldap3::Scope;

use super::connection::{Session, text_attr, text_attrs};
use super::dn::Dn;
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Domain {
    /// The domain naming context, e.g. `DC=corp,DC=example,DC=test`.
    pub nc: Dn,
    pub dns_name: String,
    pub netbios: String,
}

#[derive(Debug, Clone)]
pub struct Forest {
    /// The domain the DC we talk to belongs to.
    pub default_nc: Dn,
    pub root_domain_nc: Dn,
    pub configuration_nc: Dn,
    pub schema_nc: Dn,
    pub domains: Vec<Domain>,
    /// Alternative UPN suffixes added to the forest (Active Directory Domains and Trusts).
    pub extra_upn_suffixes: Vec<String>,
}

/// Items grouped by their domain (one group per naming context, in the order first seen).
pub fn by_domain<T>(items: impl IntoIterator<Item = (Domain, T)>) -> Vec<(Domain, Vec<T>)> {
    let mut groups: Vec<(Domain, Vec<T>)> = Vec::new();
    for (domain, item) in items {
        match groups.iter_mut().find(|(d, _)| d.nc.same_as(&domain.nc)) {
            Some((_, members)) => members.push(item),
            None => groups.push((domain, vec![item])),
        }
    }
    groups
}

impl Forest {
    pub async fn discover(session: &Session) -> Result<Self> {
        let root = session
            .read_entry(
                "",
                &[
                    "defaultNamingContext",
                    "configurationNamingContext",
                    "schemaNamingContext",
                    "rootDomainNamingContext",
                ],
            )
            .await?
            .ok_or_else(|| {
                Error::runtime(format!(
                    "{} returned no rootDSE: is it a domain controller?",
                    session.url
                ))
            })?;
        let nc = |name: &str| -> Result<Dn> {
            let text = text_attr(&root, name).ok_or_else(|| {
                Error::runtime(format!(
                    "the rootDSE of {} has no {name}: is it an Active Directory domain controller?",
                    session.url
                ))
            })?;
            Dn::parse(text).map_err(|m| {
                Error::runtime(format!("the rootDSE's {name} {text:?} is not a DN: {m}"))
            })
        };
        let (default_nc, root_domain_nc, configuration_nc, schema_nc) = (
            nc("defaultNamingContext")?,
            nc("rootDomainNamingContext")?,
            nc("configurationNamingContext")?,
            nc("schemaNamingContext")?,
        );
        // systemFlags bit 2 = FLAG_CR_NTDS_DOMAIN: the crossRef of a domain (not of an application partition).
        let partitions = format!("CN=Partitions,{configuration_nc}");
        let (entries, partitions_entry) = futures::try_join!(
            session.search(
                &partitions,
                Scope::OneLevel,
                "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
                &["nCName", "dnsRoot", "nETBIOSName"],
                false,
            ),
            session.read_entry(&partitions, &["uPNSuffixes"]),
        )?;
        let extra_upn_suffixes = partitions_entry
            .map(|e| text_attrs(&e, "uPNSuffixes"))
            .unwrap_or_default();
        let mut domains = Vec::new();
        for e in &entries {
            let (Some(nc), Some(netbios)) = (text_attr(e, "nCName"), text_attr(e, "nETBIOSName"))
            else {
                continue;
            };
            let Ok(nc) = Dn::parse(nc) else { continue };
            let dns_name =
                text_attr(e, "dnsRoot").map_or_else(|| nc.dns_name(), str::to_ascii_lowercase);
            domains.push(Domain {
                nc,
                dns_name,
                netbios: netbios.to_string(),
            });
        }
        if domains.is_empty() {
            return Err(
                Error::runtime(format!("found no domain under {partitions}"))
                    .hint("the admin account must be able to read the configuration partition"),
            );
        }
        domains.sort_by(|a, b| a.dns_name.cmp(&b.dns_name));
        Ok(Self {
            default_nc,
            root_domain_nc,
            configuration_nc,
            schema_nc,
            domains,
            extra_upn_suffixes,
        })
    }

    /// Every UPN suffix users of this forest can have: each domain's DNS name and the alternative suffixes.
    pub fn upn_suffixes(&self) -> Vec<String> {
        let mut all: Vec<String> = self.domains.iter().map(|d| d.dns_name.clone()).collect();
        for s in &self.extra_upn_suffixes {
            if !all.iter().any(|a| a.eq_ignore_ascii_case(s)) {
                all.push(s.to_ascii_lowercase());
            }
        }
        all
    }

    /// The domain whose naming context holds `dn`.
    pub fn domain_of(&self, dn: &Dn) -> Option<&Domain> {
        self.domains
            .iter()
            .filter(|d| dn.is_within(&d.nc))
            .max_by_key(|d| d.nc.as_str().len())
    }

    /// By NetBIOS name or DNS name, case-insensitively.
    pub fn domain_named(&self, name: &str) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| d.netbios.eq_ignore_ascii_case(name) || d.dns_name.eq_ignore_ascii_case(name))
    }

    pub fn forest_name(&self) -> String {
        self.root_domain_nc.dns_name()
    }
}
