//! `revert`: take back exactly the rights `apply` added, as its journals record them, and nothing else.
//!
//! Only targets the journal says were sent are looked at (a target apply never reached is never touched,
//! whatever another admin granted there since). For each one the DACL is read just before writing and our
//! mask bits come off the explicit ACEs of the same trustee, type, object types and inheritance, keeping
//! anything another tool merged into them; the write goes out only after a `reverting` record. Everything is
//! matched by the connector's SID from the journal, so a deleted or renamed connector is no obstacle.

use std::path::{Path, PathBuf};

use super::apply::waves;
use super::dacl::{explicit_additions, holds_as_added, same_explicit, take_back};
use super::journal::Journal;
use super::journal::{
    ForestLock, JournalTarget, JournalWriter, OpenError, Record, TargetState, WhenLocked, b64,
    state_dir_of,
};
use crate::ad::Session;
use crate::ad::account::Account;
use crate::ad::dcs::Dcs;
use crate::answers::Directory;
use crate::error::{Error, Result};
use crate::security::{Ace, Guid, SecurityDescriptor};

/// What revert did (or found) at one target.
#[derive(Debug, Clone)]
pub enum Reverted {
    /// Our ACEs are gone and the explicit ACEs are the original's again.
    Restored,
    /// Our ACEs are gone; changes others made since were kept (their grants of the same rights are listed).
    RemovedOnly {
        others: Vec<String>,
    },
    /// None of our rights was there any more: nothing written.
    NothingToDo,
    /// The journal shows the write never happened (never sent, refused, or interrupted before it applied).
    NeverWritten,
    /// The object no longer exists (deleted): nothing to take back.
    Gone,
    /// An interrupted write, and the DACL has changed since in a way that does not tell whether ours went
    /// in: left alone, with the ACEs to look for.
    Uncertain {
        ours: Vec<String>,
    },
    /// Some of our rights remain through ACEs we could not take apart (listed).
    Remaining {
        aces: Vec<String>,
    },
    /// Not started: the run was stopped (Ctrl-C) before it got here.
    NotStarted,
    Failed(Error),
}

impl Reverted {
    /// Whether the target is finished with (its journal entry can be closed).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Restored
                | Self::RemovedOnly { .. }
                | Self::NothingToDo
                | Self::NeverWritten
                | Self::Gone
        )
    }

    /// A stable word for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Restored => "restored",
            Self::RemovedOnly { .. } => "removed",
            Self::NothingToDo => "nothing-to-do",
            Self::NeverWritten => "never-written",
            Self::Gone => "gone",
            Self::Uncertain { .. } => "uncertain",
            Self::Remaining { .. } => "remaining",
            Self::NotStarted => "not-started",
            Self::Failed(_) => "failed",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Restored => "restored: the permissions are as they were before apply".into(),
            Self::RemovedOnly { others } if others.is_empty() => {
                "removed our ACEs; changes made by others since were kept".into()
            }
            Self::RemovedOnly { others } => format!(
                "removed our ACEs; the same rights granted by someone else stay: {}",
                others.join(" ")
            ),
            Self::NothingToDo => "none of our ACEs is there any more: nothing to do".into(),
            Self::NeverWritten => "never written by apply: left alone".into(),
            Self::Gone => "the object no longer exists: nothing to take back".into(),
            Self::Uncertain { ours } => format!(
                "LEFT ALONE: apply was interrupted while writing here and the permissions changed since, so it is unknown whether these are ours: {}",
                ours.join(" ")
            ),
            Self::Remaining { aces } => format!(
                "NOT REVERTED: the connector still holds our rights here through {}; remove them by hand (ADUC > Security > Advanced) if they should go, then run revert again",
                aces.join(" ")
            ),
            Self::NotStarted => "not started: the run was stopped first".into(),
            Self::Failed(e) => format!("FAILED: {}", e.message),
        }
    }
}

/// What to do at one target, decided from its journal entry and its DACL as it is now. Pure.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Nothing to write; the outcome is final or needs a person.
    Leave(Reverted),
    /// Write this descriptor (which changes or removes the explicit ACEs `taking` and leaves `remaining`,
    /// both journaled with it); then the outcome is `then`.
    Write {
        sd: Box<SecurityDescriptor>,
        taking: Vec<Ace>,
        remaining: Vec<Ace>,
        then: Reverted,
    },
}

fn sddl(aces: &[Ace]) -> Vec<String> {
    aces.iter().map(ToString::to_string).collect()
}

fn decode(bytes: &[u8], what: &str) -> Result<SecurityDescriptor> {
    SecurityDescriptor::from_bytes(bytes).map_err(|e| {
        Error::runtime(format!("cannot decode the {what} descriptor: {e}")).caused_by(e)
    })
}

/// How a target's DACL stands against the last descriptor we sent there (apply's write while `writing`, the
/// take-back while `reverting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Its explicit ACEs are what we sent, perhaps with someone else's additions: the write landed.
    Landed,
    /// Anything else: the write never landed, or the DACL changed since.
    Changed,
}

/// How many of the ACEs apply added are still there (an explicit ACE of the same shape holding all of
/// their rights).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ours {
    All,
    Some,
    None,
}

/// What revert does at a target, before the DACL is looked at in detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Apply never wrote here (or its write cannot have landed): leave it.
    NeverWritten,
    /// An interrupted apply, and the DACL changed since in a way that does not tell whether ours went in.
    Uncertain,
    /// Take our rights back out of the DACL as it is now (nothing is written when none is there).
    TakeBack,
    /// Our take-back landed: what is still there is someone else's, or what we could not take apart.
    TakenBack,
    /// Already reverted.
    Done,
}

/// The decision table: journal state x DACL since our last write x our ACEs still there. Rules: apply's
/// write counts only where it landed; a take-back counts as landed only when the DACL is what it sent
/// (plus additions) and the ACEs it took out are not all back (had it not landed they would all be there),
/// so a journal entry is closed only when nothing of ours remains.
pub fn action(state: TargetState, since: Since, ours: Ours) -> Action {
    use Action::*;
    match (state, since, ours) {
        (TargetState::Planned | TargetState::Failed, _, _) => NeverWritten,
        (TargetState::Reverted, _, _) => Done,
        (TargetState::Writing, Since::Landed, _) => TakeBack,
        (TargetState::Writing, Since::Changed, Ours::None) => NeverWritten,
        (TargetState::Writing, Since::Changed, Ours::Some | Ours::All) => Uncertain,
        (TargetState::Written | TargetState::Verified, _, _) => TakeBack,
        (TargetState::Reverting, Since::Landed, _) => TakenBack,
        (TargetState::Reverting, Since::Changed, _) => TakeBack,
    }
}

/// Whether every ACE of `wanted` is among `have` (duplicates counted).
fn all_among(wanted: &[Ace], have: &[Ace]) -> bool {
    super::dacl::missing_from(wanted.iter(), have.to_vec()).is_empty()
}

fn explicit_aces(sd: &SecurityDescriptor) -> Vec<Ace> {
    sd.dacl
        .iter()
        .flat_map(|d| d.aces.iter())
        .filter(|a| !a.is_inherited())
        .cloned()
        .collect()
}

/// How many of `added` are still held through an explicit ACE of the same shape.
fn ours_in(current: &SecurityDescriptor, added: &[Ace]) -> Ours {
    let explicit = explicit_aces(current);
    let present = added
        .iter()
        .filter(|ours| explicit.iter().any(|a| holds_as_added(a, ours)))
        .count();
    match present {
        0 => Ours::None,
        n if n == added.len() => Ours::All,
        _ => Ours::Some,
    }
}

pub fn decide(target: &JournalTarget, current: &SecurityDescriptor) -> Result<Decision> {
    let original = decode(&target.original, "journaled")?;
    let since = match target.state {
        TargetState::Writing => match &target.written_sd {
            Some(sent) => {
                let sent = decode(sent, "journaled")?;
                if explicit_additions(&sent, current).is_some() {
                    Since::Landed
                } else {
                    Since::Changed
                }
            }
            None => Since::Changed,
        },
        TargetState::Reverting => match &target.reverting {
            Some(sent) => {
                let sd = decode(&sent.sd, "journaled")?;
                // Journals from before `taking` was kept: every ACE apply added stands in for it.
                let taken = sent.taking.as_deref().unwrap_or(&target.added);
                match explicit_additions(&sd, current) {
                    Some(extra) if !all_among(taken, &extra) => Since::Landed,
                    _ => Since::Changed,
                }
            }
            None => Since::Changed,
        },
        _ => Since::Changed,
    };
    let ours = ours_in(current, &target.added);
    Ok(match action(target.state, since, ours) {
        Action::NeverWritten => Decision::Leave(Reverted::NeverWritten),
        Action::Done => Decision::Leave(Reverted::NothingToDo),
        Action::Uncertain => Decision::Leave(Reverted::Uncertain {
            ours: sddl(&target.added),
        }),
        Action::TakenBack => {
            let explicit = explicit_aces(current);
            let still: Vec<Ace> = match target.reverting.as_ref().filter(|r| r.taking.is_some()) {
                Some(sent) => sent
                    .remaining
                    .iter()
                    .filter(|a| explicit.contains(a))
                    .cloned()
                    .collect(),
                None => take_back(current, &original, &target.added).remaining,
            };
            Decision::Leave(if !still.is_empty() {
                Reverted::Remaining { aces: sddl(&still) }
            } else if same_explicit(current, &original) {
                Reverted::Restored
            } else {
                Reverted::RemovedOnly { others: Vec::new() }
            })
        }
        Action::TakeBack => {
            let back = take_back(current, &original, &target.added);
            let then = if !back.remaining.is_empty() {
                Reverted::Remaining {
                    aces: sddl(&back.remaining),
                }
            } else if back.sd.is_none() {
                if same_explicit(current, &original) {
                    Reverted::Restored
                } else {
                    Reverted::NothingToDo
                }
            } else if back.restored {
                Reverted::Restored
            } else {
                Reverted::RemovedOnly {
                    others: sddl(&back.others),
                }
            };
            match back.sd {
                Some(sd) => Decision::Write {
                    sd: Box::new(sd),
                    taking: back.taking,
                    remaining: back.remaining,
                    then,
                },
                None => Decision::Leave(then),
            }
        }
    })
}

/// One target's line, as `progress` hears it.
#[derive(Debug, Clone, Copy)]
pub struct RevertEvent<'a> {
    pub journal: &'a std::path::Path,
    pub dn: &'a str,
    pub result: &'a Reverted,
}

#[derive(Debug, Default)]
pub struct RevertOutcome {
    /// Journals with nothing outstanding any more (their files are renamed `*.reverted`).
    pub journals_done: Vec<PathBuf>,
    pub targets: Vec<(String, Reverted)>,
    /// Journals another run holds (an apply still writing, or another revert): skipped.
    pub busy: Vec<PathBuf>,
    /// Journals that could not be opened or read, or whose update failed part-way (no further write was
    /// made to their objects).
    pub failed_journals: Vec<(PathBuf, Error)>,
    /// Stop was asked for: targets not yet started were left alone (still in their journals).
    pub cancelled: bool,
}

impl RevertOutcome {
    pub fn complete(&self) -> bool {
        self.busy.is_empty()
            && self.failed_journals.is_empty()
            && self.targets.iter().all(|(_, r)| r.is_done())
    }
}

/// Reverts the outstanding targets of each journal (children before parents, a bounded number at once).
/// Each journal is locked and read again under the lock; one that cannot be locked or read is reported and
/// the others go on. `cancel` is looked at before each chunk: once set, nothing more is started.
pub async fn revert(
    dcs: &Dcs,
    journals: &[PathBuf],
    max_in_flight: usize,
    cancel: &std::sync::atomic::AtomicBool,
    progress: &(dyn Fn(RevertEvent<'_>) + Sync),
) -> RevertOutcome {
    let mut outcome = RevertOutcome::default();
    // One run at a time per forest and state directory, as for apply.
    let forest = dcs.forest().forest_name();
    let mut locks = Vec::new();
    for state_dir in journals.iter().filter_map(|p| state_dir_of(p)) {
        match ForestLock::take(state_dir, &forest, WhenLocked::Refuse).await {
            Ok(lock) => locks.push(lock),
            Err(e) => {
                outcome
                    .failed_journals
                    .extend(journals.iter().map(|p| (p.clone(), e.clone())));
                return outcome;
            }
        }
    }
    for path in journals {
        let (writer, journal) = match JournalWriter::open(path) {
            Ok(opened) => opened,
            Err(OpenError::Busy(p)) => {
                outcome.busy.push(p);
                continue;
            }
            Err(OpenError::Failed(e)) => {
                outcome.failed_journals.push((path.clone(), e));
                continue;
            }
        };
        let outstanding: Vec<&JournalTarget> = journal.outstanding().collect();
        let mut results: Vec<(String, Reverted)> = Vec::new();
        let mut fatal: Option<Error> = None;
        // Children before parents; each chunk read in one search per parent, journaled with one fsync,
        // written as many at once as the connection allows.
        let chunk_size = CHUNK.max(max_in_flight);
        'waves: for wave in waves(&outstanding).into_iter().rev() {
            for chunk in wave.chunks(chunk_size) {
                if fatal.is_some() {
                    break 'waves;
                }
                if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                    outcome.cancelled = true;
                    for t in chunk {
                        progress(RevertEvent {
                            journal: path,
                            dn: &t.dn,
                            result: &Reverted::NotStarted,
                        });
                        results.push((t.dn.clone(), Reverted::NotStarted));
                    }
                    continue;
                }
                let (chunk_results, failure) = revert_chunk(dcs, &writer, cancel, chunk).await;
                for (t, result) in chunk.iter().zip(chunk_results) {
                    progress(RevertEvent {
                        journal: path,
                        dn: &t.dn,
                        result: &result,
                    });
                    results.push((t.dn.clone(), result));
                }
                fatal = fatal.or(failure);
            }
        }
        let all_done = fatal.is_none()
            && results.len() == outstanding.len()
            && results.iter().all(|(_, r)| r.is_done());
        outcome.targets.extend(results);
        if let Some(e) = fatal {
            outcome.failed_journals.push((path.clone(), e));
            continue;
        }
        if all_done {
            match writer.mark_done() {
                Ok(_) => outcome.journals_done.push(path.clone()),
                Err(e) => outcome.failed_journals.push((path.clone(), e)),
            }
        }
    }
    outcome.cancelled |= cancel.load(std::sync::atomic::Ordering::SeqCst);
    outcome
}

/// Targets reverted together at most.
const CHUNK: usize = 64;

/// A target as it is now, on its domain's session: where it is and its descriptor (`None`: not found).
type Now = (Session, Option<(String, Vec<u8>)>);

/// Reads targets as they are now, each on its domain's DC and many in one search, found by GUID wherever
/// they are now (by DN for a journal without GUIDs), and addressed as `<GUID=...>` for the write, so that it
/// reaches the object that was read.
async fn read_now(dcs: &Dcs, targets: &[&JournalTarget]) -> Vec<Result<Now>> {
    let wanted: Vec<(&str, Option<Guid>)> =
        targets.iter().map(|t| (t.dn.as_str(), t.guid)).collect();
    let reads = dcs.read_current(&wanted).await;
    targets
        .iter()
        .zip(reads)
        .map(|(t, read)| {
            let (session, read) = read?;
            Ok((session, read.map(|r| (t.ldap_dn(), r.sd))))
        })
        .collect()
}

/// A target the reads did not find: gone only when its tombstone says it was deleted. Anything else (moved
/// to another domain, hidden from this admin, a journal without its GUID) is a failure that keeps the entry.
async fn confirm_gone(session: &Session, target: &JournalTarget) -> Reverted {
    let Some(guid) = target.guid else {
        return Reverted::Failed(
            Error::runtime(format!(
                "{} was not found, and without its GUID in the journal it cannot be told whether it was deleted",
                target.dn
            ))
            .hint("if it was deleted, nothing is left to take back; the journal keeps it until a revert finds it"),
        );
    };
    match session.deleted(&guid).await {
        Ok(Some(true)) => Reverted::Gone,
        Ok(Some(false)) => Reverted::Failed(
            Error::runtime(format!(
                "{} (GUID {guid}) was missed by the search but exists",
                target.dn
            ))
            .hint("run revert again"),
        ),
        Ok(None) => Reverted::Failed(
            Error::runtime(format!(
                "{} (GUID {guid}) cannot be seen on {} and no tombstone shows it deleted: it may have moved to another domain, or {} may not list its parent or read it",
                target.dn,
                session.url,
                session.dc().admin
            ))
            .hint("revert again as an admin who can see it (a Domain Admin of its domain); the journal keeps it"),
        ),
        Err(e) => Reverted::Failed(e),
    }
}

/// One chunk: read, decide, journal (one fsync), write, journal the outcomes. Returns each target's outcome,
/// and a journal failure that must stop every further write, if any.
async fn revert_chunk(
    dcs: &Dcs,
    writer: &JournalWriter,
    cancel: &std::sync::atomic::AtomicBool,
    targets: &[&JournalTarget],
) -> (Vec<Reverted>, Option<Error>) {
    let mut results: Vec<Option<Reverted>> = targets.iter().map(|_| None).collect();
    let mut records = Vec::new();
    let mut to_write: Vec<(usize, String, Session, Vec<u8>, Reverted)> = Vec::new();
    for (i, now) in read_now(dcs, targets).await.into_iter().enumerate() {
        let t = targets[i];
        let (session, at, current) = match now {
            Ok((session, Some((at, current)))) => (session, at, current),
            Ok((session, None)) => {
                let result = confirm_gone(&session, t).await;
                if result.is_done() {
                    records.push(Record::Reverted { dn: t.dn.clone() });
                }
                results[i] = Some(result);
                continue;
            }
            Err(e) => {
                results[i] = Some(Reverted::Failed(e));
                continue;
            }
        };
        let decision = match decode(&current, "current").and_then(|c| decide(t, &c)) {
            Ok(d) => d,
            Err(e) => {
                results[i] = Some(Reverted::Failed(e));
                continue;
            }
        };
        match decision {
            Decision::Leave(r) => {
                if r.is_done() {
                    records.push(Record::Reverted { dn: t.dn.clone() });
                }
                results[i] = Some(r);
            }
            Decision::Write {
                sd,
                taking,
                remaining,
                then,
            } => match sd.to_bytes().and_then(|bytes| {
                let aces = |list: &[Ace]| -> std::result::Result<Vec<String>, _> {
                    list.iter().map(|a| a.to_bytes().map(|b| b64(&b))).collect()
                };
                Ok((bytes, aces(&taking)?, aces(&remaining)?))
            }) {
                Ok((bytes, taking, remaining)) => {
                    records.push(Record::Reverting {
                        dn: t.dn.clone(),
                        sd: b64(&bytes),
                        taking: Some(taking),
                        remaining,
                    });
                    to_write.push((i, at, session, bytes, then));
                }
                Err(e) => {
                    let e = Error::runtime(format!("cannot encode the DACL: {e}")).caused_by(e);
                    results[i] = Some(Reverted::Failed(e));
                }
            },
        }
    }
    let finish = |mut results: Vec<Option<Reverted>>, fatal: Option<Error>| {
        let r = results
            .iter_mut()
            .map(|r| {
                r.take()
                    .unwrap_or_else(|| Reverted::Failed(Error::runtime("not started")))
            })
            .collect();
        (r, fatal)
    };
    if let Err(e) = writer.record_all(&records).await {
        for (i, ..) in &to_write {
            results[*i] = Some(Reverted::Failed(e.clone()));
        }
        return finish(results, Some(e));
    }
    let answers =
        futures::future::join_all(to_write.iter().map(|(_, at, session, bytes, _)| {
            session.write_dacl_unless(at, bytes.clone(), cancel)
        }))
        .await;
    let mut closed = Vec::new();
    for ((i, at, _, _, then), answer) in to_write.into_iter().zip(answers) {
        match answer {
            // Never sent: its `reverting` record is answered by the DACL as it is (the next run sends it).
            Ok(false) => results[i] = Some(Reverted::NotStarted),
            Ok(true) => {
                if then.is_done() {
                    closed.push(Record::Reverted {
                        dn: targets[i].dn.clone(),
                    });
                }
                results[i] = Some(then);
            }
            Err(e) => results[i] = Some(Reverted::Failed(e.without_subject(&at))),
        }
    }
    let fatal = writer.record_all(&closed).await.err();
    finish(results, fatal)
}

/// The journals `revert --answers` acts on for one directory.
#[derive(Debug)]
pub struct JournalsFor {
    pub journals: Vec<Journal>,
    /// The connector SIDs they were found by.
    pub sids: Vec<String>,
    /// Said to the admin when the connector's SID is not (only) its current one.
    pub note: Option<String>,
}

/// Finds the journals of `directory`'s forest and connector. The connector is matched by SID; journals that
/// name the same connector with another SID count too (the account was deleted, or deleted and created
/// again under the same name), so its earlier grants can still be taken back.
pub async fn journals_for(
    dcs: &Dcs,
    directory: &Directory,
    state_dir: &Path,
) -> Result<JournalsFor> {
    let forest_name = dcs.forest().forest_name();
    let (all, _) = Journal::all_active(state_dir)?;
    let mut recorded: Vec<String> = all
        .iter()
        .filter(|j| {
            j.header.forest.eq_ignore_ascii_case(&forest_name)
                && j.header
                    .connector
                    .eq_ignore_ascii_case(directory.connector.trim())
        })
        .map(|j| j.header.connector_sid.clone())
        .collect();
    recorded.sort();
    recorded.dedup();
    let (sids, note) = match Account::resolve(dcs, &directory.connector, "connector").await {
        Ok(account) => {
            let sid = account.sid.to_string();
            let earlier: Vec<String> = recorded.into_iter().filter(|s| *s != sid).collect();
            let note = (!earlier.is_empty()).then(|| {
                    format!(
                        "connector {} is {sid} now; its journals also record earlier accounts of that name: {} (their ACEs are reverted too)",
                        directory.connector,
                        earlier.join(", ")
                    )
                });
            (std::iter::once(sid).chain(earlier).collect(), note)
        }
        Err(e) if e.kind == crate::error::ErrorKind::Usage && !recorded.is_empty() => {
            let note = format!(
                "connector {} no longer resolves ({}); reverting by the SID its journals recorded: {}",
                directory.connector,
                e.message,
                recorded.join(", ")
            );
            (recorded, Some(note))
        }
        Err(e) => return Err(e),
    };
    let journals = all
        .into_iter()
        .filter(|j| {
            j.header.forest.eq_ignore_ascii_case(&forest_name)
                && sids.contains(&j.header.connector_sid)
        })
        .collect();
    Ok(JournalsFor {
        journals,
        sids,
        note,
    })
}

impl AsRef<str> for JournalTarget {
    fn as_ref(&self) -> &str {
        &self.dn
    }
}

#[cfg(test)]
mod tests;
