//! `apply`: journal the plan, then per target (parents before children, a bounded number at once): re-read the
//! DACL, make sure its explicit part is still what the plan was made from, merge our ACEs into the DACL as it
//! is now, record the exact descriptor in the journal, write it, record the server's answer, read it back and
//! record that every added ACE is there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;

use super::dacl::{merge, same_explicit};
use super::journal::{Header, JournalConnection, JournalWriter, Record, VERSION, b64};
use super::plan::{Plan, TargetPlan};
use crate::ad::dn::Dn;
use crate::ad::refused_by_server;
use crate::error::{Error, Result};
use crate::security::SecurityDescriptor;

/// What happened to one target.
#[derive(Debug, Clone)]
pub enum TargetResult {
    /// Written, read back, every added ACE there.
    Verified { added: usize },
    /// The server refused the write: nothing of ours is there.
    Refused(Error),
    /// Its explicit ACEs or inheritance changed after the plan was made: left alone.
    Changed,
    /// Sent, but no answer came (timeout, lost connection): it may or may not have been applied; the journal
    /// says so and `revert` handles both.
    Unknown(Error),
    /// Written, but reading it back did not show every added ACE.
    NotVerified(Error),
    /// Not started: cancelled, or stopped after a journal failure.
    NotStarted,
}

impl TargetResult {
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }

    /// Whether the server may hold this target's new descriptor.
    pub fn was_sent(&self) -> bool {
        matches!(
            self,
            Self::Verified { .. } | Self::Unknown(_) | Self::NotVerified(_)
        )
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Verified { added } => format!("added {added} ACE(s), verified"),
            Self::Refused(e) => format!("FAILED: {}", e.message),
            Self::Changed => "SKIPPED: its permissions changed after the plan was made; nothing written (run apply again to plan against them)".into(),
            Self::Unknown(e) => format!("UNKNOWN: no answer from the server ({}); revert knows how to handle it", e.message),
            Self::NotVerified(e) => format!("NOT VERIFIED: {}", e.message),
            Self::NotStarted => "not started".into(),
        }
    }
}

/// One finished target, as `progress` hears it.
#[derive(Debug, Clone, Copy)]
pub struct ApplyEvent<'a> {
    pub done: usize,
    pub total: usize,
    pub dn: &'a str,
    pub result: &'a TargetResult,
}

#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub journal: Option<PathBuf>,
    /// Every changed target, in plan order.
    pub results: Vec<(String, TargetResult)>,
    /// Cancel was asked for: targets not started were left alone.
    pub cancelled: bool,
    /// The journal could not be written: no further write was made.
    pub aborted: Option<Error>,
}

impl ApplyOutcome {
    pub fn all_verified(&self) -> bool {
        self.aborted.is_none() && self.results.iter().all(|(_, r)| r.is_success())
    }

    pub fn written(&self) -> impl Iterator<Item = &str> {
        self.results
            .iter()
            .filter(|(_, r)| r.was_sent())
            .map(|(dn, _)| dn.as_str())
    }
}

/// Applies several planned forests, as the command line and the wizard both do: first the check that every
/// DACL to change is the admin's to change in every forest (nothing is written anywhere otherwise), then each
/// forest in turn. One outcome per plan, in order: a forest whose apply could not start keeps its error and
/// the next one still goes; after a cancel, the forests not started report nothing written.
pub async fn apply_all(
    plans: &[Plan],
    state_dir: &Path,
    cancel: &AtomicBool,
    progress: &(dyn Fn(&Plan, ApplyEvent<'_>) + Sync),
) -> Result<Vec<Result<ApplyOutcome>>> {
    if let Some(refusal) = plans.iter().find_map(Plan::refusal) {
        return Err(refusal);
    }
    let mut out = Vec::new();
    for plan in plans {
        if cancel.load(Ordering::SeqCst) {
            out.push(Ok(ApplyOutcome {
                cancelled: true,
                results: plan
                    .changed()
                    .map(|t| (t.dn.clone(), TargetResult::NotStarted))
                    .collect(),
                ..ApplyOutcome::default()
            }));
            continue;
        }
        out.push(apply(plan, state_dir, cancel, &|e| progress(plan, e)).await);
    }
    Ok(out)
}

/// Writes every changed target. `cancel` is looked at before each write; `progress` hears each target.
pub async fn apply(
    plan: &Plan,
    state_dir: &Path,
    cancel: &AtomicBool,
    progress: &(dyn Fn(ApplyEvent<'_>) + Sync),
) -> Result<ApplyOutcome> {
    let changed: Vec<&TargetPlan> = plan.changed().collect();
    if changed.is_empty() {
        return Ok(ApplyOutcome::default());
    }
    // All or nothing where we can know it beforehand: no write at all if any target's DACL is not ours to write.
    if let Some(refusal) = plan.refusal() {
        return Err(refusal);
    }
    let header = Header {
        version: VERSION,
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        forest: plan.forest.forest_name(),
        connection: JournalConnection::from(&plan.settings),
        admin: plan.admin_name.clone(),
        connector: plan.connector_name.clone(),
        connector_sid: plan.connector.sid.to_string(),
    };
    let planned: Vec<Record> = changed
        .iter()
        .map(|t| {
            Ok(Record::Planned {
                dn: t.dn.clone(),
                guid: t.guid().map(|g| g.to_string()),
                dc: Some(t.dc.clone()),
                original_sd: b64(t.original()),
                add: t
                    .added_aces()
                    .iter()
                    .map(|a| a.to_bytes().map(|b| b64(&b)))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::runtime(format!("{}: {e}", t.dn)))?,
            })
        })
        .collect::<Result<_>>()?;
    let journal = JournalWriter::create(state_dir, &header, &planned)?;
    let total = changed.len();
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let aborted: Mutex<Option<Error>> = Mutex::new(None);
    let results: Arc<Mutex<Vec<Option<TargetResult>>>> = Arc::new(Mutex::new(vec![None; total]));
    let index_of = |t: &TargetPlan| changed.iter().position(|c| std::ptr::eq(*c, t));
    let in_flight = usize::from(plan.settings.max_in_flight.max(1));
    for wave in waves(&changed) {
        if cancel.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
            break;
        }
        futures::stream::iter(wave)
            .for_each_concurrent(in_flight, |t| {
                let (journal, done, stop, aborted, results) =
                    (&journal, &done, &stop, &aborted, &results);
                async move {
                    if cancel.load(Ordering::SeqCst) || stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let (result, fatal) = write_one(plan, journal, t).await;
                    if let Some(fatal) = fatal {
                        stop.store(true, Ordering::SeqCst);
                        if let Ok(mut a) = aborted.lock() {
                            a.get_or_insert(fatal);
                        }
                    }
                    let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                    progress(ApplyEvent {
                        done: n,
                        total,
                        dn: &t.dn,
                        result: &result,
                    });
                    if let (Some(i), Ok(mut r)) = (index_of(t), results.lock()) {
                        r[i] = Some(result);
                    }
                }
            })
            .await;
    }
    let results = results
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default()
        .into_iter()
        .zip(&changed)
        .map(|(r, t)| (t.dn.clone(), r.unwrap_or(TargetResult::NotStarted)))
        .collect();
    Ok(ApplyOutcome {
        journal: Some(journal.path().to_path_buf()),
        results,
        cancelled: cancel.load(Ordering::SeqCst),
        aborted: aborted.lock().ok().and_then(|mut a| a.take()),
    })
}

/// One target: what happened, and a journal failure that must stop every further write, if any. The object
/// is addressed by its GUID from the plan, so a rename or a new object at the same DN is never written.
async fn write_one(
    plan: &Plan,
    journal: &JournalWriter,
    t: &TargetPlan,
) -> (TargetResult, Option<Error>) {
    let decode = |bytes: &[u8], when: &str| {
        SecurityDescriptor::from_bytes(bytes).map_err(|e| {
            Error::runtime(format!("cannot decode the descriptor {when}: {e}")).caused_by(e)
        })
    };
    let at = t
        .guid()
        .map_or_else(|| t.dn.clone(), |g| format!("<GUID={g}>"));
    // The DC of the target's own domain (opened while planning).
    let session = match plan.dcs.for_dn(&t.dn).await {
        Ok(s) => s,
        Err(e) => return (TargetResult::Refused(e), None),
    };
    // The plan may have been on screen for minutes: start from the DACL as it is now.
    // Each result is reported on a line that starts with the DN: messages do not repeat it.
    let current = match session
        .read_dacl(&at)
        .await
        .and_then(|read| decode(&read.sd, "as read before writing"))
    {
        Ok(sd) => sd,
        Err(e) => return (TargetResult::Refused(e.without_subject(&at)), None),
    };
    if !same_explicit(&current, t.before()) {
        return (TargetResult::Changed, None);
    }
    let (after, added) = merge(&current, &t.added_aces());
    let bytes = match after.to_bytes() {
        Ok(b) => b,
        Err(e) => {
            let e = Error::runtime(format!("the DACL cannot be stored: {e}")).caused_by(e);
            return (TargetResult::Refused(e), None);
        }
    };
    let dn = t.dn.clone();
    let writing = Record::Writing {
        dn: dn.clone(),
        sd: b64(&bytes),
    };
    if let Err(e) = journal.record(&writing).await {
        return (TargetResult::NotStarted, Some(e));
    }
    if let Err(e) = session.write_dacl(&at, bytes).await {
        let e = e.without_subject(&at);
        if refused_by_server(&e) {
            let failure = journal
                .record(&Record::Failed {
                    dn,
                    error: e.message.clone(),
                })
                .await
                .err();
            return (TargetResult::Refused(e), failure);
        }
        return (TargetResult::Unknown(e), None);
    }
    if let Err(e) = journal.record(&Record::Written { dn: dn.clone() }).await {
        return (
            TargetResult::Unknown(Error::runtime(
                "written, but the journal could not record it",
            )),
            Some(e),
        );
    }
    let now = match session
        .read_dacl(&at)
        .await
        .and_then(|read| decode(&read.sd, "read back after writing"))
    {
        Ok(sd) => sd,
        Err(e) => return (TargetResult::NotVerified(e.without_subject(&at)), None),
    };
    let dacl = now.dacl.unwrap_or_default();
    for (grant, ace) in t.to_add() {
        if !dacl.explicitly_covers(ace) {
            let e = Error::runtime(format!(
                "the server accepted the write but {} is not there on reading back",
                grant.label()
            ))
            .hint("run `check`; a policy or another tool may have removed it");
            return (TargetResult::NotVerified(e), None);
        }
    }
    let failure = journal.record(&Record::Verified { dn }).await.err();
    (TargetResult::Verified { added }, failure)
}

/// Groups targets so that no target is written together with, or before, one of its ancestors: a parent's
/// change alters what its children inherit. Linear in the number of targets (lookups by DN key).
pub fn waves<'a, T: AsRef<str>>(targets: &[&'a T]) -> Vec<Vec<&'a T>> {
    let parsed: Vec<Option<Dn>> = targets.iter().map(|t| Dn::parse(t.as_ref()).ok()).collect();
    let mut order: Vec<usize> = (0..targets.len()).collect();
    // Ancestors have fewer RDNs, so they get their wave first.
    order.sort_by_key(|&i| parsed[i].as_ref().map_or(0, |d| d.ancestor_keys().count()));
    let mut wave_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out: Vec<Vec<&'a T>> = Vec::new();
    for i in order {
        let wave = parsed[i].as_ref().map_or(0, |dn| {
            let w = dn
                .ancestor_keys()
                .filter_map(|k| wave_of.get(&k).map(|w| w + 1))
                .max()
                .unwrap_or(0);
            wave_of.entry(dn.key()).or_insert(w);
            w
        });
        if out.len() <= wave {
            out.resize_with(wave + 1, Vec::new);
        }
        out[wave].push(targets[i]);
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
        // A parent that is not itself a target does not hold its children back.
        let w = waves(&[&nested, &sibling]);
        assert_eq!(w, vec![vec![&sibling, &nested]]);
    }
}
