//! `revert`: take back exactly the rights `apply` added, as its journals record them, and nothing else.
//!
//! Only targets the journal says were sent are looked at (a target apply never reached is never touched,
//! whatever another admin granted there since). For each one the DACL is read just before writing and our
//! mask bits come off the explicit ACEs of the same trustee, type, object types and inheritance, keeping
//! anything another tool merged into them; the write goes out only after a `reverting` record. Everything is
//! matched by the connector's SID from the journal, so a deleted or renamed connector is no obstacle.

use std::path::PathBuf;
use std::sync::Mutex;

use futures::StreamExt;

use super::apply::waves;
use super::dacl::{same_explicit, take_back};
use super::journal::{Damaged, Journal, JournalTarget, JournalWriter, Record, TargetState, b64};
use crate::ad::Session;
use crate::error::{Error, Result};
use crate::security::{Ace, SecurityDescriptor};

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
    /// An interrupted write, and the DACL has changed since in a way that does not tell whether ours went
    /// in: left alone, with the ACEs to look for.
    Uncertain {
        ours: Vec<String>,
    },
    /// Some of our rights remain through ACEs we could not take apart (listed).
    Remaining {
        aces: Vec<String>,
    },
    Failed(Error),
}

impl Reverted {
    /// Whether the target is finished with (its journal entry can be closed).
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Restored | Self::RemovedOnly { .. } | Self::NothingToDo | Self::NeverWritten
        )
    }

    /// A stable word for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Restored => "restored",
            Self::RemovedOnly { .. } => "removed",
            Self::NothingToDo => "nothing-to-do",
            Self::NeverWritten => "never-written",
            Self::Uncertain { .. } => "uncertain",
            Self::Remaining { .. } => "remaining",
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
            Self::Uncertain { ours } => format!(
                "LEFT ALONE: apply was interrupted while writing here and the permissions changed since, so it is unknown whether these are ours: {}",
                ours.join(" ")
            ),
            Self::Remaining { aces } => format!(
                "NOT REVERTED: the connector still holds our rights here through {}; remove them by hand (ADUC > Security > Advanced) if they should go, then run revert again",
                aces.join(" ")
            ),
            Self::Failed(e) => format!("FAILED: {}", e.message),
        }
    }
}

/// What to do at one target, decided from its journal entry and its DACL as it is now. Pure.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Nothing to write; the outcome is final or needs a person.
    Leave(Reverted),
    /// Write this descriptor; then the outcome is `then`.
    Write {
        sd: Box<SecurityDescriptor>,
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

pub fn decide(target: &JournalTarget, current: &SecurityDescriptor) -> Result<Decision> {
    let original = decode(&target.original, "journaled")?;
    match target.state {
        TargetState::Planned | TargetState::Failed => {
            return Ok(Decision::Leave(Reverted::NeverWritten));
        }
        TargetState::Reverted => return Ok(Decision::Leave(Reverted::NothingToDo)),
        TargetState::Writing => {
            // The write was announced but never confirmed: tell from the DACL which way it went.
            if same_explicit(current, &original) {
                return Ok(Decision::Leave(Reverted::NeverWritten));
            }
            let sent = match &target.written_sd {
                Some(bytes) => Some(decode(bytes, "journaled written")?),
                None => None,
            };
            if !sent.is_some_and(|sent| same_explicit(current, &sent)) {
                return Ok(Decision::Leave(Reverted::Uncertain {
                    ours: sddl(&target.added),
                }));
            }
        }
        TargetState::Written | TargetState::Verified | TargetState::Reverting => {}
    }
    let back = take_back(current, &original, &target.added);
    let then = if !back.remaining.is_empty() {
        Reverted::Remaining {
            aces: sddl(&back.remaining),
        }
    } else if back.sd.is_none() {
        Reverted::NothingToDo
    } else if back.restored {
        Reverted::Restored
    } else {
        Reverted::RemovedOnly {
            others: sddl(&back.others),
        }
    };
    Ok(match back.sd {
        Some(sd) => Decision::Write {
            sd: Box::new(sd),
            then,
        },
        None => Decision::Leave(then),
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
    pub damaged: Vec<Damaged>,
    /// The journal could not be updated: no further write was made.
    pub aborted: Option<Error>,
}

impl RevertOutcome {
    pub fn complete(&self) -> bool {
        self.aborted.is_none() && self.targets.iter().all(|(_, r)| r.is_done())
    }
}

/// Reverts the outstanding targets of `journals` (children before parents, a bounded number at once).
pub async fn revert(
    session: &Session,
    journals: &[Journal],
    max_in_flight: usize,
    progress: &(dyn Fn(RevertEvent<'_>) + Sync),
) -> RevertOutcome {
    let mut outcome = RevertOutcome::default();
    for journal in journals {
        let outstanding: Vec<&JournalTarget> = journal.outstanding().collect();
        if outstanding.is_empty() {
            continue;
        }
        let writer = match JournalWriter::open(&journal.path) {
            Ok(w) => w,
            Err(e) => {
                outcome.aborted = Some(e);
                return outcome;
            }
        };
        let results: Mutex<Vec<(String, Reverted)>> = Mutex::new(Vec::new());
        let fatal: Mutex<Option<Error>> = Mutex::new(None);
        for wave in waves(&outstanding).into_iter().rev() {
            if fatal.lock().map(|f| f.is_some()).unwrap_or(true) {
                break;
            }
            futures::stream::iter(wave)
                .for_each_concurrent(max_in_flight.max(1), |t| {
                    let (writer, results, fatal) = (&writer, &results, &fatal);
                    async move {
                        if fatal.lock().map(|f| f.is_some()).unwrap_or(true) {
                            return;
                        }
                        let result = match revert_one(session, writer, t).await {
                            Ok(r) => r,
                            Err(e) => {
                                if let Ok(mut f) = fatal.lock() {
                                    f.get_or_insert(e);
                                }
                                return;
                            }
                        };
                        progress(RevertEvent {
                            journal: &journal.path,
                            dn: &t.dn,
                            result: &result,
                        });
                        if let Ok(mut r) = results.lock() {
                            r.push((t.dn.clone(), result));
                        }
                    }
                })
                .await;
        }
        let results = results.into_inner().unwrap_or_default();
        let fatal = fatal.into_inner().unwrap_or(None);
        let all_done = fatal.is_none()
            && results.len() == outstanding.len()
            && results.iter().all(|(_, r)| r.is_done());
        outcome.targets.extend(results);
        if let Some(e) = fatal {
            outcome.aborted = Some(e);
            return outcome;
        }
        if all_done {
            match Journal::mark_done(&journal.path) {
                Ok(_) => outcome.journals_done.push(journal.path.clone()),
                Err(e) => outcome.aborted = Some(e),
            }
        }
    }
    outcome
}

/// One target. `Err` only when the journal cannot be updated.
async fn revert_one(
    session: &Session,
    writer: &JournalWriter,
    target: &JournalTarget,
) -> Result<Reverted> {
    let current = match session.read_dacl(&target.dn).await {
        Ok((bytes, _)) => bytes,
        Err(e) => return Ok(Reverted::Failed(e.without_subject(&target.dn))),
    };
    let decision = match decode(&current, "current").and_then(|c| decide(target, &c)) {
        Ok(d) => d,
        Err(e) => return Ok(Reverted::Failed(e)),
    };
    let (sd, then) = match decision {
        Decision::Leave(r) => {
            if r.is_done() {
                writer
                    .record(&Record::Reverted {
                        dn: target.dn.clone(),
                    })
                    .await?;
            }
            return Ok(r);
        }
        Decision::Write { sd, then } => (sd, then),
    };
    let bytes = match sd.to_bytes() {
        Ok(b) => b,
        Err(e) => {
            return Ok(Reverted::Failed(
                Error::runtime(format!("cannot encode the DACL: {e}")).caused_by(e),
            ));
        }
    };
    writer
        .record(&Record::Reverting {
            dn: target.dn.clone(),
            sd: b64(&bytes),
        })
        .await?;
    if let Err(e) = session.write_dacl(&target.dn, bytes).await {
        return Ok(Reverted::Failed(e.without_subject(&target.dn)));
    }
    if then.is_done() {
        writer
            .record(&Record::Reverted {
                dn: target.dn.clone(),
            })
            .await?;
    }
    Ok(then)
}

impl AsRef<str> for JournalTarget {
    fn as_ref(&self) -> &str {
        &self.dn
    }
}

#[cfg(test)]
mod tests;
