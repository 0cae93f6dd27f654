//! What each subcommand does, in order: load and validate the answers (no I/O before that), then per directory
//! plan, ask where needed, and act.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use serde_json::json;

use super::render::{PlanView, check_text, cloud_text};
use super::{Cli, Command, CommonArgs, WriteArgs};
use crate::answers::{Answers, Directory};
use crate::cloud::PORTAL_STEP;
use crate::error::{Error, Result, exit};
use crate::grants::journal::{Journal, default_state_dir};
use crate::grants::{Plan, apply, check, plan, revert};

pub async fn run(cli: Cli) -> Result<u8> {
    let state_dir = || cli.state_dir.clone().map_or_else(default_state_dir, Ok);
    match &cli.command {
        None => wizard(None, &cli, &state_dir).await,
        Some(Command::Wizard(args)) => wizard(args.answers.clone(), &cli, &state_dir).await,
        Some(Command::Plan(args)) => plan_command(args).await,
        Some(Command::Apply(args)) => apply_command(args, &state_dir()?).await,
        Some(Command::Check(args)) => check_command(args, &cli).await,
        Some(Command::Revert(args)) => revert_command(args, &state_dir()?).await,
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

fn note(message: &str) {
    eprintln!("{message}");
}

fn load(args: &CommonArgs) -> Result<Answers> {
    Answers::load(&args.answers)
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

async fn prepare(directory: &Directory, answers: &Answers) -> Result<Plan> {
    note(&format!(
        "connecting to {} as {} ...",
        directory.url, directory.admin
    ));
    let plan = Plan::prepare(directory, &answers.features).await?;
    note(&format!(
        "read {} security descriptor(s) in forest {}",
        plan.targets.len(),
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
            print!("{}", view.text());
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

async fn apply_command(args: &WriteArgs, state_dir: &Path) -> Result<u8> {
    let answers = load(&args.common)?;
    // Every forest is planned (and so every input checked) before anything is written anywhere.
    let mut plans = Vec::new();
    for directory in &answers.directories {
        let plan = prepare(directory, &answers).await?;
        let view = PlanView::new(&plan);
        if !args.common.json {
            print!("{}", view.text());
        }
        plans.push((plan, view));
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
    let mut reports = Vec::new();
    let mut failed = false;
    for (plan, view) in plans {
        if view.changed_count() == 0 {
            note(&format!(
                "forest {}: every permission is already in place; nothing written.",
                view.forest
            ));
            reports.push(json!({ "plan": view, "written": [], "failed": [], "journal": null }));
            continue;
        }
        let outcome = apply::apply(&plan, state_dir, &|line| note(line)).await?;
        if let Some(path) = &outcome.journal {
            note(&format!(
                "journal of the original descriptors: {}",
                path.display()
            ));
        }
        for (dn, e) in &outcome.failed {
            eprintln!("writeback-wizard: {dn}: {e}");
        }
        failed |= !outcome.failed.is_empty();
        reports.push(json!({
            "plan": view,
            "written": outcome.written,
            "failed": outcome.failed.iter().map(|(dn, e)| json!({ "dn": dn, "error": e.message, "hint": e.hint })).collect::<Vec<_>>(),
            "journal": outcome.journal,
        }));
        plan.session.unbind().await;
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
    Ok(if failed { exit::ERROR } else { exit::OK })
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
        let plan = prepare(directory, &answers).await?;
        reports.push(check::check(&plan).await?);
        upn_suffixes.extend(plan.forest.upn_suffixes());
        plan.session.unbind().await;
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
            print!("{}", cloud_text(report));
        }
        for report in &reports {
            print!("{}", check_text(report));
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

async fn revert_command(args: &WriteArgs, state_dir: &Path) -> Result<u8> {
    let answers = load(&args.common)?;
    let mut reports = Vec::new();
    let mut failed = false;
    for directory in &answers.directories {
        note(&format!(
            "connecting to {} as {} ...",
            directory.url, directory.admin
        ));
        let (session, forest, connector) = plan::connect(directory, false).await?;
        let journals =
            Journal::active(state_dir, &forest.forest_name(), &connector.sid.to_string())?;
        let targets: Vec<&str> = journals
            .iter()
            .flat_map(|(_, j)| j.entries.iter().map(|e| e.dn.as_str()))
            .collect();
        if targets.is_empty() {
            note(&format!(
                "forest {}: no journal of ours in {} for connector {}: nothing to revert.",
                forest.forest_name(),
                state_dir.display(),
                connector.sid
            ));
            reports.push(json!({ "forest": forest.forest_name(), "targets": [], "failed": [] }));
            continue;
        }
        if !args.common.json {
            println!(
                "forest {}: remove the ACEs added for {} ({}) from:",
                forest.forest_name(),
                directory.connector,
                connector.sid
            );
            for dn in &targets {
                println!("  {dn}");
            }
        }
        if !confirm(&format!("Revert {} object(s)?", targets.len()), args.yes)? {
            note("aborted: nothing was written.");
            return Ok(exit::ERROR);
        }
        let outcome = revert::revert(
            &session,
            &forest.forest_name(),
            &connector.sid.to_string(),
            state_dir,
            &|line| note(line),
        )
        .await?;
        for (dn, e) in &outcome.failed {
            eprintln!("writeback-wizard: {dn}: {e}");
        }
        failed |= !outcome.failed.is_empty();
        reports.push(json!({
            "forest": forest.forest_name(),
            "targets": outcome.targets.iter().map(|(dn, r)| json!({ "dn": dn, "result": revert::describe(*r) })).collect::<Vec<_>>(),
            "failed": outcome.failed.iter().map(|(dn, e)| json!({ "dn": dn, "error": e.message })).collect::<Vec<_>>(),
        }));
        session.unbind().await;
    }
    if args.common.json {
        print_json(&json!({ "command": "revert", "directories": reports }));
    }
    Ok(if failed { exit::ERROR } else { exit::OK })
}
