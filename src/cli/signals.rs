//! Ctrl-C, SIGTERM and SIGHUP on the command line. Before anything is being written a signal ends the run at
//! once (nothing was written). While `apply` or `revert` writes, the first signal stops every write not yet
//! sent, lets the ones already on the wire finish (each within the operation timeout) and verifies them, then
//! the command says what was written and what to run next and exits 128 + the signal (130 for Ctrl-C, 143 for
//! SIGTERM, 129 for SIGHUP); a second signal ends the process at once: the journal is consistent at every
//! point, since each write is journaled before it is sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// What a run hears of the signals.
#[derive(Clone)]
pub struct Stop {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set by the first signal while writing: send nothing more.
    requested: Arc<AtomicBool>,
    /// The first signal's number (0: none yet).
    signal: AtomicI32,
    writing: AtomicBool,
}

impl Stop {
    /// Starts listening (on the tokio runtime). Until [`Stop::writing`] is called, a signal ends the process.
    pub fn listen() -> Self {
        let stop = Self {
            inner: Arc::new(Inner {
                requested: Arc::new(AtomicBool::new(false)),
                signal: AtomicI32::new(0),
                writing: AtomicBool::new(false),
            }),
        };
        let inner = stop.inner.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                ) else {
                    return;
                };
                loop {
                    let number = tokio::select! {
                        _ = int.recv() => 2,
                        _ = term.recv() => 15,
                        _ = hup.recv() => 1,
                    };
                    heard(&inner, number);
                }
            }
            #[cfg(not(unix))]
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                heard(&inner, 2);
            }
        });
        stop
    }

    /// From now on the first signal stops the writes instead of the process.
    pub fn writing(&self) {
        self.inner.writing.store(true, Ordering::SeqCst);
    }

    /// The flag apply and revert look at before each write.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.inner.requested.clone()
    }

    /// The exit code the signal asks for, if one came: 128 + its number.
    pub fn exit_code(&self) -> Option<u8> {
        match self.inner.signal.load(Ordering::SeqCst) {
            0 => None,
            n => u8::try_from(128 + n).ok(),
        }
    }
}

fn name(number: i32) -> &'static str {
    match number {
        2 => "Ctrl-C",
        15 => "SIGTERM",
        1 => "SIGHUP",
        _ => "a signal",
    }
}

fn heard(inner: &Inner, number: i32) {
    let code = 128 + number;
    let first = inner
        .signal
        .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if !inner.writing.load(Ordering::SeqCst) {
        eprintln!(
            "\nwriteback-wizard: {}: stopped; nothing was written.",
            name(number)
        );
        std::process::exit(code);
    }
    if first {
        inner.requested.store(true, Ordering::SeqCst);
        eprintln!(
            "\nwriteback-wizard: {}: stopping: no new write is sent; the writes already sent are awaited (each within the operation timeout) and verified. Press it again to stop at once.",
            name(number)
        );
    } else {
        eprintln!(
            "\nwriteback-wizard: {}: stopped at once. The journal is consistent (each write is journaled before it is sent): run revert to take back what may have been written, or the same command again to finish.",
            name(number)
        );
        std::process::exit(code);
    }
}
