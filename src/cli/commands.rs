//! What each subcommand does, in order: load and validate the answers (no I/O before that), then per directory
//! plan, ask where needed, and act.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::progress::Progress;
use super::render::{PlanView, check_text, cloud_text};
use super::signals::Stop;
use super::{Cli, Command, CommonArgs, ExplainArgs, RevertArgs, WriteArgs};
use crate::answers::{Answers, Directory};
use crate::cloud::PORTAL_STEP;
use crate::error::{Error, Result, exit};
use crate::grants::apply::ApplyEvent;
use crate::grants::journal::{ForestLock, Journal, WhenLocked, default_state_dir};
use crate::grants::plan::PlanOptions;
use crate::grants::revert::RevertEvent;
use crate::grants::{Plan, apply, check, effective, explain, revert};

pub async fn run(cli: Cli) -> Result<u8> {
    let _ = DNS_SERVER.set(cli.dns_server.clone());
    let _ = TIMEOUTS.set((cli.connect_timeout, cli.operation_timeout));
    let state_dir = || cli.state_dir.clone().map_or_else(default_state_dir, Ok);
    if let (Some(command), Some(_)) = (&cli.command, &cli.answers) {
        return Err(Error::usage(format!(
            "--answers before the command opens the wizard; give it after the command: writeback-wizard {} --answers FILE",
            command.name()
        )));
    }
    // The wizard owns the terminal and its signals; every other command stops as signals.rs says.
    let stop = match &cli.command {
        None | Some(Command::Wizard(_)) => None,
        Some(_) => Some(Stop::listen()),
    };
    let stop = || stop.clone().unwrap_or_else(Stop::listen);
    match &cli.command {
        None => wizard(cli.answers.clone(), &cli, &state_dir).await,
        Some(Command::Wizard(args)) => wizard(args.answers.clone(), &cli, &state_dir).await,
        Some(Command::Plan(args)) => plan_command(args).await,
        Some(Command::Apply(args)) => apply_command(args, &state_dir()?, &stop()).await,
        Some(Command::Check(args)) if args.users => check_users_command(&args.common).await,
        Some(Command::Check(args)) => check_command(&args.common, &cli).await,
        Some(Command::Explain(args)) => explain_command(args).await,
        Some(Command::Revert(args)) => revert_command(args, &state_dir()?, &stop()).await,
    }
}

async fn wizard(
    answers: Option<std::path::PathBuf>,
    cli: &Cli,
    state_dir: &dyn Fn() -> Result<std::path::PathBuf>,
) -> Result<u8> {
    crate::runtime::require_terminal()?;
    crate::runtime::run(crate::runtime::Options {
        answers,
        state_dir: state_dir()?,
        authority_url: cli.authority_url.clone(),
        graph_url: cli.graph_url.clone(),
    })
    .await
}

/// A line for the admin on standard error; control characters (from a name in the directory) escaped.
fn note(message: &str) {
    eprintln!("{}", crate::error::printable_lines(message));
}

/// `--dns-server`, set once when the command line is read.
static DNS_SERVER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn load(args: &CommonArgs) -> Result<Answers> {
    load_path(&args.answers)
}

/// `--connect-timeout` and `--operation-timeout`, set once when the command line is read.
static TIMEOUTS: std::sync::OnceLock<(Option<u32>, Option<u32>)> = std::sync::OnceLock::new();

/// Puts `--connect-timeout` and `--operation-timeout` into a directory.
fn with_timeouts(d: &mut Directory) {
    if let Some((connect, operation)) = TIMEOUTS.get() {
        d.connect_timeout = connect.or(d.connect_timeout);
        d.operation_timeout = operation.or(d.operation_timeout);
    }
}

/// Reads and validates an answers file, with `--dns-server` and the timeouts put in.
fn load_path(path: &Path) -> Result<Answers> {
    let mut answers = Answers::load(path)?;
    let server = DNS_SERVER.get().cloned().flatten();
    let timeouts = TIMEOUTS
        .get()
        .is_some_and(|(c, o)| c.is_some() || o.is_some());
    if server.is_some() || timeouts {
        for d in &mut answers.directories {
            if let Some(server) = &server {
                d.dns_server = Some(server.clone());
            }
            with_timeouts(d);
        }
        answers
            .validate()
            .map_err(|e| e.context("--dns-server, --connect-timeout or --operation-timeout"))?;
    }
    Ok(answers)
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn prepare(directory: &Directory, answers: &Answers) -> Result<Plan> {
    prepare_with(directory, answers, PlanOptions::default()).await
}

async fn prepare_with(
    directory: &Directory,
    answers: &Answers,
    options: PlanOptions,
) -> Result<Plan> {
    warn_settings(directory);
    note(&format!(
        "connecting to {} as {} ...",
        where_label(directory),
        signer(directory)
    ));
    let plan = Plan::prepare_with(directory, &answers.features, options).await?;
    note(&format!(
        "read {} security descriptor(s) in forest {}",
        plan.targets().len(),
        plan.forest.forest_name()
    ));
    Ok(plan)
}

async fn plan_command(args: &CommonArgs) -> Result<u8> {
    let answers = load(args)?;
    let mut views = Vec::new();
    for directory in &answers.directories {
        let plan = prepare(directory, &answers).await?;
        let view = PlanView::new(&plan);
        if !args.json {
            print!("{}", crate::error::printable_lines(&view.text()));
            println!("Nothing was written (plan).");
        }
        views.push(view);
        plan.session.unbind().await;
    }
    if args.json {
        print_json(&json!({ "command": "plan", "directories": views, "portal_step": PORTAL_STEP }));
    } else {
        println!("\nStill to do after apply: {PORTAL_STEP}");
    }
    Ok(exit::OK)
}

/// Asks on the terminal; without one, `--yes` is required.
fn confirm(question: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "refusing to write without confirmation: standard input is not a terminal",
        )
        .hint("review `plan` first, then pass --yes"));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::runtime(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// One line on how far an apply got: what is on the directory for sure, what may be, what was never sent.
fn apply_summary(outcome: &apply::ApplyOutcome) -> String {
    use apply::TargetResult as R;
    let count = |f: fn(&R) -> bool| outcome.results.iter().filter(|(_, r)| f(r)).count();
    let parts = [
        (
            count(|r| matches!(r, R::Verified { .. })),
            "written and verified",
        ),
        (
            count(|r| matches!(r, R::NotVerified(_))),
            "written, not verified",
        ),
        (
            count(|r| matches!(r, R::Unknown(_))),
            "sent without an answer (unknown)",
        ),
        (
            count(|r| matches!(r, R::Refused(_))),
            "failed before or at the write",
        ),
        (
            count(|r| matches!(r, R::Changed)),
            "changed since the plan (left alone)",
        ),
        (count(|r| matches!(r, R::NotStarted)), "not started"),
    ];
    let said: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    let last = outcome
        .results
        .iter()
        .rev()
        .find(|(_, r)| r.is_success())
        .map(|(dn, _)| format!(" (last verified: {dn})"))
        .unwrap_or_default();
    format!(
        "{}{last}; run the same apply again to finish (it writes only what is missing), or revert to take back what was written",
        said.join(", ")
    )
}

/// The forest locks for a run: taken before anything is read, so a second run neither plans on objects the
/// first is changing nor writes them twice.
async fn lock_forests<'a>(
    state_dir: &Path,
    forests: impl Iterator<Item = &'a str>,
    wait: bool,
) -> Result<Vec<ForestLock>> {
    let tell = |m: &str| note(m);
    let when_locked = if wait {
        WhenLocked::Wait(&tell)
    } else {
        WhenLocked::Refuse
    };
    let mut locks = Vec::new();
    for forest in forests {
        locks.push(ForestLock::take(state_dir, forest, when_locked).await?);
    }
    Ok(locks)
}

async fn apply_command(args: &WriteArgs, state_dir: &Path, stop: &Stop) -> Result<u8> {
    let answers = load(&args.common)?;
    let _locks = lock_forests(
        state_dir,
        answers.directories.iter().map(|d| d.forest.as_str()),
        args.wait,
    )
    .await?;
    // Every forest is planned (and so every input checked) before anything is written anywhere.
    let mut plans = Vec::new();
    for directory in &answers.directories {
        let plan = prepare_with(
            directory,
            &answers,
            PlanOptions {
                explicit: args.explicit,
            },
        )
        .await?;
        let view = PlanView::new(&plan);
        if !args.common.json {
            print!("{}", crate::error::printable_lines(&view.text()));
        }
        plans.push((plan, view));
    }
    // The admin's right to change every DACL is known now: refuse before the first write anywhere.
    if let Some(refusal) = plans.iter().find_map(|(plan, _)| plan.refusal()) {
        return Err(refusal);
    }
    let (aces, objects) = plans.iter().fold((0, 0), |(a, o), (_, v)| {
        (a + v.ace_count(), o + v.changed_count())
    });
    if objects > 0
        && !confirm(
            &format!("Write {aces} ACE(s) to {objects} object(s)?"),
            args.yes,
        )?
    {
        note("aborted: nothing was written.");
        return Ok(exit::ERROR);
    }
    stop.writing();
    let cancel = stop.flag();
    let (plans, views): (Vec<Plan>, Vec<PlanView>) = plans.into_iter().unzip();
    let progress = Progress::new(args.common.json, "writing", Some(objects as u64));
    let outcomes = apply::apply_all(&plans, state_dir, &cancel, &|_, e: ApplyEvent<'_>| {
        progress.inc();
        if !e.result.is_success() {
            progress.line(&format!("{}: {}", e.dn, e.result.describe()));
        }
    })
    .await;
    progress.finish();
    let outcomes = outcomes?;
    let mut reports = Vec::new();
    let mut failed = false;
    for ((plan, view), outcome) in plans.into_iter().zip(views).zip(outcomes) {
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                eprintln!("writeback-wizard: forest {}: {e}", view.forest);
                failed = true;
                reports.push(json!({ "plan": view, "error": e.message, "hint": e.hint }));
                plan.dcs.unbind().await;
                continue;
            }
        };
        if view.changed_count() == 0 {
            note(&format!(
                "forest {}: every permission is already in place; nothing written.",
                view.forest
            ));
        }
        if let Some(path) = &outcome.journal {
            note(&format!("journal: {}", path.display()));
        }
        if outcome.cancelled {
            let written = outcome.written().count();
            note(&format!(
                "forest {}: stopped: {written} object(s) were written before the stop (see the journal); the rest were left alone. Run the same apply again to finish, or revert to take back what was written.",
                view.forest
            ));
        }
        if let Some(e) = &outcome.aborted {
            eprintln!("writeback-wizard: {e}");
        }
        failed |= !outcome.all_verified();
        if !outcome.all_verified() {
            for url in plan.dcs.stalled().await {
                eprintln!(
                    "writeback-wizard: {url} stopped answering while writing (no answer within the operation timeout); nothing more was sent to it"
                );
            }
            note(&format!(
                "forest {}: {}",
                view.forest,
                apply_summary(&outcome)
            ));
        }
        reports.push(json!({
            "plan": view,
            "written": outcome.written().collect::<Vec<_>>(),
            "failed": outcome
                .results
                .iter()
                .filter(|(_, r)| !r.is_success())
                .map(|(dn, r)| json!({ "dn": dn, "error": r.describe() }))
                .collect::<Vec<_>>(),
            "cancelled": outcome.cancelled,
            "journal": outcome.journal,
        }));
        plan.dcs.unbind().await;
    }
    if args.common.json {
        print_json(
            &json!({ "command": "apply", "directories": reports, "portal_step": PORTAL_STEP }),
        );
    } else if !failed {
        println!(
            "Done. Prove it with: writeback-wizard check --answers {}",
            args.common.answers.display()
        );
        println!("Still to do: {PORTAL_STEP}");
    }
    Ok(match stop.exit_code() {
        Some(code) => code,
        None if failed => exit::ERROR,
        None => exit::OK,
    })
}

async fn check_command(args: &CommonArgs, cli: &Cli) -> Result<u8> {
    let mut answers = load(args)?;
    if let Some(cloud) = answers.cloud.as_mut() {
        cloud.authority_url = cli.authority_url.clone().or(cloud.authority_url.take());
        cloud.graph_url = cli.graph_url.clone().or(cloud.graph_url.take());
        answers.validate()?;
    }
    // Directories first: the forests' UPN suffixes feed the tenant's verified-domain check.
    let mut reports = Vec::new();
    let mut upn_suffixes = Vec::new();
    for directory in &answers.directories {
        warn_settings(directory);
        note(&format!(
            "connecting to {} as {} ...",
            where_label(directory),
            signer(directory)
        ));
        let checked = check::run(directory, &answers.features, |forest| {
            note(&format!(
                "reading the targets and everything below them in forest {} ...",
                forest.forest_name()
            ))
        })
        .await?;
        note(&format!(
            "read {} target(s) and their scope",
            checked.report.targets.len()
        ));
        reports.push(checked.report);
        upn_suffixes.extend(checked.upn_suffixes);
    }
    let cloud_report = match &answers.cloud {
        Some(cloud) => {
            note(&format!(
                "signing in to Microsoft Entra ID (tenant {}) ...",
                cloud.tenant
            ));
            Some(crate::cloud::check::check(cloud, &upn_suffixes).await?)
        }
        None => None,
    };
    // Printed in the wizard's order: Connect to Azure AD, then the directories.
    if !args.json {
        if let Some(report) = &cloud_report {
            print!("{}", crate::error::printable_lines(&cloud_text(report)));
        }
        for report in &reports {
            print!("{}", crate::error::printable_lines(&check_text(report)));
        }
    }
    let missing: usize = reports.iter().map(|r| r.missing).sum();
    let role_refused = cloud_report.as_ref().is_some_and(|r| !r.role.passes());
    if args.json {
        print_json(
            &json!({ "command": "check", "missing": missing, "directories": reports, "cloud": cloud_report }),
        );
    }
    Ok(if missing > 0 || role_refused {
        exit::MISSING_PERMISSIONS
    } else {
        exit::OK
    })
}

async fn revert_command(args: &RevertArgs, state_dir: &Path, stop: &Stop) -> Result<u8> {
    let mut reports = Vec::new();
    let mut complete = true;
    if let Some(path) = &args.journal {
        let journal = Journal::load(path)?;
        let h = &journal.header;
        let admin = args.admin.clone().unwrap_or_else(|| h.admin.clone());
        // The journal is a data file: its DC is shown and confirmed before a password goes there, and its
        // TLS is always verified (a lab that skips verification reverts with --answers instead).
        if h.connection.danger_skip_tls_verify || h.connection.allow_plaintext {
            return Err(Error::usage(format!(
                "journal {}: its DC {} was used without TLS verification; --journal only connects with verified TLS",
                path.display(),
                h.connection.url
            ))
            .hint("revert with --answers FILE (the answers that allowed it) instead"));
        }
        let _locks = lock_forests(state_dir, std::iter::once(h.forest.as_str()), args.wait).await?;
        let (directory, primary, pinned) = journal_dcs(&journal, &admin, &args.admin_password)?;
        let name = |url: &str, tls_name: &Option<String>| match tls_name {
            Some(n) => format!("{url} (certificate {n})"),
            None => url.to_string(),
        };
        let mut dcs_listed = vec![name(&primary.url, &primary.tls_name)];
        for (domain, p) in &pinned {
            let at = name(&p.settings.url, &p.settings.tls_name);
            if !dcs_listed.contains(&at) {
                dcs_listed.push(format!("{domain}: {at}"));
            }
        }
        let trust = match &h.connection.ca_file {
            Some(ca) => format!(", trusting the CA in {}", ca.display()),
            None => ", trusting the system's CAs".to_string(),
        };
        if !confirm(
            &format!(
                "Connect to {}{trust} (forest {}) as {}, as the journal says?",
                dcs_listed.join("; "),
                h.forest,
                signer(&directory)
            ),
            args.yes,
        )? {
            note("aborted: nothing was written.");
            return Ok(exit::ERROR);
        }
        note(&format!("connecting to {} ...", primary.url));
        let dcs = crate::ad::dcs::Dcs::open_pinned(&directory, Some(primary), pinned).await?;
        let journals = vec![journal];
        let (report, ok) = revert_journals(
            args,
            stop,
            &dcs,
            &journals,
            &[],
            usize::from(crate::answers::DEFAULT_MAX_IN_FLIGHT),
        )
        .await?;
        complete &= ok;
        reports.extend(report);
        dcs.unbind().await;
    } else if let Some(answers) = &args.answers {
        let answers = load_path(answers)?;
        let _locks = lock_forests(
            state_dir,
            answers.directories.iter().map(|d| d.forest.as_str()),
            args.wait,
        )
        .await?;
        let (_, damaged) = Journal::all_active(state_dir)?;
        for d in &damaged {
            eprintln!("writeback-wizard: {}", d.error);
        }
        // A damaged journal may record writes we can no longer take back: the revert is not complete.
        complete &= damaged.is_empty();
        for directory in &answers.directories {
            warn_settings(directory);
            note(&format!(
                "connecting to {} as {} ...",
                where_label(directory),
                signer(directory)
            ));
            let dcs = crate::ad::dcs::Dcs::open(directory).await?;
            let forest_name = dcs.forest().forest_name();
            let found = revert::journals_for(&dcs, directory, state_dir).await?;
            if let Some(n) = &found.note {
                note(n);
            }
            let (journals, sids) = (found.journals, found.sids);
            if journals.iter().all(|j| j.outstanding().next().is_none()) {
                note(&format!(
                    "forest {forest_name}: nothing to revert: no journal in {} records a write for connector {}.",
                    state_dir.display(),
                    sids.join(", ")
                ));
                reports.push(json!({ "forest": forest_name, "journals": [], "targets": [] }));
                dcs.unbind().await;
                continue;
            }
            let max = usize::from(
                directory
                    .max_in_flight
                    .unwrap_or(crate::answers::DEFAULT_MAX_IN_FLIGHT),
            );
            let (report, ok) = revert_journals(args, stop, &dcs, &journals, &damaged, max).await?;
            complete &= ok;
            reports.extend(report);
            dcs.unbind().await;
        }
    }
    if args.json {
        print_json(&json!({ "command": "revert", "directories": reports }));
    }
    Ok(match stop.exit_code() {
        Some(code) => code,
        None if complete => exit::OK,
        None => exit::ERROR,
    })
}

/// Shows what the journals would take back, asks, reverts; returns the JSON report and whether every
/// target is done.
async fn revert_journals(
    args: &RevertArgs,
    stop: &Stop,
    dcs: &crate::ad::dcs::Dcs,
    journals: &[Journal],
    damaged: &[crate::grants::journal::Damaged],
    max_in_flight: usize,
) -> Result<(Vec<serde_json::Value>, bool)> {
    let outstanding: usize = journals.iter().map(|j| j.outstanding().count()).sum();
    if !args.json {
        for j in journals {
            let count = j.outstanding().count();
            if count == 0 {
                continue;
            }
            println!(
                "journal {} (forest {}, connector {} = {}): take back our ACEs from {count} object(s):",
                j.path.display(),
                j.header.forest,
                j.header.connector,
                j.header.connector_sid
            );
            for t in j.outstanding() {
                println!("  {} [{}]", crate::error::printable(&t.dn), t.state.label());
            }
            let untouched = j.targets.len() - count;
            if untouched > 0 {
                println!(
                    "  ({untouched} other object(s) in this journal were never written or are already reverted: left alone)"
                );
            }
        }
    }
    if !confirm(&format!("Revert {outstanding} object(s)?"), args.yes)? {
        note("aborted: nothing was written.");
        return Ok((Vec::new(), false));
    }
    let paths: Vec<std::path::PathBuf> = journals.iter().map(|j| j.path.clone()).collect();
    let progress = Progress::new(args.json, "reverting", Some(outstanding as u64));
    stop.writing();
    let cancel = stop.flag();
    let outcome = revert::revert(dcs, &paths, max_in_flight, &cancel, &|e: RevertEvent<
        '_,
    >| {
        progress.inc();
        let worth_a_line = match e.result {
            revert::Reverted::Gone => true,
            revert::Reverted::NotStarted => false,
            r => !r.is_done(),
        };
        if worth_a_line {
            progress.line(&format!("{}: {}", e.dn, e.result.describe()));
        }
    })
    .await;
    progress.finish();
    let restored = outcome.targets.iter().filter(|(_, r)| r.is_done()).count();
    note(&format!("{restored} of {outstanding} object(s) done."));
    for path in &outcome.busy {
        eprintln!(
            "writeback-wizard: journal {} is in use by another run (an apply still writing, or another revert): skipped; run revert again when it has finished",
            path.display()
        );
    }
    for (path, e) in &outcome.failed_journals {
        eprintln!("writeback-wizard: journal {}: {e}", path.display());
    }
    let complete = outcome.complete() && !outcome.cancelled;
    if outcome.cancelled {
        let left = outcome
            .targets
            .iter()
            .filter(|(_, r)| matches!(r, revert::Reverted::NotStarted))
            .count();
        note(&format!(
            "stopped: {left} object(s) were not started and stay in the journal; run the same revert again to finish."
        ));
    } else if !complete {
        note(
            "revert is not complete: the objects above marked NOT REVERTED, LEFT ALONE or FAILED still need attention; the journal keeps them for the next run.",
        );
    }
    let report = journals
        .iter()
        .map(|j| {
            json!({
                "forest": j.header.forest,
                "journal": j.path,
                "connector_sid": j.header.connector_sid,
                "targets": outcome.targets.iter()
                    .filter(|(dn, _)| j.targets.iter().any(|t| &t.dn == dn))
                    .map(|(dn, r)| json!({ "dn": dn, "result": r.code(), "detail": r.describe() }))
                    .collect::<Vec<_>>(),
                "done": outcome.journals_done.contains(&j.path),
            })
        })
        .chain(
            damaged
                .iter()
                .map(|d| json!({ "damaged_journal": d.path, "error": d.error.message })),
        )
        .collect();
    Ok((report, complete))
}

/// Who signs in, for progress lines.
fn signer(directory: &Directory) -> String {
    match directory.auth {
        crate::answers::Auth::Kerberos => "the Kerberos ticket in KRB5CCNAME".to_string(),
        crate::answers::Auth::Simple => directory.admin.clone(),
    }
}

/// Where the first DC comes from, for progress lines.
fn where_label(directory: &Directory) -> String {
    match &directory.url {
        Some(url) => url.clone(),
        None => format!("a DC of {} (found through DNS)", directory.forest),
    }
}

/// The directory a journal was written for, and exactly the DCs it used: the first one, and per domain the
/// one each target was written on. Every DC must have been reached over verified TLS.
fn journal_dcs(
    journal: &Journal,
    admin: &str,
    password: &crate::secret::SecretRef,
) -> Result<(
    Directory,
    crate::ad::ConnectionSettings,
    std::collections::HashMap<String, crate::ad::dcs::Pinned>,
)> {
    let h = &journal.header;
    let c = &h.connection;
    let checked = |url: &str, tls: crate::answers::TlsMode, what: &str| {
        crate::answers::check_url(what, url, tls, false).map_err(|e| {
            e.context(format!("journal {}", journal.path.display()))
                .hint("this journal names a DC that is not reached over TLS; revert with --answers FILE instead")
        })
    };
    if c.url.is_empty() {
        return Err(Error::usage(format!(
            "journal {} does not say which DC its apply used",
            journal.path.display()
        ))
        .hint("revert with --answers FILE instead"));
    }
    if c.danger_skip_tls_verify || c.allow_plaintext {
        return Err(Error::usage(format!(
            "journal {}: its DC {} was used without TLS verification; --journal only connects with verified TLS",
            journal.path.display(),
            c.url
        ))
        .hint("revert with --answers FILE (the answers that allowed it) instead"));
    }
    checked(&c.url, c.tls, "url")?;
    let mut directory = Directory {
        forest: h.forest.clone(),
        url: Some(c.url.clone()),
        tls: c.tls,
        ca_file: c.ca_file.clone(),
        auth: c.auth,
        spn_host: c.spn_host.clone(),
        admin: admin.to_string(),
        admin_password: password.clone(),
        connector: h.connector.clone(),
        ..Directory::minimal()
    };
    with_timeouts(&mut directory);
    let timed = crate::ad::ConnectionSettings::from(&directory);
    let primary = crate::ad::ConnectionSettings {
        tls_name: c.tls_name.clone(),
        ..timed.clone()
    };
    let mut pinned = std::collections::HashMap::new();
    for t in &journal.targets {
        let (Some(dc), Ok(dn)) = (&t.dc, crate::ad::dn::Dn::parse(&t.dn)) else {
            continue;
        };
        if dc.url.is_empty() {
            continue;
        }
        checked(&dc.url, dc.tls, &format!("the DC of {}", t.dn))?;
        pinned.insert(
            dn.dns_name(),
            crate::ad::dcs::Pinned {
                settings: crate::ad::ConnectionSettings {
                    url: dc.url.clone(),
                    tls: dc.tls,
                    tls_name: dc.tls_name.clone(),
                    ..timed.clone()
                },
                admin: (!dc.admin.is_empty()).then(|| dc.admin.clone()),
            },
        );
    }
    Ok((directory, primary, pinned))
}

/// The unsafe settings of a directory, said on every run.
fn warn_settings(directory: &Directory) {
    for w in directory.security_warnings() {
        eprintln!("writeback-wizard: {w}");
    }
}

/// The connector's token and the schema the access check needs, for one planned directory.
async fn access_inputs(
    plan: &Plan,
) -> Result<(crate::ad::access::Tokens, crate::ad::access::SchemaGuids)> {
    let attributes = effective::schema_attributes();
    futures::try_join!(
        crate::ad::access::token(&plan.dcs, &plan.connector),
        crate::ad::access::SchemaGuids::load(&plan.session, &plan.forest, &attributes),
    )
}

async fn check_users_command(args: &CommonArgs) -> Result<u8> {
    use std::io::Write as _;
    let answers = load(args)?;
    let mut stdout = std::io::stdout().lock();
    let mut summaries = Vec::new();
    let mut first = true;
    if args.json {
        let _ = write!(stdout, "{{\"command\":\"check\",\"users\":[");
    }
    let mut blocked = false;
    for directory in &answers.directories {
        let plan = prepare(directory, &answers).await?;
        let (token, schema) = access_inputs(&plan).await?;
        if !args.json {
            let _ = writeln!(
                stdout,
                "forest {}: users in scope the connector {} ({}) cannot fully serve:",
                plan.forest.forest_name(),
                directory.connector,
                plan.connector.sid
            );
        }
        let progress = Progress::new(args.json, "users checked", None);
        let summary = effective::check_users(&plan, &token, &schema, |r| {
            progress.inc();
            if args.json {
                let sep = if first { "" } else { "," };
                first = false;
                let _ = write!(
                    stdout,
                    "{sep}\n{}",
                    serde_json::to_string(r).unwrap_or_default()
                );
            } else if !r.covered() {
                progress.suspend(|| {
                    let _ = writeln!(stdout, "\n{}", crate::error::printable(&r.dn));
                    for reason in &r.reasons {
                        let _ = writeln!(
                            stdout,
                            "  {}: {}",
                            reason.right.label(),
                            crate::error::printable(&reason.detail)
                        );
                    }
                });
            }
        })
        .await;
        progress.finish();
        let summary = summary?;
        blocked |= summary.any_blocked();
        if !args.json {
            let _ = write!(stdout, "{}", users_summary_text(&summary));
        }
        summaries.push(json!({ "forest": plan.forest.forest_name(), "summary": summary }));
        plan.session.unbind().await;
    }
    if args.json {
        let _ = writeln!(
            stdout,
            "\n],\"directories\":{}}}",
            serde_json::to_string(&summaries).unwrap_or_default()
        );
    }
    Ok(if blocked {
        exit::MISSING_PERMISSIONS
    } else {
        exit::OK
    })
}

fn users_summary_text(s: &effective::Summary) -> String {
    let mut out = format!(
        "\n{} user(s) in scope: {} fully covered, {} blocked, {} uncertain\n",
        s.users, s.fully_covered, s.blocked, s.uncertain
    );
    for (kind, n) in &s.by_reason {
        out.push_str(&format!("  {n} blocked by {kind}\n"));
    }
    for d in &s.unexpire_password {
        let status = if d.granted { "ok" } else { "MISSING" };
        out.push_str(&format!(
            "Unexpire Password on {}: [{status}] {}\n",
            d.domain, d.detail
        ));
    }
    out
}

async fn explain_command(args: &ExplainArgs) -> Result<u8> {
    let answers = load(&args.common)?;
    let mut last_error = None;
    for directory in &answers.directories {
        let plan = prepare(directory, &answers).await?;
        let (token, schema) = access_inputs(&plan).await?;
        let explained = explain::explain(&plan, &token, &schema, &args.user).await;
        plan.session.unbind().await;
        let view = match explained {
            Ok(v) => v,
            // Not in this forest: try the next directory.
            Err(e) if e.kind == crate::error::ErrorKind::Usage => {
                last_error = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if args.common.json {
            print_json(&serde_json::to_value(&view).unwrap_or_default());
        } else {
            print!("{}", crate::error::printable_lines(&view.text()));
        }
        return Ok(if view.rights.iter().all(|r| r.granted) {
            exit::OK
        } else {
            exit::MISSING_PERMISSIONS
        });
    }
    Err(last_error.unwrap_or_else(|| Error::usage("the answers file has no [[directory]]")))
}
