//! The runtime of the wizard: owns the terminal (alternate screen, raw mode, mouse capture, restored on every
//! exit path including panics), turns crossterm events into [`Message`]s, runs the model's effects as tokio
//! tasks ([`effects`]) whose results come back over a channel, and draws after every batch of messages. The
//! model and the views never see any of this.
//!
//! Logging goes to a file in the state directory ([`log_file`]), never to the terminal while the wizard is up.

pub mod backend;
mod effects;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use ratatui::crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyEventKind, MouseButton,
    MouseEventKind,
};
use ratatui::crossterm::execute;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::answers::Answers;
use crate::error::{Error, Result, exit};
use crate::ui::{Hits, view};
use crate::wizard::{Message, Model, Page, Paths, update};

/// Where the wizard's log goes: `wizard.log` in the state directory.
pub fn log_file(state_dir: &Path) -> PathBuf {
    state_dir.join("wizard.log")
}

/// Where Configure saves the answers: `answers.toml` in the config directory (`~/.config/writeback-wizard`).
pub fn config_answers() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "writeback-wizard").ok_or_else(|| {
        Error::runtime("cannot find a home directory for the configuration")
            .hint("set HOME, or save with Ctrl-S to a path of your choice")
    })?;
    Ok(dirs.config_dir().join("answers.toml"))
}

pub struct Options {
    pub answers: Option<PathBuf>,
    pub state_dir: PathBuf,
    pub authority_url: Option<String>,
    pub graph_url: Option<String>,
}

/// Refuses without a terminal, naming the unattended commands.
pub fn require_terminal() -> Result<()> {
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return Ok(());
    }
    Err(Error::usage(
        "the wizard needs a terminal on standard input and output",
    )
    .hint("for unattended runs: writeback-wizard plan --answers FILE, then writeback-wizard apply --answers FILE --yes"))
}

fn init_logging(path: &Path) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::runtime(format!(
            "cannot create the state directory {}: {e}",
            dir.display()
        ))
        .hint("pass --state-dir DIR")
    })?;
    private_file(path).map_err(|e| {
        Error::runtime(format!("cannot create the log {}: {e}", path.display()))
            .hint("pass --state-dir DIR")
    })?;
    let name = path.file_name().unwrap_or_default();
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("WRITEBACK_WIZARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}

/// Creates `path` readable by its owner only (0600), or makes an existing one so, before anything is written.
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Loads the answers (the same validation `plan`/`apply` use), then runs the wizard until it quits.
pub async fn run(opts: Options) -> Result<u8> {
    require_terminal()?;
    let mut answers = match &opts.answers {
        Some(path) => Some(Answers::load(path)?),
        None => None,
    };
    if let Some(cloud) = answers.as_mut().and_then(|a| a.cloud.as_mut()) {
        cloud.authority_url = opts.authority_url.clone().or(cloud.authority_url.take());
        cloud.graph_url = opts.graph_url.clone().or(cloud.graph_url.take());
    }
    if let Some(a) = &answers {
        a.validate()?;
    }
    let paths = Paths {
        config_answers: config_answers()?,
        state_dir: opts.state_dir.clone(),
        log_file: log_file(&opts.state_dir),
        home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        cwd: std::env::current_dir().ok(),
    };
    let _guard = init_logging(&paths.log_file)?;
    tracing::info!(answers = ?opts.answers, "wizard starting");
    let mut model = Model::new(answers, opts.answers.clone(), paths);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = effects::Runner::new(tx, opts.state_dir.clone());
    let mut terminal = ratatui::init();
    // ratatui's hook restores raw mode and the screen; switch mouse reporting off before it. A panic inside an
    // effect task leaves the terminal alone: the task's failure comes to the model as a message instead.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if effects::in_effect() {
            tracing::error!("panic in a back-end task: {info}");
            return;
        }
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        previous(info);
    }));
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, &mut model, &mut runner, &mut rx).await;
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    // Errors are ignored here (and nothing may panic): after SIGHUP the terminal is gone, and the writes still
    // running must be waited for below.
    let _ = ratatui::try_restore();
    // Every exit path comes here: writes still running are cancelled (apply) or let finish (revert), and
    // waited for; their results still reach the model for the exit code.
    if runner.writing() {
        let _ = writeln!(
            std::io::stderr(),
            "writeback-wizard: waiting for the writes in flight to finish (the journal in {} records each one)…",
            opts.state_dir.display()
        );
    }
    runner.finish().await;
    while let Ok(msg) = rx.try_recv() {
        let _ = update(&mut model, msg);
    }
    tracing::info!("wizard stopped");
    result?;
    if model.page == Page::Complete
        && let Some(p) = &model.configuring.saved_to
    {
        let _ = writeln!(
            std::io::stderr(),
            "answers saved to {}; log: {}",
            p.display(),
            model.paths.log_file.display()
        );
    }
    Ok(if failed(&model) {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// Whether the run ends as a failure: apply or revert failed (wholly or for some object).
pub fn failed(model: &Model) -> bool {
    let apply = match &model.configuring.result {
        Some(Err(_)) => true,
        Some(Ok(r)) => r.directories.iter().any(|d| !d.ok()),
        None => false,
    };
    let revert = match model.tasks.run.as_ref() {
        Some(run) if run.task == crate::wizard::pages::Task::Revert => match &run.output {
            Some(Err(_)) => true,
            Some(Ok(crate::wizard::data::TaskOutput::Reverted { failed, .. })) => {
                !failed.is_empty()
            }
            _ => false,
        },
        _ => false,
    };
    apply || revert
}

fn to_message(ev: Event, hits: &Hits) -> Option<Message> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Message::Key(k)),
        Event::Mouse(me) => match me.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                hits.at(me.column, me.row).map(Message::Click)
            }
            MouseEventKind::ScrollDown => Some(Message::Scroll(3)),
            MouseEventKind::ScrollUp => Some(Message::Scroll(-3)),
            _ => None,
        },
        Event::Resize(w, h) => Some(Message::Resize(w, h)),
        _ => None,
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    model: &mut Model,
    runner: &mut effects::Runner,
    rx: &mut mpsc::UnboundedReceiver<Message>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::runtime(format!("terminal: {e}"));
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(io)?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(150));
    let size = terminal.size().map_err(io)?;
    update(model, Message::Resize(size.width, size.height));
    let mut hits = Hits::default();
    loop {
        terminal.draw(|f| hits = view(model, f)).map_err(io)?;
        if model.quit {
            break;
        }
        let first = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => to_message(ev, &hits),
                Some(Err(e)) => return Err(io(e)),
                None => break,
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = term.recv() => {
                tracing::info!("SIGTERM: quitting");
                Some(Message::Terminate)
            }
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: quitting");
                Some(Message::Terminate)
            }
            _ = tick.tick() => Some(Message::Tick),
        };
        let mut batch: Vec<Message> = first.into_iter().collect();
        // Everything the back end has sent meanwhile goes in before the next frame.
        while let Ok(msg) = rx.try_recv() {
            batch.push(msg);
        }
        for msg in batch {
            for effect in update(model, msg) {
                runner.run(effect);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_log_is_private_to_its_owner() {
        let dir = std::env::temp_dir().join(format!("wbw-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("wizard.log");
        let old = dir.join("old.log");
        std::fs::write(&old, "").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        for p in [&fresh, &old] {
            private_file(p).unwrap();
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
