//! `apply`: journal the originals, write the changed DACLs (parents before children, independent targets
//! concurrently), then read each one back and verify that every added ACE is there.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::join_all;

use super::journal::{Journal, JournalEntry};
use super::plan::{Plan, TargetPlan};
use crate::ad::Session;
use crate::ad::dn::Dn;
use crate::error::{Error, Result};
use crate::security::SecurityDescriptor;

#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub journal: Option<PathBuf>,
    pub written: Vec<String>,
    pub failed: Vec<(String, Error)>,
}

/// Writes every changed target; `progress` hears one line per finished write.
pub async fn apply(
    plan: &Plan,
    state_dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ApplyOutcome> {
    let changed: Vec<&TargetPlan> = plan.changed().collect();
    if changed.is_empty() {
        return Ok(ApplyOutcome::default());
    }
    // All or nothing where we can know it beforehand: no write at all if any target's DACL is not ours to write.
    if let Some(t) = changed.iter().find(|t| !t.writable) {
        return Err(Error::runtime(format!("the admin account may not change the permissions of {}", t.dn)).hint(
            "use an account with Modify permissions there (a Domain Admin; an Enterprise Admin for every domain); nothing was written",
        ));
    }
    let journal = Journal {
        version: 1,
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        forest: plan.forest.forest_name(),
        url: plan.session.url.clone(),
        connector_sid: plan.connector.sid.to_string(),
        entries: changed
            .iter()
            .map(|t| {
                JournalEntry::new(
                    &t.dn,
                    &t.original,
                    &t.to_add
                        .iter()
                        .map(|(_, a)| a.to_bytes())
                        .collect::<Vec<_>>(),
                )
            })
            .collect(),
    };
    let path = journal.save(state_dir)?;
    let mut outcome = ApplyOutcome {
        journal: Some(path),
        ..Default::default()
    };
    let total = changed.len();
    for wave in waves(&changed) {
        let results = join_all(wave.iter().map(|t| write_and_verify(&plan.session, t))).await;
        for (t, result) in wave.iter().zip(results) {
            let n = outcome.written.len() + outcome.failed.len() + 1;
            match result {
                Ok(()) => {
                    progress(&format!(
                        "[{n}/{total}] {}: added {} ACE(s), verified",
                        t.dn,
                        t.to_add.len()
                    ));
                    outcome.written.push(t.dn.clone());
                }
                Err(e) => {
                    progress(&format!("[{n}/{total}] {}: FAILED", t.dn));
                    outcome.failed.push((t.dn.clone(), e));
                }
            }
        }
    }
    Ok(outcome)
}

async fn write_and_verify(session: &Session, target: &TargetPlan) -> Result<()> {
    // The plan may have been on screen for minutes: never overwrite a DACL someone changed meanwhile.
    let (current, _) = session.read_dacl(&target.dn).await?;
    if current != target.original {
        return Err(Error::runtime(format!(
            "{}: the DACL changed after the plan was made; nothing was written to it",
            target.dn
        ))
        .hint("run apply again to plan against the current DACL"));
    }
    session
        .write_dacl(&target.dn, target.after.to_bytes())
        .await?;
    let (bytes, _) = session.read_dacl(&target.dn).await?;
    let now = SecurityDescriptor::from_bytes(&bytes).map_err(|e| {
        Error::runtime(format!(
            "cannot decode the descriptor of {} after writing: {e}",
            target.dn
        ))
    })?;
    let dacl = now.dacl.unwrap_or_default();
    for (grant, ace) in &target.to_add {
        if !dacl.explicitly_covers(ace) {
            return Err(Error::runtime(format!(
                "{}: the server accepted the write but {} is not there on reading back",
                target.dn,
                grant.label()
            ))
            .hint("run `check`; a policy or another tool may have removed it"));
        }
    }
    Ok(())
}

/// Groups targets so that no target is written together with, or before, one of its ancestors: a parent's
/// change alters what its children inherit.
pub fn waves<'a, T: AsRef<str>>(targets: &[&'a T]) -> Vec<Vec<&'a T>> {
    let mut pending: Vec<(&'a T, Option<Dn>)> = targets
        .iter()
        .map(|t| (*t, Dn::parse(t.as_ref()).ok()))
        .collect();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = pending.iter().cloned().partition(|(_, dn)| {
            !pending.iter().any(|(_, other)| match (dn, other) {
                (Some(dn), Some(other)) => !dn.same_as(other) && dn.is_within(other),
                _ => false,
            })
        });
        out.push(ready.into_iter().map(|(t, _)| t).collect());
        pending = rest;
    }
    out
}

impl AsRef<str> for TargetPlan {
    fn as_ref(&self) -> &str {
        &self.dn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_written_before_children() {
        let root = "DC=corp,DC=example,DC=test".to_string();
        let ou = "OU=Users,OU=Corp,DC=corp,DC=example,DC=test".to_string();
        let nested = "OU=Interns,OU=Users,OU=Corp,DC=corp,DC=example,DC=test".to_string();
        let sibling = "OU=Sales,OU=Corp,DC=corp,DC=example,DC=test".to_string();
        let w = waves(&[&nested, &sibling, &ou, &root]);
        assert_eq!(w, vec![vec![&root], vec![&sibling, &ou], vec![&nested]]);
    }
}
