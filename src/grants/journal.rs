//! The journal: before any security descriptor is written, its original goes to a file in the state directory,
//! so `revert` can take back exactly what we added. Files are written atomically (temp file, fsync, rename,
//! fsync of the directory) with mode 0600. They hold descriptors and SIDs, never secrets.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub dn: String,
    /// The DACL-only descriptor as read before the first write, base64.
    pub original_sd: String,
    /// Each ACE we inserted, base64 of its bytes.
    pub added_aces: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub created_unix: u64,
    pub forest: String,
    pub url: String,
    pub connector_sid: String,
    pub entries: Vec<JournalEntry>,
}

impl JournalEntry {
    pub fn new(dn: &str, original: &[u8], added: &[Vec<u8>]) -> Self {
        Self {
            dn: dn.to_string(),
            original_sd: B64.encode(original),
            added_aces: added.iter().map(|a| B64.encode(a)).collect(),
        }
    }

    pub fn original(&self) -> Result<Vec<u8>> {
        B64.decode(&self.original_sd)
            .map_err(|e| Error::runtime(format!("journal entry for {} is damaged: {e}", self.dn)))
    }

    pub fn added(&self) -> Result<Vec<Vec<u8>>> {
        self.added_aces
            .iter()
            .map(|a| {
                B64.decode(a).map_err(|e| {
                    Error::runtime(format!("journal entry for {} is damaged: {e}", self.dn))
                })
            })
            .collect()
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

const ACTIVE_SUFFIX: &str = ".json";
const REVERTED_SUFFIX: &str = ".reverted";

impl Journal {
    /// Writes the journal durably; returns its path.
    pub fn save(&self, state_dir: &Path) -> Result<PathBuf> {
        let dir = journal_dir(state_dir);
        let fail = |e: std::io::Error| {
            Error::runtime(format!("cannot write the journal in {}: {e}", dir.display())).hint("nothing was written to the directory; fix the state directory (--state-dir) and run again")
        };
        create_private_dir(&dir).map_err(fail)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("{nanos:024}-{}{ACTIVE_SUFFIX}", sanitize(&self.forest));
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let text = serde_json::to_vec_pretty(self).map_err(|e| fail(std::io::Error::other(e)))?;
        {
            let mut f = private_file(&tmp).map_err(fail)?;
            f.write_all(&text).map_err(fail)?;
            f.sync_all().map_err(fail)?;
        }
        fs::rename(&tmp, &path).map_err(fail)?;
        File::open(&dir).and_then(|d| d.sync_all()).map_err(fail)?;
        Ok(path)
    }

    /// Journals not yet reverted for this forest and connector, newest first.
    pub fn active(
        state_dir: &Path,
        forest: &str,
        connector_sid: &str,
    ) -> Result<Vec<(PathBuf, Journal)>> {
        let dir = journal_dir(state_dir);
        let mut found = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => {
                return Err(Error::runtime(format!(
                    "cannot read the journal directory {}: {e}",
                    dir.display()
                )));
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || !name.ends_with(ACTIVE_SUFFIX) {
                continue;
            }
            let text = fs::read(&path)
                .map_err(|e| Error::runtime(format!("cannot read {}: {e}", path.display())))?;
            let journal: Journal = serde_json::from_slice(&text).map_err(|e| {
                Error::runtime(format!("journal {} is damaged: {e}", path.display()))
                    .hint("move it aside to continue; it holds original descriptors")
            })?;
            if journal.forest.eq_ignore_ascii_case(forest) && journal.connector_sid == connector_sid
            {
                found.push((path, journal));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(found)
    }

    /// Marks a journal as reverted (kept for the record, ignored by later reverts).
    pub fn mark_reverted(path: &Path) -> Result<()> {
        let mut target = path.as_os_str().to_owned();
        target.push(REVERTED_SUFFIX);
        fs::rename(path, &target)
            .map_err(|e| Error::runtime(format!("cannot mark {} as reverted: {e}", path.display())))
    }
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
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_privately_and_finds_by_forest_and_connector() {
        let dir = std::env::temp_dir().join(format!("wbw-journal-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let j = Journal {
            version: 1,
            created_unix: 1,
            forest: "corp.example.test".into(),
            url: "ldaps://x".into(),
            connector_sid: "S-1-5-21-1-2-3-4".into(),
            entries: vec![JournalEntry::new("OU=A,DC=x", &[1, 2, 3], &[vec![4, 5]])],
        };
        let path = j.save(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let found = Journal::active(&dir, "CORP.example.test", "S-1-5-21-1-2-3-4").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.entries[0].original().unwrap(), vec![1, 2, 3]);
        assert!(
            Journal::active(&dir, "corp.example.test", "S-1-5-21-9")
                .unwrap()
                .is_empty()
        );
        Journal::mark_reverted(&path).unwrap();
        assert!(
            Journal::active(&dir, "corp.example.test", "S-1-5-21-1-2-3-4")
                .unwrap()
                .is_empty()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
