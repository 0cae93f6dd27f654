//! Reading and writing DACLs on a session: one object, many siblings in one search, objects by GUID wherever
//! they are now, and the DACL-only write.

use std::collections::{HashMap, HashSet};

use ldap3::{Mod, Scope, SearchEntry};

use super::{Session, binary_attr, guid_attr, sd_flags_control, text_attr, text_attrs};
use crate::ad::dn::{Dn, escape_filter_bytes, escape_filter_value};
use crate::ad::errors::{ldap_error, no_such_object};
use crate::error::{Error, Result};
use crate::security::Guid;

/// What a DACL read asks for.
const DACL_ATTRS: &[&str] = &[
    "nTSecurityDescriptor",
    "sDRightsEffective",
    "objectGUID",
    "objectClass",
];

/// What a re-read around a write asks for.
const CURRENT_ATTRS: &[&str] = &["nTSecurityDescriptor", "objectGUID"];

impl DaclRead {
    /// From a search entry with `nTSecurityDescriptor` (read with the SD flags control) and whichever of
    /// `sDRightsEffective`, `objectGUID` and `objectClass` were asked for (WRITE_DAC is false unless the
    /// server said so).
    pub fn from_entry(entry: SearchEntry) -> Result<Self> {
        let sd = binary_attr(&entry, "nTSecurityDescriptor").ok_or_else(|| {
            Error::runtime(format!(
                "cannot read the security descriptor of {}: the server returned none",
                entry.dn
            ))
            .hint("the admin account needs Read permissions on this object")
        })?;
        const DACL_SECURITY_INFORMATION: u32 = 4;
        let writable = text_attr(&entry, "sDRightsEffective")
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|rights| rights & DACL_SECURITY_INFORMATION != 0);
        let guid = guid_attr(&entry, "objectGUID");
        let classes = text_attrs(&entry, "objectClass");
        Ok(DaclRead {
            sd,
            writable,
            guid,
            classes,
        })
    }
}

/// One object's DACL as read.
#[derive(Debug, Clone)]
pub struct DaclRead {
    /// The DACL-only self-relative descriptor.
    pub sd: Vec<u8>,
    /// The bound account may change the DACL (WRITE_DAC).
    pub writable: bool,
    pub guid: Option<Guid>,
    /// Its objectClass values, `top` first.
    pub classes: Vec<String>,
}

impl Session {
    /// The DACL-only security descriptor of `dn`, whether the bound account may change it, and its GUID.
    ///
    /// Writability is the server's `sDRightsEffective` with DACL_SECURITY_INFORMATION (4): it is set when the
    /// account holds WRITE_DAC there ([MS-ADTS] 3.1.1.4.5.7). (`allowedAttributesEffective` is about write
    /// property, which is not the right to change a DACL.) `dn` may be `<GUID=...>`.
    pub async fn read_dacl(&self, dn: &str) -> Result<DaclRead> {
        self.read_dacl_opt(dn).await?.ok_or_else(|| {
            Error::runtime(format!("{dn} does not exist"))
                .hint("check the DN's spelling in the answers file")
        })
    }

    /// [`Session::read_dacl`], `None` when the object does not exist.
    pub async fn read_dacl_opt(&self, dn: &str) -> Result<Option<DaclRead>> {
        match self.read(dn, DACL_ATTRS, true).await? {
            Some(entry) => DaclRead::from_entry(entry).map(Some),
            None => Ok(None),
        }
    }

    /// [`Session::read_dacl`] for many objects at once: siblings are read with one-level searches of their
    /// parent (a page of up to 100 DNs per search) instead of one read each, the searches as many at once as
    /// the session allows. `None` where an object does not exist. The result is in the order of `dns`.
    pub async fn read_dacls(&self, dns: &[String]) -> Result<Vec<Option<DaclRead>>> {
        self.read_many(dns, DACL_ATTRS).await
    }

    /// [`Session::read_dacls`] for re-reading just before a write and reading back after it: only the
    /// descriptor and the GUID (the server then works out no effective rights per object, about a fifth
    /// cheaper). `writable` and `classes` are not asked for: false and empty.
    pub async fn read_current(&self, dns: &[String]) -> Result<Vec<Option<DaclRead>>> {
        self.read_many(dns, CURRENT_ATTRS).await
    }

    /// [`Session::read_current`] by objectGUID: each object wherever it is now in the naming context `nc`
    /// (moved or renamed included), up to 100 per subtree search. objectGUID is
    /// indexed on every DC, so this costs about half of reading the same objects by DN on Samba. A GUID the
    /// search does not return is read alone as `<GUID=...>` (a subtree search does not see below a container
    /// the admin may not list), and is `None` only when that finds nothing either. Per GUID, in order: what
    /// was read, or why that object could not be read.
    pub async fn read_current_by_guid(
        &self,
        nc: &str,
        guids: &[Guid],
    ) -> Result<Vec<Result<Option<DaclRead>>>> {
        const PER_SEARCH: usize = 100;
        let searches = guids.chunks(PER_SEARCH).map(|chunk| async move {
            let filter = format!(
                "(|{})",
                chunk
                    .iter()
                    .map(|g| format!("(objectGUID={})", escape_filter_bytes(&g.to_bytes())))
                    .collect::<String>()
            );
            let action = format!("cannot read {} objects by GUID in {nc}", chunk.len());
            let mut reads = Vec::new();
            self.search_unpaged(
                &action,
                nc,
                Scope::Subtree,
                &filter,
                CURRENT_ATTRS,
                true,
                |e| {
                    // Keyed before decoding, so that an unreadable object fails only itself.
                    if let Some(g) = guid_attr(&e, "objectGUID") {
                        reads.push((g, DaclRead::from_entry(e)));
                    }
                },
            )
            .await?;
            Ok::<_, Error>(reads)
        });
        let mut found: HashMap<Guid, Result<DaclRead>> = HashMap::new();
        for reads in futures::future::try_join_all(searches).await? {
            found.extend(reads);
        }
        Ok(futures::future::join_all(guids.iter().map(|g| {
            let read = found.get(g).cloned();
            async move {
                match read {
                    Some(read) => read.map(Some),
                    None => match self.read(&format!("<GUID={g}>"), CURRENT_ATTRS, true).await {
                        Ok(Some(entry)) => DaclRead::from_entry(entry).map(Some),
                        Ok(None) => Ok(None),
                        Err(e) => Err(e),
                    },
                }
            }
        }))
        .await)
    }

    async fn read_many(&self, dns: &[String], attrs: &[&str]) -> Result<Vec<Option<DaclRead>>> {
        const PER_SEARCH: usize = 100;
        let mut by_parent: HashMap<String, (String, Vec<usize>)> = HashMap::new();
        let mut singles = Vec::new();
        for (i, dn) in dns.iter().enumerate() {
            // A domain root's parent is not in its naming context: read it alone.
            let parsed = Dn::parse(dn).ok().filter(|d| !d.is_domain_component());
            match parsed.and_then(|d| d.parent()) {
                Some(parent) => by_parent
                    .entry(parent.key())
                    .or_insert_with(|| (parent.to_string(), Vec::new()))
                    .1
                    .push(i),
                None => singles.push(i),
            }
        }
        let mut jobs: Vec<(Option<String>, Vec<usize>)> =
            singles.into_iter().map(|i| (None, vec![i])).collect();
        for (_, (parent, members)) in by_parent {
            if members.len() == 1 {
                jobs.push((None, members));
                continue;
            }
            for chunk in members.chunks(PER_SEARCH) {
                jobs.push((Some(parent.clone()), chunk.to_vec()));
            }
        }
        let results =
            futures::future::try_join_all(jobs.into_iter().map(|(parent, members)| async move {
                let Some(parent) = parent else {
                    let i = members[0];
                    let read = match self.read(&dns[i], attrs, true).await? {
                        Some(entry) => Some(DaclRead::from_entry(entry)?),
                        None => None,
                    };
                    return Ok::<_, Error>(vec![(i, read)]);
                };
                // By `name` (indexed, unique among siblings) where the RDN is plain: on Samba about half
                // the cost of matching whole DNs. What comes back is matched to the targets by DN.
                let filter = format!(
                    "(|{})",
                    members
                        .iter()
                        .map(
                            |&i| match Dn::parse(&dns[i]).ok().as_ref().and_then(Dn::plain_name) {
                                Some(name) => format!("(name={})", escape_filter_value(name)),
                                None =>
                                    format!("(distinguishedName={})", escape_filter_value(&dns[i])),
                            }
                        )
                        .collect::<String>()
                );
                let mut found: HashMap<String, DaclRead> = HashMap::new();
                let mut bad = None;
                let action = format!("cannot read {} objects below {parent}", members.len());
                let searched = self
                    .search_unpaged(
                        &action,
                        &parent,
                        Scope::OneLevel,
                        &filter,
                        attrs,
                        true,
                        |e| {
                            let key = Dn::parse(&e.dn).map(|d| d.key()).unwrap_or_default();
                            match DaclRead::from_entry(e) {
                                Ok(r) => {
                                    found.insert(key, r);
                                }
                                Err(err) => {
                                    bad.get_or_insert(err);
                                }
                            }
                        },
                    )
                    .await;
                match searched {
                    // No parent, no children: each of them does not exist.
                    Err(e) if no_such_object(&e) => {}
                    Err(e) => return Err(e),
                    Ok(_) => {}
                }
                if let Some(err) = bad {
                    return Err(err);
                }
                Ok(members
                    .into_iter()
                    .map(|i| {
                        let key = Dn::parse(&dns[i]).map(|d| d.key()).unwrap_or_default();
                        (i, found.get(&key).cloned())
                    })
                    .collect())
            }))
            .await?;
        let mut out: Vec<Option<DaclRead>> = (0..dns.len()).map(|_| None).collect();
        for (i, r) in results.into_iter().flatten() {
            out[i] = r;
        }
        Ok(out)
    }

    /// Replaces the DACL of `dn` (SD flags = DACL: owner, group and SACL stay as they are).
    pub async fn write_dacl(&self, dn: &str, sd: Vec<u8>) -> Result<()> {
        let never = std::sync::atomic::AtomicBool::new(false);
        self.write_dacl_unless(dn, sd, &never).await.map(drop)
    }

    /// [`Session::write_dacl`], unless `stop` is set by the time the write has a slot on the connection:
    /// then nothing is sent and the answer is `Ok(false)`. (A stop asked for while writes wait for a slot
    /// keeps every one of them off the wire.)
    pub async fn write_dacl_unless(
        &self,
        dn: &str,
        sd: Vec<u8>,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<bool> {
        let _slot = self.slot().await?;
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(false);
        }
        let mut ldap = self.handle();
        let attr = b"nTSecurityDescriptor".to_vec();
        self.watch(
            ldap.with_controls(sd_flags_control())
                .modify(dn, vec![Mod::Replace(attr, HashSet::from([sd]))])
                .await,
        )
        .and_then(|r| r.success())
        .map_err(|e| ldap_error(&format!("cannot write the security descriptor of {dn}"), e))?;
        Ok(true)
    }
}
