//! `revert`: remove exactly the ACEs this tool added, as the journal records them, leaving any other change
//! alone. Where nothing else changed, the original descriptor is written back byte for byte.

use std::path::{Path, PathBuf};

use futures::future::join_all;

use super::apply::waves;
use super::journal::{Journal, JournalEntry};
use crate::ad::Session;
use crate::error::{Error, Result};
use crate::security::{Ace, Acl, SecurityDescriptor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reverted {
    /// The descriptor is the original again, byte for byte.
    Restored,
    /// Our ACEs are gone; changes made by others since were kept.
    RemovedOnly,
    /// None of our ACEs was there any more: nothing written.
    NothingToDo,
}

#[derive(Debug, Default)]
pub struct RevertOutcome {
    pub journals: Vec<PathBuf>,
    pub targets: Vec<(String, Reverted)>,
    pub failed: Vec<(String, Error)>,
}

pub async fn revert(
    session: &Session,
    forest: &str,
    connector_sid: &str,
    state_dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<RevertOutcome> {
    let mut outcome = RevertOutcome::default();
    for (path, journal) in Journal::active(state_dir, forest, connector_sid)? {
        let entries: Vec<&JournalEntry> = journal.entries.iter().collect();
        let mut journal_ok = true;
        for wave in waves(&entries).into_iter().rev() {
            let results = join_all(wave.iter().map(|e| revert_entry(session, e))).await;
            for (e, result) in wave.iter().zip(results) {
                match result {
                    Ok(r) => {
                        progress(&format!("{}: {}", e.dn, describe(r)));
                        outcome.targets.push((e.dn.clone(), r));
                    }
                    Err(err) => {
                        progress(&format!("{}: FAILED", e.dn));
                        journal_ok = false;
                        outcome.failed.push((e.dn.clone(), err));
                    }
                }
            }
        }
        if journal_ok {
            Journal::mark_reverted(&path)?;
            outcome.journals.push(path);
        }
    }
    Ok(outcome)
}

pub fn describe(r: Reverted) -> &'static str {
    match r {
        Reverted::Restored => "restored the original descriptor",
        Reverted::RemovedOnly => "removed our ACEs; other changes made since were kept",
        Reverted::NothingToDo => "none of our ACEs is there: nothing to do",
    }
}

impl AsRef<str> for JournalEntry {
    fn as_ref(&self) -> &str {
        &self.dn
    }
}

async fn revert_entry(session: &Session, entry: &JournalEntry) -> Result<Reverted> {
    let decode = |bytes: &[u8], what: &str| {
        SecurityDescriptor::from_bytes(bytes).map_err(|e| {
            Error::runtime(format!(
                "cannot decode the {what} descriptor of {}: {e}",
                entry.dn
            ))
        })
    };
    let original_bytes = entry.original()?;
    let original = decode(&original_bytes, "journaled")?;
    let (current_bytes, _) = session.read_dacl(&entry.dn).await?;
    let mut current = decode(&current_bytes, "current")?;
    let dacl = current.dacl.get_or_insert_with(Acl::default);
    let mut removed = false;
    for bytes in entry.added()? {
        let ace = decode_ace(&bytes).ok_or_else(|| {
            Error::runtime(format!(
                "journal entry for {} holds a damaged ACE",
                entry.dn
            ))
        })?;
        removed |= dacl.remove_explicit(&ace);
    }
    if !removed {
        return Ok(Reverted::NothingToDo);
    }
    let explicit = |sd: &SecurityDescriptor| -> Vec<Ace> {
        sd.dacl
            .iter()
            .flat_map(|d| d.aces.iter())
            .filter(|a| !a.is_inherited())
            .cloned()
            .collect()
    };
    if explicit(&current) == explicit(&original) && current.control == original.control {
        session.write_dacl(&entry.dn, original_bytes).await?;
        Ok(Reverted::Restored)
    } else {
        session.write_dacl(&entry.dn, current.to_bytes()).await?;
        Ok(Reverted::RemovedOnly)
    }
}

/// An ACE from its bytes, by wrapping it in a one-ACE ACL inside a descriptor.
fn decode_ace(bytes: &[u8]) -> Option<Ace> {
    let mut acl = vec![4u8, 0, 0, 0, 1, 0, 0, 0];
    acl.extend_from_slice(bytes);
    let size = (acl.len() as u16).to_le_bytes();
    acl[2..4].copy_from_slice(&size);
    let mut sd = vec![
        1u8, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    ];
    sd.extend_from_slice(&acl);
    SecurityDescriptor::from_bytes(&sd)
        .ok()?
        .dacl?
        .aces
        .into_iter()
        .next()
}
