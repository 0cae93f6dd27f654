//! What the back end tells the wizard, as plain data: no sessions, no sockets, no secrets. The runtime's
//! back-end adapter builds these from the `grants` and `cloud` results; the model stores them and the views
//! draw them.

use crate::error::Error;

/// A device-code sign-in waiting for the user: show the code and the URL while the runtime polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrompt {
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
}

/// The cloud side after a sign-in: who, which tenant, the role verdict, warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSummary {
    pub signed_in: String,
    pub tenant: String,
    pub verdict: Verdict,
    pub message: String,
    pub warnings: Vec<String>,
    /// The tenant's verified domains (for the UPN-suffix warnings, worked out once the forests are known).
    pub verified_domains: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    PassWithWarning,
    Refuse,
}

/// A directory after connecting, binding, discovering the forest and resolving the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryInfo {
    pub forest: String,
    /// (naming context, DNS name) of every domain of the forest.
    pub domains: Vec<(String, String)>,
    /// The forest's UPN suffixes: its domains' DNS names and the extra suffixes it allows.
    pub upn_suffixes: Vec<String>,
    pub connector_dn: String,
    pub connector_sid: String,
}

/// One child of an OU-tree node, as a one-level search returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuEntry {
    pub dn: String,
    pub name: String,
    pub is_ou: bool,
}

/// The plan of one directory, for the Ready to configure page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub forest: String,
    pub connector_sid: String,
    pub targets: Vec<TargetSummary>,
    pub warnings: Vec<String>,
    /// Why apply would refuse this forest before any write (a DACL to change that the admin may not
    /// change), with its hint; Configure is disabled while any directory has one.
    pub refusal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSummary {
    pub dn: String,
    pub kind: String,
    pub aces_to_add: usize,
    pub writable: bool,
    pub sddl_before: String,
    pub sddl_after: String,
}

impl PlanSummary {
    pub fn aces(&self) -> usize {
        self.targets.iter().map(|t| t.aces_to_add).sum()
    }

    pub fn changed(&self) -> usize {
        self.targets.iter().filter(|t| t.aces_to_add > 0).count()
    }
}

/// One step of `apply` as it reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyEvent {
    pub done: usize,
    pub total: usize,
    pub dn: String,
    pub ok: bool,
    pub text: String,
}

/// How a run of `apply` ended, per directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyResult {
    pub directories: Vec<DirectoryResult>,
    /// Cancel was pressed: the directories after the one in progress were not touched.
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectoryResult {
    pub forest: String,
    /// Why this directory's apply stopped or could not start (its objects' own failures are in `failed`).
    pub error: Option<String>,
    pub journal: Option<String>,
    pub written: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub unchanged: Vec<String>,
    /// Objects not written because of Cancel (or an error before them).
    pub skipped: Vec<String>,
}

impl DirectoryResult {
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.failed.is_empty()
    }
}

/// What the Additional tasks page shows after running a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutput {
    /// View current configuration: saved answers, the last journal, and a live check.
    Current {
        answers_toml: String,
        last_journal: Option<String>,
        check: Vec<CheckSummary>,
        cloud: Option<CloudSummary>,
        /// Directories that could not be checked: (forest, error). The others are shown all the same.
        failed: Vec<(String, String)>,
    },
    /// Troubleshoot: the check with every finding and its fix, and every user in scope (`check --users`).
    Troubleshoot {
        check: Vec<CheckSummary>,
        cloud: Option<CloudSummary>,
        users: Vec<UsersSummary>,
        /// Directories that could not be checked: (forest, error).
        failed: Vec<(String, String)>,
    },
    /// What revert would take back, per directory: (forest, journal targets); and the directories whose
    /// journals could not be read: (forest, error).
    RevertPreview {
        list: Vec<(String, Vec<String>)>,
        failed: Vec<(String, String)>,
    },
    /// What revert did: (dn, result) per object, and failures (an object, a journal, or a whole directory
    /// named "forest NAME").
    Reverted {
        done: Vec<(String, String)>,
        failed: Vec<(String, String)>,
    },
}

/// `check --users` for one directory: the counts, and the users the connector cannot fully serve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsersSummary {
    pub forest: String,
    /// The directory's index in the answers (for `explain`).
    pub directory: usize,
    pub users: usize,
    pub fully_covered: usize,
    pub blocked: usize,
    /// (reason kind, users blocked by it)
    pub by_reason: Vec<(String, usize)>,
    /// (domain root, granted, detail) for Unexpire Password.
    pub unexpire: Vec<(String, bool, String)>,
    /// (dn, one line per refused right) for the first blocked users.
    pub blocked_users: Vec<(String, Vec<String>)>,
    /// Blocked users beyond those listed.
    pub more_blocked: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSummary {
    pub forest: String,
    pub connector: String,
    /// (dn, right, state) with state "present" | "missing" | "denied".
    pub rights: Vec<(String, String, &'static str)>,
    /// (kind, dn, detail, fix)
    pub risks: Vec<(String, String, String, String)>,
    pub missing: usize,
}

/// A back-end error in the form the pages show: the message and its hint.
pub type Failure = Error;
