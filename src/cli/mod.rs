//! The command line: clap definitions here, the commands in [`commands`], text and JSON output in [`render`].

mod commands;
mod progress;
mod render;
mod signals;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::secret::SecretRef;

pub use commands::run;

const LONG_ABOUT: &str = "\
Grant, check and revert the Active Directory permissions that Microsoft Entra SSPR password writeback needs, \
over LDAP, from any terminal.

The connector account gets Reset Password, Change Password, Write lockoutTime and Write pwdLastSet on descendant \
user objects of every domain root of the forest (scope = \"domains\") or of the OUs you list (scope = \"selected\"), \
plus Unexpire Password on the domain roots and, if you opt in, the same rights on AdminSDHolder.

Every command reads an answers file (see assets/answers.example.toml). Only the DACL is read and written (SD flags \
control), the original of every descriptor is journaled before it is changed, and nothing is written when nothing \
changes.

Without a command (or with `wizard`), writeback-wizard opens the wizard in the terminal: the pages of the Azure AD \
Connect configuration wizard, from Welcome to Configuration complete, driving the same plan/apply/check/revert. \
It needs a terminal; for unattended runs use plan, then apply --answers FILE --yes. The wizard logs to wizard.log \
in the state directory (~/.local/state/writeback-wizard/wizard.log, or --state-dir), never to the terminal, and \
Configure saves the answers to ~/.config/writeback-wizard/answers.toml before the first write.

Typical use:
  writeback-wizard                                        # the wizard
  writeback-wizard wizard --answers answers.toml          # the wizard with answers preloaded
  writeback-wizard plan   --answers answers.toml          # what would change; writes nothing
  writeback-wizard apply  --answers answers.toml          # shows the plan, asks, writes, verifies
  writeback-wizard check  --answers answers.toml --json   # exit 3 when a permission is missing
  writeback-wizard revert --answers answers.toml --yes    # takes back exactly what apply added";

const EXIT_CODES: &str = "\
Exit codes:
  0  success (check: every required permission is present)
  1  error: the directory, the network or the machine refused; nothing further was written
  2  usage: the arguments or the answers are wrong (found before contacting a DC, or by the DC: an OU,
     account or forest that does not exist there); nothing was written
  3  check: at least one required permission is missing
  130, 143, 129  stopped by Ctrl-C, SIGTERM or SIGHUP (128 + the signal): apply and revert send no new
     write after the first one, wait for those already sent and say what was written; a second one stops
     at once (the journal is consistent either way)";

/// Grant, check and revert SSPR password writeback permissions in Active Directory.
#[derive(Debug, Parser)]
#[command(name = "writeback-wizard", version, long_about = LONG_ABOUT, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Open the wizard with these answers preloaded (the same as `wizard --answers FILE`); a command takes
    /// its own --answers after its name.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Directory for the journal of original security descriptors and the wizard's log (wizard.log).
    ///
    /// Defaults to the platform's state directory (on Linux ~/.local/state/writeback-wizard). `revert` reads
    /// the journal from here, so use the same directory for apply and revert.
    #[arg(
        long,
        global = true,
        env = "WRITEBACK_WIZARD_STATE_DIR",
        value_name = "DIR"
    )]
    pub state_dir: Option<PathBuf>,

    /// Sign-in endpoint instead of the cloud's own (overrides cloud.authority_url; https://, or http:// on
    /// loopback).
    #[arg(long, global = true, value_name = "URL")]
    pub authority_url: Option<String>,

    /// Microsoft Graph endpoint instead of the cloud's own (overrides cloud.graph_url).
    #[arg(long, global = true, value_name = "URL")]
    pub graph_url: Option<String>,

    /// The DNS server that finds the DCs (SRV records) of every directory without a url: IP or IP:PORT
    /// (overrides dns_server in the answers; default: the system resolver).
    #[arg(long, global = true, value_name = "ADDR")]
    pub dns_server: Option<String>,

    /// Seconds to wait for a DC to accept the connection and complete TLS (overrides connect_timeout in
    /// the answers; default 10).
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout: Option<u32>,

    /// Seconds to wait for a DC's answer to any one operation (overrides operation_timeout in the answers;
    /// default 60). A DC that stops answering ends the run within this bound, exit 1, saying which objects
    /// were written and which are unknown; run the same command again once the DC answers.
    #[arg(long, global = true, value_name = "SECS")]
    pub operation_timeout: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the wizard in the terminal (the default without a command).
    ///
    /// Pages: Welcome, Additional tasks, Connect to Azure AD, Connect your directories, Domain and OU
    /// filtering, Optional features, Ready to configure, Configuring, Configuration complete. Keys: Tab and
    /// Shift-Tab move, Enter presses the focused button, Space toggles, Esc goes back, Ctrl-S saves the
    /// answers, ? or F1 shows the keys, q or Ctrl-C quits. Log: wizard.log in the state directory.
    Wizard(WizardArgs),
    /// Show, per target, the current DACL, the ACEs to add and the DACL after; writes nothing.
    Plan(CommonArgs),
    /// Show the plan, ask, then grant: journal, write, read back and verify.
    Apply(WriteArgs),
    /// Report which required permissions are present and what in scope would still block a reset.
    ///
    /// Exits with 3 when a required permission is missing, denied or uncertain. Each right is decided on the
    /// objects the grant reaches, as the DC decides it: the target's DACL in stored order for the connector's
    /// token, generic rights mapped, a deny counted only where its inheritance takes it. Risks reported: OUs
    /// or users with inheritance disabled, protected accounts (adminCount=1), deny ACEs that take a right
    /// away from the connector (or a group it is in), and a connector account that is disabled or locked out.
    /// A right the connector holds through a group counts as present ("via GROUP").
    ///
    /// With --users: for every user in scope, whether the connector can Reset, Change, write lockoutTime and
    /// write pwdLastSet, decided the way the DC decides it (its groups, deny ACEs, stored order), with the
    /// reason for each refusal; and Unexpire Password on each domain root. A verdict that an ACE this tool
    /// cannot evaluate (or a group of another domain the token cannot list) could change is "uncertain",
    /// never allowed. Exit 3 when any user is blocked or uncertain.
    Check(CheckArgs),
    /// Explain, for one user, each right the connector needs: the ACE that decides it (or why none does), where
    /// that ACE sits, and the fix.
    Explain(ExplainArgs),
    /// Remove exactly the rights that apply added (from its journals), leaving any other change alone.
    ///
    /// Only objects the journal says apply wrote are touched; the connector is matched by the SID in the
    /// journal, so revert works after the connector account was deleted or renamed. With --answers every
    /// journal of each directory's forest and connector is reverted; with --journal FILE just that one,
    /// without an answers file (the journal says which DC to use; the admin password is asked for).
    Revert(RevertArgs),
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The answers file (TOML, version 1).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "journal",
        conflicts_with = "journal"
    )]
    pub answers: Option<PathBuf>,

    /// Revert one journal file (in the state directory's journal/ folder) without an answers file.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// With --journal: bind as this account instead of the admin the journal names.
    #[arg(long, value_name = "ACCOUNT", conflicts_with = "answers")]
    pub admin: Option<String>,

    /// With --journal: where the admin password comes from: env:NAME, file:PATH or prompt.
    #[arg(
        long,
        value_name = "REF",
        conflicts_with = "answers",
        default_value = "prompt",
        value_parser = parse_secret_ref
    )]
    pub admin_password: SecretRef,

    /// Print machine-readable JSON on standard output instead of text.
    #[arg(long)]
    pub json: bool,

    /// When another apply or revert of the same forest is running with this state directory, wait for it
    /// instead of stopping (exit 1) before anything is written.
    #[arg(long)]
    pub wait: bool,

    /// Do not ask for confirmation. Required when standard input is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

impl Command {
    /// The name a user types.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Wizard(_) => "wizard",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Check(_) => "check",
            Command::Explain(_) => "explain",
            Command::Revert(_) => "revert",
        }
    }
}

fn parse_secret_ref(text: &str) -> Result<SecretRef, String> {
    SecretRef::parse(text)
}

#[derive(Debug, Args)]
pub struct WizardArgs {
    /// Preload these answers (the same file and validation plan/apply use); every page can still be edited.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The answers file (TOML, version 1).
    #[arg(long, value_name = "FILE")]
    pub answers: PathBuf,

    /// Print machine-readable JSON on standard output instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Check every user in scope instead of the targets' ACEs (JSON: one record per user).
    #[arg(long)]
    pub users: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The user: sAMAccountName, DOMAIN\name, UPN or DN.
    #[arg(value_name = "USER")]
    pub user: String,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Do not ask for confirmation. Required when standard input is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Also add the connector's own ACE where it already holds the right through a group.
    #[arg(long)]
    pub explicit: bool,

    /// When another apply or revert of the same forest is running with this state directory, wait for it
    /// instead of stopping (exit 1) before anything is read or written.
    #[arg(long)]
    pub wait: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_each_command_and_flag() {
        let cli =
            Cli::try_parse_from(["writeback-wizard", "plan", "--answers", "a.toml", "--json"])
                .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Plan(CommonArgs { json: true, .. }))
        ));
        let cli = Cli::try_parse_from([
            "writeback-wizard",
            "apply",
            "--answers",
            "a.toml",
            "--yes",
            "--state-dir",
            "/tmp/s",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Apply(WriteArgs { yes: true, .. }))
        ));
        assert_eq!(cli.state_dir, Some(PathBuf::from("/tmp/s")));
        let cli = Cli::try_parse_from(["writeback-wizard", "revert", "--answers", "a.toml", "-y"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Revert(RevertArgs { yes: true, .. }))
        ));
        let cli = Cli::try_parse_from([
            "writeback-wizard",
            "revert",
            "--journal",
            "j.jsonl",
            "--admin-password",
            "env:X",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Revert(RevertArgs {
                journal: Some(_),
                answers: None,
                ..
            }))
        ));
        assert!(
            Cli::try_parse_from(["writeback-wizard", "revert"]).is_err(),
            "--answers or --journal"
        );
        assert!(
            Cli::try_parse_from([
                "writeback-wizard",
                "revert",
                "--answers",
                "a",
                "--admin",
                "x"
            ])
            .is_err(),
            "--admin goes with --journal"
        );
        assert!(
            Cli::try_parse_from([
                "writeback-wizard",
                "revert",
                "--journal",
                "j",
                "--admin-password",
                "hunter2"
            ])
            .is_err(),
            "a password itself is refused"
        );
        assert!(
            Cli::try_parse_from(["writeback-wizard", "check"]).is_err(),
            "--answers is required"
        );
        let cli = Cli::try_parse_from([
            "writeback-wizard",
            "check",
            "--answers",
            "a",
            "--authority-url",
            "http://127.0.0.1:1",
            "--graph-url",
            "http://127.0.0.1:2",
        ])
        .unwrap();
        assert_eq!(cli.authority_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(cli.graph_url.as_deref(), Some("http://127.0.0.1:2"));
        assert!(
            Cli::try_parse_from(["writeback-wizard", "check", "--answers", "a", "--sever"])
                .is_err()
        );
        assert!(
            Cli::try_parse_from(["writeback-wizard"])
                .unwrap()
                .command
                .is_none()
        );
        let cli = Cli::try_parse_from(["writeback-wizard", "--answers", "a.toml"]).unwrap();
        assert!(cli.command.is_none() && cli.answers.is_some());
        let cli =
            Cli::try_parse_from(["writeback-wizard", "wizard", "--answers", "a.toml"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Wizard(WizardArgs { answers: Some(_) }))
        ));
    }
}
