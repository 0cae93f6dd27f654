//! `apply`: journal the plan, then per target (parents before children, a bounded number at once): re-read the
//! DACL, make sure its explicit part is still what the plan was made from, merge our ACEs into the DACL as it
//! is now, record the exact descriptor in the journal, write it, record the server's answer, read it back and
//! record that every added ACE is there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;

use super::dacl::{merge, same_explicit};
use super::journal::{
    ForestLock, Header, JournalConnection, JournalWriter, Record, VERSION, WhenLocked, b64,
};
use super::plan::{Plan, TargetPlan};
use crate::ad::dn::Dn;
use crate::ad::refused_by_server;
use crate::ad::{ConnectionSettings, Session};
use crate::error::{Error, Result};
use crate::security::{Guid, SecurityDescriptor};

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
    /// The journal could not be written: no write was started after that.
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
        // How the first DC was really reached (by DNS, a name or a pinned address), and how one signs in.
        connection: JournalConnection {
            auth: plan.auth,
            spn_host: plan.spn_host.clone(),
            ..JournalConnection::from(&ConnectionSettings {
                url: plan.session.dc().url.clone(),
                tls: plan.session.dc().tls,
                tls_name: plan.session.dc().tls_name.clone(),
                ..plan.settings.clone()
            })
        },
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
    // One run at a time per forest and state directory (the command line takes it before planning; this is
    // the same lock, taken again).
    let _forest_lock = ForestLock::take(state_dir, &header.forest, WhenLocked::Refuse).await?;
    let journal = JournalWriter::create(state_dir, &header, &planned)?;
    let total = changed.len();
    let indexed: Vec<Indexed<'_>> = changed
        .iter()
        .enumerate()
        .map(|(i, t)| Indexed(i, t))
        .collect();
    let refs: Vec<&Indexed<'_>> = indexed.iter().collect();
    let mut results: Vec<Option<TargetResult>> = vec![None; total];
    let mut done = 0;
    let mut aborted = None;
    // Chunks of a wave are read, journaled, written and verified together: one search for the reads and
    // one for the verification, one fsync per journal step, the writes as many at once as the connection
    // allows; a DACL is still read just before its write (at most one chunk of writes earlier). Two chunks
    // of a wave are under way at once, so that the DC has the next chunk's reads and writes queued while we
    // journal and check the previous one (a wave's targets never contain one another).
    let chunk_size = CHUNK.max(usize::from(plan.settings.max_in_flight));
    'waves: for wave in waves(&refs) {
        let mut chunks = wave.chunks(chunk_size);
        let mut under_way = futures::stream::FuturesOrdered::new();
        loop {
            while under_way.len() < CHUNKS_AT_ONCE
                && !cancel.load(Ordering::SeqCst)
                && aborted.is_none()
                && let Some(chunk) = chunks.next()
            {
                under_way.push_back(run_chunk(plan, &journal, cancel, chunk));
            }
            let Some((chunk, chunk_results, fatal)) = under_way.next().await else {
                break;
            };
            for (ix, result) in chunk.iter().zip(chunk_results) {
                // A chunk cancelled after its re-read: its targets are reported as not started at the end,
                // as those of chunks never begun, not as they pass.
                if matches!(result, TargetResult::NotStarted) {
                    results[ix.0] = Some(result);
                    continue;
                }
                done += 1;
                progress(ApplyEvent {
                    done,
                    total,
                    dn: &ix.1.dn,
                    result: &result,
                });
                results[ix.0] = Some(result);
            }
            if let Some(e) = fatal {
                aborted.get_or_insert(e);
            }
        }
        if cancel.load(Ordering::SeqCst) || aborted.is_some() {
            break 'waves;
        }
    }
    let results = results
        .into_iter()
        .zip(&changed)
        .map(|(r, t)| (t.dn.clone(), r.unwrap_or(TargetResult::NotStarted)))
        .collect();
    Ok(ApplyOutcome {
        journal: Some(journal.path().to_path_buf()),
        results,
        cancelled: cancel.load(Ordering::SeqCst),
        aborted,
    })
}

/// Targets written together at most (more when the connection allows more in flight).
const CHUNK: usize = 64;

/// Chunks of a wave under way at once.
const CHUNKS_AT_ONCE: usize = 2;

/// [`write_chunk`] for a chunk of indexed targets, handing the chunk back with its results.
async fn run_chunk<'a, 'b>(
    plan: &Plan,
    journal: &JournalWriter,
    cancel: &AtomicBool,
    chunk: &'b [&'b Indexed<'a>],
) -> (&'b [&'b Indexed<'a>], Vec<TargetResult>, Option<Error>) {
    let targets: Vec<&TargetPlan> = chunk.iter().map(|ix| ix.1).collect();
    let (results, fatal) = write_chunk(plan, journal, cancel, &targets).await;
    (chunk, results, fatal)
}

/// A target with its place in the plan.
struct Indexed<'a>(usize, &'a TargetPlan);

impl AsRef<str> for Indexed<'_> {
    fn as_ref(&self) -> &str {
        &self.1.dn
    }
}

/// A target as it is now: where it is, its DACL, and its domain's session.
type Now = (String, SecurityDescriptor, Session);

/// Reads targets' DACLs as they are now, on their own domains' DCs, many in one search, each found by its
/// GUID wherever it is now. Per target: its address (`<GUID=...>` when the plan knows its GUID, so that the
/// write reaches the object that was read even if another now holds its DN) and DACL, or why not.
async fn read_now(plan: &Plan, targets: &[&TargetPlan]) -> Vec<Result<Now>> {
    let wanted: Vec<(&str, Option<Guid>)> =
        targets.iter().map(|t| (t.dn.as_str(), t.guid())).collect();
    let reads = plan.dcs.read_current(&wanted).await;
    targets
        .iter()
        .zip(reads)
        .map(|(t, read)| {
            let (session, read) = read?;
            let read = read.ok_or_else(|| Error::runtime("it no longer exists"))?;
            let at = match t.guid() {
                Some(g) => format!("<GUID={g}>"),
                None => t.dn.clone(),
            };
            decode(&read.sd, "as read before writing").map(|sd| (at, sd, session))
        })
        .collect()
}

fn decode(bytes: &[u8], when: &str) -> Result<SecurityDescriptor> {
    SecurityDescriptor::from_bytes(bytes).map_err(|e| {
        Error::runtime(format!("cannot decode the descriptor {when}: {e}")).caused_by(e)
    })
}

/// One chunk: read, check, journal `writing`, write, journal the answers, read back, journal `verified`.
/// Returns each target's result, and a journal failure that must stop every further write, if any.
async fn write_chunk(
    plan: &Plan,
    journal: &JournalWriter,
    cancel: &AtomicBool,
    targets: &[&TargetPlan],
) -> (Vec<TargetResult>, Option<Error>) {
    let mut results: Vec<Option<TargetResult>> = targets.iter().map(|_| None).collect();
    // 1. The DACLs as they are now; the explicit part must still be what the plan was made from.
    let mut to_write: Vec<(usize, String, Session, Vec<u8>, usize)> = Vec::new();
    for (i, now) in read_now(plan, targets).await.into_iter().enumerate() {
        let t = targets[i];
        let (at, current, session) = match now {
            Ok(x) => x,
            Err(e) => {
                results[i] = Some(TargetResult::Refused(e));
                continue;
            }
        };
        if !same_explicit(&current, t.before()) {
            results[i] = Some(TargetResult::Changed);
            continue;
        }
        let (after, added) = merge(&current, &t.added_aces());
        match after.to_bytes() {
            Ok(bytes) => to_write.push((i, at, session, bytes, added)),
            Err(e) => {
                let e = Error::runtime(format!("the DACL cannot be stored: {e}")).caused_by(e);
                results[i] = Some(TargetResult::Refused(e));
            }
        }
    }
    let finish = |mut results: Vec<Option<TargetResult>>, fatal: Option<Error>| {
        let r = results
            .iter_mut()
            .map(|r| r.take().unwrap_or(TargetResult::NotStarted))
            .collect();
        (r, fatal)
    };
    // A cancel while this chunk was being read: nothing of it is written.
    if cancel.load(Ordering::SeqCst) {
        return finish(results, None);
    }
    // 2. Every write announced, durably, before the first is sent.
    let writing: Vec<Record> = to_write
        .iter()
        .map(|(i, _, _, bytes, _)| Record::Writing {
            dn: targets[*i].dn.clone(),
            sd: b64(bytes),
        })
        .collect();
    if let Err(e) = journal.record_all(&writing).await {
        return finish(results, Some(e));
    }
    // 3. The writes, as many at once as each connection allows; a stop asked for meanwhile keeps every
    // write that is not yet on the wire off it.
    let answers =
        futures::future::join_all(to_write.iter().map(|(_, at, session, bytes, _)| {
            session.write_dacl_unless(at, bytes.clone(), cancel)
        }))
        .await;
    let mut answered = Vec::new();
    let mut written = Vec::new();
    for ((i, at, session, _, added), answer) in to_write.into_iter().zip(answers) {
        let dn = targets[i].dn.clone();
        match answer {
            Ok(false) => {
                // Never sent: as good as refused, nothing of ours is there.
                answered.push(Record::Failed {
                    dn,
                    error: "not sent: the run was stopped".into(),
                });
                results[i] = Some(TargetResult::NotStarted);
            }
            Ok(true) => {
                answered.push(Record::Written { dn });
                written.push((i, at, session, added));
            }
            Err(e) => {
                let e = e.without_subject(&at);
                if refused_by_server(&e) {
                    answered.push(Record::Failed {
                        dn,
                        error: e.message.clone(),
                    });
                    results[i] = Some(TargetResult::Refused(e));
                } else {
                    results[i] = Some(TargetResult::Unknown(e));
                }
            }
        }
    }
    if let Err(e) = journal.record_all(&answered).await {
        for (i, _, _, _) in &written {
            results[*i] = Some(TargetResult::Unknown(Error::runtime(
                "written, but the journal could not record it",
            )));
        }
        return finish(results, Some(e));
    }
    // 4. Read back (siblings in one search) and check every added ACE is there.
    let mut verified = Vec::new();
    let by_dn: Vec<&TargetPlan> = written.iter().map(|(i, ..)| targets[*i]).collect();
    let reread = read_now(plan, &by_dn).await;
    for ((i, _, _, added), now) in written.into_iter().zip(reread) {
        let t = targets[i];
        let now = match now {
            Ok((_, sd, _)) => sd,
            Err(e) => {
                results[i] = Some(TargetResult::NotVerified(e));
                continue;
            }
        };
        let dacl = now.dacl.unwrap_or_default();
        match t
            .to_add()
            .iter()
            .find(|(_, ace)| !dacl.explicitly_covers(ace))
        {
            Some((grant, _)) => {
                let e = Error::runtime(format!(
                    "the server accepted the write but {} is not there on reading back",
                    grant.label()
                ))
                .hint("run `check`; a policy or another tool may have removed it");
                results[i] = Some(TargetResult::NotVerified(e));
            }
            None => {
                verified.push(Record::Verified { dn: t.dn.clone() });
                results[i] = Some(TargetResult::Verified { added });
            }
        }
    }
    let fatal = journal.record_all(&verified).await.err();
    finish(results, fatal)
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
