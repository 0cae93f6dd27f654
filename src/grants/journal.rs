//! The journal: one append-only file per `apply` run and forest, so that after a crash at any point it says
//! exactly what happened to every target, and `revert` acts only where we wrote.
//!
//! Each line is one JSON record. The first is the header (forest, how to reach the DC, the connector's SID);
//! then one `planned` record per target with its original descriptor and the ACEs we mean to add; then, per
//! target, the transitions `writing` (with the exact descriptor about to be sent) → `written` → `verified`,
//! and later `reverting` → `reverted`. A `failed` record says the server refused the write, so nothing of
//! ours is there. Every record is flushed to disk (fdatasync) before the next LDAP write: a write is always
//! preceded by a durable `writing` record. Concurrent writers share one fsync (group commit).
//!
//! A crash can leave a torn last line; it was never acknowledged, so the write it announced never started, and
//! it is ignored. Any other damage makes the whole file unreadable: it is reported and skipped, never blocking
//! other journals. Files are mode 0600 in a 0700 directory and hold descriptors and SIDs, never secrets.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::ad::ConnectionSettings;
use crate::ad::connection::DcRef;
use crate::answers::{Auth, TlsMode};
use crate::error::{Error, Result};
use crate::security::Ace;

pub const VERSION: u32 = 2;
const SUFFIX: &str = ".jsonl";
/// Appended to a journal's name once every target it wrote has been reverted.
const DONE_SUFFIX: &str = ".reverted";

/// How to reach the DC again, without the answers file (`revert --journal`). No secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalConnection {
    pub url: String,
    pub tls: TlsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub danger_skip_tls_verify: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plaintext: bool,
    /// The name the DC's certificate was checked against (it was dialled by address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spn_host: Option<String>,
}

impl From<&ConnectionSettings> for JournalConnection {
    fn from(s: &ConnectionSettings) -> Self {
        Self {
            url: s.url.clone(),
            tls: s.tls,
            // Absolute, so that `revert --journal` works from any directory.
            ca_file: s
                .ca_file
                .as_ref()
                .map(|p| fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            danger_skip_tls_verify: s.danger_skip_tls_verify,
            allow_plaintext: s.allow_plaintext,
            tls_name: s.tls_name.clone(),
            auth: Auth::Simple,
            spn_host: None,
        }
    }
}

impl JournalConnection {
    pub fn settings(&self) -> ConnectionSettings {
        ConnectionSettings {
            danger_skip_tls_verify: self.danger_skip_tls_verify,
            allow_plaintext: self.allow_plaintext,
            tls_name: self.tls_name.clone(),
            ..ConnectionSettings::new(self.url.clone(), self.tls, self.ca_file.clone())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub created_unix: u64,
    pub forest: String,
    pub connection: JournalConnection,
    /// The admin account as the answers named it (for `revert --journal`).
    pub admin: String,
    /// The connector as the answers named it (for messages; revert goes by SID).
    pub connector: String,
    pub connector_sid: String,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub enum Record {
    Header(Header),
    /// Before any write: the descriptor as read and the ACEs to add (base64), and the object's GUID, which
    /// finds it again after a move or rename and never mistakes a new object at the same DN for it.
    Planned {
        dn: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guid: Option<String>,
        /// The DC of the object's domain that apply used, and how.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dc: Option<DcRef>,
        original_sd: String,
        add: Vec<String>,
    },
    /// About to send exactly this descriptor.
    Writing {
        dn: String,
        sd: String,
    },
    /// The server accepted the write.
    Written {
        dn: String,
    },
    /// Read back: every added ACE is there.
    Verified {
        dn: String,
    },
    /// The server refused the write: nothing of ours is there.
    Failed {
        dn: String,
        error: String,
    },
    /// About to send this descriptor to take our ACEs back. `taking`: the explicit ACEs it changes or
    /// removes, as they were (base64); `remaining`: ACEs that still give the connector one of our rights and
    /// that it could not take apart. Journals written before these existed have neither.
    Reverting {
        dn: String,
        sd: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        taking: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remaining: Vec<String>,
    },
    /// Our ACEs are gone from this target.
    Reverted {
        dn: String,
    },
}

/// Where a target is in planned → writing → written → verified → reverting → reverted (or failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetState {
    /// Never sent: revert leaves it alone.
    Planned,
    /// Sent, with no answer on record (a crash or a lost connection): it may or may not have been applied.
    Writing,
    Written,
    Verified,
    /// The server refused it.
    Failed,
    Reverting,
    Reverted,
}

impl TargetState {
    /// Whether our ACEs may be on the object, so that revert has to look.
    pub fn may_hold_our_aces(self) -> bool {
        matches!(
            self,
            Self::Writing | Self::Written | Self::Verified | Self::Reverting
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Planned => "planned (never written)",
            Self::Writing => "write interrupted",
            Self::Written => "written",
            Self::Verified => "written and verified",
            Self::Failed => "refused by the server",
            Self::Reverting => "revert interrupted",
            Self::Reverted => "reverted",
        }
    }
}

/// One target as the journal's records leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalTarget {
    pub dn: String,
    /// The object's GUID, when the journal has it.
    pub guid: Option<crate::security::Guid>,
    /// The DC apply used for it, and how.
    pub dc: Option<DcRef>,
    /// The DACL-only descriptor as read before the first write.
    pub original: Vec<u8>,
    /// The ACEs apply meant to add.
    pub added: Vec<Ace>,
    /// The descriptor apply sent (or was about to send), once it got that far.
    pub written_sd: Option<Vec<u8>>,
    /// The take-back revert sent (or was about to send), once it got that far.
    pub reverting: Option<RevertSent>,
    pub state: TargetState,
}

/// A take-back as its `reverting` record describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertSent {
    /// The descriptor sent.
    pub sd: Vec<u8>,
    /// The explicit ACEs it changed or removed, as they were (`None`: a journal from before this was kept).
    pub taking: Option<Vec<Ace>>,
    /// ACEs it left that still give the connector one of our rights.
    pub remaining: Vec<Ace>,
}

impl JournalTarget {
    /// How to name the object in LDAP operations: by GUID when known (`<GUID=...>`), else by DN.
    pub fn ldap_dn(&self) -> String {
        match self.guid {
            Some(g) => format!("<GUID={g}>"),
            None => self.dn.clone(),
        }
    }
}

/// A journal read back from disk.
#[derive(Debug, Clone)]
pub struct Journal {
    pub path: PathBuf,
    pub header: Header,
    pub targets: Vec<JournalTarget>,
    /// The last line was cut short by a crash (and ignored).
    pub torn_tail: bool,
}

/// A journal file that could not be read: reported and skipped.
#[derive(Debug, Clone)]
pub struct Damaged {
    pub path: PathBuf,
    pub error: Error,
}

fn damaged(path: &Path, line: usize, what: impl std::fmt::Display) -> Error {
    Error::runtime(format!("journal {} is damaged at line {line}: {what}", path.display())).hint(
        "it was skipped; other journals were not affected. Keep the file: it holds original descriptors",
    )
}

fn decode_b64(path: &Path, line: usize, text: &str) -> Result<Vec<u8>> {
    B64.decode(text).map_err(|e| damaged(path, line, e))
}

/// ACEs written as base64, as `planned` and `reverting` records hold them.
fn decode_aces(path: &Path, line: usize, list: &[String]) -> Result<Vec<Ace>> {
    list.iter()
        .map(|a| Ace::from_bytes(&decode_b64(path, line, a)?).map_err(|e| damaged(path, line, e)))
        .collect()
}

impl Journal {
    /// Replays the records of one file.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = fs::read(path)
            .map_err(|e| Error::runtime(format!("cannot read journal {}: {e}", path.display())))?;
        Self::parse(path, &bytes)
    }

    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        // Split on newlines first: a torn tail may end inside a multi-byte character.
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // Every complete record ends with a newline; what follows the last one is a torn append.
        let tail = lines.pop().unwrap_or_default();
        let torn_tail = !tail.is_empty();
        let mut header: Option<Header> = None;
        let mut targets: Vec<JournalTarget> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            let n = i + 1;
            let record: Record = serde_json::from_slice(line).map_err(|e| damaged(path, n, e))?;
            let Record::Header(h) = &record else {
                if header.is_none() {
                    return Err(damaged(path, n, "the first record is not the header"));
                }
                let key = match &record {
                    Record::Planned { dn, .. }
                    | Record::Writing { dn, .. }
                    | Record::Written { dn }
                    | Record::Verified { dn }
                    | Record::Failed { dn, .. }
                    | Record::Reverting { dn, .. }
                    | Record::Reverted { dn } => dn.to_ascii_lowercase(),
                    Record::Header(_) => String::new(),
                };
                if let Record::Planned {
                    dn,
                    guid,
                    dc,
                    original_sd,
                    add,
                } = &record
                {
                    if index.contains_key(&key) {
                        return Err(damaged(path, n, format!("{dn} is planned twice")));
                    }
                    let added = decode_aces(path, n, add)?;
                    let guid = guid
                        .as_deref()
                        .map(|g| g.parse().map_err(|e| damaged(path, n, e)))
                        .transpose()?;
                    index.insert(key, targets.len());
                    targets.push(JournalTarget {
                        dn: dn.clone(),
                        guid,
                        dc: dc.clone(),
                        original: decode_b64(path, n, original_sd)?,
                        added,
                        written_sd: None,
                        reverting: None,
                        state: TargetState::Planned,
                    });
                    continue;
                }
                let Some(t) = index.get(&key).map(|&i| &mut targets[i]) else {
                    return Err(damaged(
                        path,
                        n,
                        "a record for a target that was never planned",
                    ));
                };
                t.state = match record {
                    Record::Writing { sd, .. } => {
                        t.written_sd = Some(decode_b64(path, n, &sd)?);
                        TargetState::Writing
                    }
                    Record::Written { .. } => TargetState::Written,
                    Record::Verified { .. } => TargetState::Verified,
                    Record::Failed { .. } => TargetState::Failed,
                    Record::Reverting {
                        sd,
                        taking,
                        remaining,
                        ..
                    } => {
                        t.reverting = Some(RevertSent {
                            sd: decode_b64(path, n, &sd)?,
                            taking: taking
                                .as_deref()
                                .map(|list| decode_aces(path, n, list))
                                .transpose()?,
                            remaining: decode_aces(path, n, &remaining)?,
                        });
                        TargetState::Reverting
                    }
                    Record::Reverted { .. } => TargetState::Reverted,
                    Record::Planned { .. } | Record::Header(_) => t.state,
                };
                continue;
            };
            if header.is_some() {
                return Err(damaged(path, n, "a second header"));
            }
            if h.version != VERSION {
                return Err(damaged(
                    path,
                    n,
                    format!("journal version {} (this build reads {VERSION})", h.version),
                ));
            }
            header = Some(h.clone());
        }
        let header = header.ok_or_else(|| damaged(path, 1, "no header"))?;
        Ok(Self {
            path: path.to_path_buf(),
            header,
            targets,
            torn_tail,
        })
    }

    /// Journals with targets still to revert for this forest and connector SID, newest first, and the files
    /// that could not be read.
    pub fn find(
        state_dir: &Path,
        forest: &str,
        connector_sid: &str,
    ) -> Result<(Vec<Journal>, Vec<Damaged>)> {
        let (journals, damaged) = Self::all_active(state_dir)?;
        let mine = journals
            .into_iter()
            .filter(|j| {
                j.header.forest.eq_ignore_ascii_case(forest)
                    && j.header.connector_sid == connector_sid
            })
            .collect();
        Ok((mine, damaged))
    }

    /// Every journal not yet fully reverted, newest first, and the damaged files.
    pub fn all_active(state_dir: &Path) -> Result<(Vec<Journal>, Vec<Damaged>)> {
        let dir = journal_dir(state_dir);
        let mut found = Vec::new();
        let mut bad = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((found, bad)),
            Err(e) => {
                return Err(Error::runtime(format!(
                    "cannot read the journal directory {}: {e}",
                    dir.display()
                ))
                .caused_by(e));
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.') && n.ends_with(SUFFIX))
            })
            .collect();
        paths.sort();
        paths.reverse();
        for path in paths {
            // A file with no complete line was cut short before its first fsync: no write ever followed it.
            if fs::read(&path).is_ok_and(|b| !b.contains(&b'\n')) {
                continue;
            }
            match Self::load(&path) {
                Ok(j) => found.push(j),
                Err(error) => bad.push(Damaged { path, error }),
            }
        }
        Ok((found, bad))
    }

    /// Targets whose ACEs may be on the directory.
    pub fn outstanding(&self) -> impl Iterator<Item = &JournalTarget> {
        self.targets.iter().filter(|t| t.state.may_hold_our_aces())
    }
}

/// Where journals live: `--state-dir`, else `$WRITEBACK_WIZARD_STATE_DIR`, else the platform state directory.
pub fn default_state_dir() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "writeback-wizard").ok_or_else(|| {
        Error::runtime("cannot find a home directory for the journal").hint("pass --state-dir DIR")
    })?;
    Ok(dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_path_buf())
}

fn journal_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("journal")
}

/// The state directory a journal file lives in, when it lives in one (`<state>/journal/<file>`).
pub fn state_dir_of(journal: &Path) -> Option<&Path> {
    let dir = journal.parent()?;
    (dir.file_name()? == "journal")
        .then(|| dir.parent())
        .flatten()
}

/// One forest's lock in one state directory, held by the run that applies or reverts there: a second
/// `apply` or `revert` of the same forest waits or is refused instead of planning and writing the same
/// objects at once. It is an flock on `<state>/locks/<forest>.lock`, so it goes with the process however
/// that ends (no stale lock to clean up); the file names the holder's pid for the message. Taking it again
/// in the same process shares the one lock.
#[derive(Clone)]
pub struct ForestLock {
    _held: Arc<File>,
}

/// What to do when another run holds the lock.
#[derive(Clone, Copy)]
pub enum WhenLocked<'a> {
    Refuse,
    /// Wait for it, after telling the user why (once).
    Wait(&'a (dyn Fn(&str) + Sync)),
}

fn held_locks() -> &'static Mutex<HashMap<PathBuf, std::sync::Weak<File>>> {
    static HELD: std::sync::OnceLock<Mutex<HashMap<PathBuf, std::sync::Weak<File>>>> =
        std::sync::OnceLock::new();
    HELD.get_or_init(Default::default)
}

impl ForestLock {
    pub async fn take(state_dir: &Path, forest: &str, when_locked: WhenLocked<'_>) -> Result<Self> {
        let dir = state_dir.join("locks");
        let path = dir.join(format!("{}.lock", sanitize(&forest.to_lowercase())));
        let fail = |e: std::io::Error| {
            Error::runtime(format!("cannot lock {}: {e}", path.display()))
                .hint("check the state directory (--state-dir)")
                .caused_by(e)
        };
        if let Some(held) = held_locks()
            .lock()
            .ok()
            .and_then(|m| m.get(&path).and_then(std::sync::Weak::upgrade))
        {
            return Ok(Self { _held: held });
        }
        create_private_dir(&dir).map_err(fail)?;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(fail)?;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another writeback-wizard run".to_string()
                    } else {
                        format!("another writeback-wizard run ({holder})")
                    };
                    let message = format!(
                        "forest {forest} is being changed by {who} with the state directory {}",
                        state_dir.display()
                    );
                    match when_locked {
                        WhenLocked::Refuse => {
                            return Err(Error::runtime(message).hint(
                                "wait until it has finished, or run again with --wait; nothing was written",
                            ));
                        }
                        WhenLocked::Wait(tell) => {
                            if !told {
                                tell(&format!("{message}: waiting for it to finish ..."));
                                told = true;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    }
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
            }
        }
        file.set_len(0).map_err(fail)?;
        file.write_all(format!("pid {}\n", std::process::id()).as_bytes())
            .map_err(fail)?;
        let held = Arc::new(file);
        if let Ok(mut m) = held_locks().lock() {
            m.retain(|_, w| w.strong_count() > 0);
            m.insert(path, Arc::downgrade(&held));
        }
        Ok(Self { _held: held })
    }
}

/// Appends records to one journal; each [`JournalWriter::record`] returns once the record is on disk.
#[derive(Clone)]
pub struct JournalWriter {
    inner: Arc<WriterInner>,
}

struct WriterInner {
    path: PathBuf,
    file: Mutex<Appender>,
    /// How many records are known to be on disk; held while syncing, so concurrent writers share one fsync.
    synced: tokio::sync::Mutex<u64>,
    /// Set by any write or sync error: no record is appended and no fsync is tried after it (a failed fsync
    /// is reported once by the kernel and would look like success when retried).
    poisoned: AtomicBool,
}

struct Appender {
    /// Holds the journal's exclusive lock (flock) for as long as the writer lives: an apply and a revert,
    /// or two reverts, never work on one journal at a time.
    file: File,
    /// Records appended so far.
    count: u64,
    /// The file's length after the last complete record.
    good_len: u64,
}

/// Why a journal could not be opened for revert.
#[derive(Debug)]
pub enum OpenError {
    /// Another run (an apply still writing, or another revert) holds it.
    Busy(PathBuf),
    Failed(Error),
}

impl JournalWriter {
    /// Creates a new journal with the header and one `planned` record per target, durably (file and
    /// directory synced) and locked before it returns.
    pub fn create(state_dir: &Path, header: &Header, planned: &[Record]) -> Result<Self> {
        let dir = journal_dir(state_dir);
        let fail = |e: std::io::Error| {
            Error::runtime(format!("cannot write the journal in {}: {e}", dir.display()))
                .hint("nothing was written to the directory; fix the state directory (--state-dir) and run again")
        };
        create_private_dir(&dir).map_err(fail)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = dir.join(format!(
            "{nanos:024}-{}-{}{SUFFIX}",
            std::process::id(),
            sanitize(&header.forest)
        ));
        let mut text = Vec::new();
        for record in std::iter::once(&Record::Header(header.clone())).chain(planned) {
            text.extend(line(record).map_err(fail)?);
        }
        let mut file = private_file(&path).map_err(fail)?;
        file.lock().map_err(fail)?;
        file.write_all(&text).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        File::open(&dir).and_then(|d| d.sync_all()).map_err(fail)?;
        let count = u64::try_from(planned.len())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
        Ok(Self::from_file(path, file, count, len))
    }

    /// Locks an existing journal for revert and reads it under the lock. A torn last line left by a crash is
    /// cut off first, so that the next record starts on a line of its own.
    pub fn open(path: &Path) -> std::result::Result<(Self, Journal), OpenError> {
        let fail = |e: std::io::Error| {
            OpenError::Failed(
                Error::runtime(format!(
                    "cannot open journal {} to update it: {e}",
                    path.display()
                ))
                .caused_by(e),
            )
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(OpenError::Busy(path.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(fail)?;
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        if complete < bytes.len() {
            file.set_len(u64::try_from(complete).unwrap_or(0))
                .map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        let journal = Journal::parse(path, &bytes[..complete]).map_err(OpenError::Failed)?;
        let len = u64::try_from(complete).unwrap_or(0);
        Ok((Self::from_file(path.to_path_buf(), file, 0, len), journal))
    }

    fn from_file(path: PathBuf, file: File, count: u64, good_len: u64) -> Self {
        Self {
            inner: Arc::new(WriterInner {
                path,
                file: Mutex::new(Appender {
                    file,
                    count,
                    good_len,
                }),
                synced: tokio::sync::Mutex::new(count),
                poisoned: AtomicBool::new(false),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends `record` and returns once it (and everything appended before it) is on disk.
    pub async fn record(&self, record: &Record) -> Result<()> {
        self.record_all(std::slice::from_ref(record)).await
    }

    /// Appends `records` (in one write) and returns once they are on disk: one fsync for a batch.
    pub async fn record_all(&self, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        let fail = |e: std::io::Error| {
            inner.poisoned.store(true, Ordering::SeqCst);
            Error::runtime(format!(
                "cannot update the journal {}: {e}",
                inner.path.display()
            ))
            .hint("no write was started after this; the journal still names every write that was sent (written ones, and any still in flight as `writing`)")
        };
        if inner.poisoned.load(Ordering::SeqCst) {
            return Err(fail(std::io::Error::other(
                "an earlier journal write failed",
            )));
        }
        let mut bytes = Vec::new();
        for record in records {
            bytes.extend(line(record).map_err(fail)?);
        }
        let n = u64::try_from(records.len()).unwrap_or(u64::MAX);
        let (seq, file) = {
            let mut a = inner
                .file
                .lock()
                .map_err(|_| fail(std::io::Error::other("journal lock poisoned")))?;
            // One call for the batch; if it fails part-way, cut the partial lines off so nothing follows them.
            if let Err(e) = a.file.write_all(&bytes) {
                let _ = a.file.set_len(a.good_len);
                return Err(fail(e));
            }
            a.good_len += u64::try_from(bytes.len()).unwrap_or(0);
            a.count += n;
            (a.count, a.file.try_clone().map_err(fail)?)
        };
        let mut synced = inner.synced.lock().await;
        if inner.poisoned.load(Ordering::SeqCst) {
            return Err(fail(std::io::Error::other(
                "an earlier journal write failed",
            )));
        }
        if *synced >= seq {
            return Ok(());
        }
        let upto = inner.file.lock().map(|a| a.count).unwrap_or(seq);
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|e| fail(std::io::Error::other(e)))?
            .map_err(fail)?;
        *synced = upto.max(seq);
        Ok(())
    }

    /// Renames the journal once nothing in it is outstanding (kept for the record, ignored by later reverts),
    /// while still holding its lock.
    pub fn mark_done(&self) -> Result<PathBuf> {
        let path = &self.inner.path;
        let mut target = path.as_os_str().to_owned();
        target.push(DONE_SUFFIX);
        let target = PathBuf::from(target);
        fs::rename(path, &target).map_err(|e| {
            Error::runtime(format!("cannot mark {} as reverted: {e}", path.display())).caused_by(e)
        })?;
        Ok(target)
    }
}

pub(crate) fn line(record: &Record) -> std::io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Base64 of descriptor or ACE bytes, as records hold them.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
