//! Runs the model's effects as tokio tasks; each reports back as [`Message`]s over the channel. Holds what the
//! model must not: the plans with their LDAP sessions (so Configure applies the plan that was shown), a session
//! per directory for the OU tree, and the cancel switches.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::FutureExt;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::backend;
use crate::answers::{Answers, Directory};
use crate::error::Error;
use crate::grants::Plan;
use crate::wizard::data::TaskOutput;
use crate::wizard::pages::Task;
use crate::wizard::{Effect, Message};

type Sessions = Arc<Mutex<HashMap<usize, (Directory, crate::ad::dcs::Dcs)>>>;
/// The plans of the last Plan effect, with the answers they were made from.
type Plans = Arc<Mutex<Option<(Answers, Vec<Plan>)>>>;

pub struct Runner {
    tx: mpsc::UnboundedSender<Message>,
    state_dir: PathBuf,
    plans: Plans,
    sessions: Sessions,
    sign_in_cancel: Option<oneshot::Sender<()>>,
    apply_cancel: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
    /// The task writing to a directory (apply or revert): never aborted, waited for when quitting.
    writes: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn new(tx: mpsc::UnboundedSender<Message>, state_dir: PathBuf) -> Self {
        Self {
            tx,
            state_dir,
            plans: Arc::default(),
            sessions: Arc::default(),
            sign_in_cancel: None,
            apply_cancel: Arc::default(),
            tasks: Vec::new(),
            writes: None,
        }
    }

    /// Runs `f` as a task. A panic inside it does not leave the model waiting: it becomes `fail(error)`.
    fn spawn(
        &mut self,
        fail: impl FnOnce(Error) -> Message + Send + 'static,
        f: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.retain(|t| !t.is_finished());
        let handle = spawn_guarded(self.tx.clone(), fail, f);
        self.tasks.push(handle);
    }

    /// Like [`Runner::spawn`] for the one task that writes (apply, revert).
    fn spawn_writes(
        &mut self,
        fail: impl FnOnce(Error) -> Message + Send + 'static,
        f: impl Future<Output = ()> + Send + 'static,
    ) {
        self.writes = Some(spawn_guarded(self.tx.clone(), fail, f));
    }

    /// Whether writes to a directory are still running.
    pub fn writing(&self) -> bool {
        self.writes.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Quitting: writes still running are cancelled (apply stops before its next write; a revert is let
    /// finish) and waited for; every other task is stopped.
    pub async fn finish(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(c) = self.sign_in_cancel.take() {
            let _ = c.send(());
        }
        if let Some(h) = self.writes.take() {
            self.apply_cancel.store(true, Ordering::SeqCst);
            if let Err(e) = h.await {
                tracing::error!("the writing task ended abnormally: {e}");
            }
        }
    }

    pub fn run(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        match effect {
            Effect::Quit => {}
            Effect::SignIn { id, key, cloud } => {
                tracing::info!(tenant = %cloud.tenant, method = ?cloud.sign_in, "signing in to Microsoft Entra ID");
                let (cancel_tx, cancel_rx) = oneshot::channel();
                self.sign_in_cancel = Some(cancel_tx);
                let fail_key = key.clone();
                self.spawn(
                    move |e| Message::SignedIn {
                        id,
                        key: fail_key,
                        result: Err(e),
                    },
                    async move {
                        let prompt_tx = tx.clone();
                        let result = backend::sign_in(
                            &cloud,
                            // The UPN-suffix warnings are worked out on Ready, from the forests as validated.
                            &[],
                            move |p| {
                                let _ = prompt_tx.send(Message::DevicePrompt { id, prompt: p });
                            },
                            async {
                                let _ = cancel_rx.await;
                            },
                        )
                        .await;
                        log_result("sign-in", &result);
                        let _ = tx.send(Message::SignedIn { id, key, result });
                    },
                );
            }
            Effect::CancelSignIn => {
                tracing::info!("sign-in cancelled");
                if let Some(c) = self.sign_in_cancel.take() {
                    let _ = c.send(());
                }
            }
            Effect::ValidateDirectory {
                id,
                index,
                key,
                directory,
            } => {
                tracing::info!(forest = %directory.forest, url = ?directory.url, "validating directory");
                let sessions = self.sessions.clone();
                let fail_key = key.clone();
                self.spawn(
                    move |e| Message::DirectoryValidated {
                        id,
                        index,
                        key: fail_key,
                        result: Err(e),
                    },
                    async move {
                        let result = backend::validate_directory(&directory).await;
                        log_result("validate directory", &result);
                        // A tree session of an older version of this directory is of no use now.
                        sessions.lock().await.remove(&index);
                        let _ = tx.send(Message::DirectoryValidated {
                            id,
                            index,
                            key,
                            result,
                        });
                    },
                );
            }
            Effect::LoadChildren {
                dir,
                directory,
                node,
                dn,
                generation,
            } => {
                let sessions = self.sessions.clone();
                self.spawn(
                    move |e| Message::ChildrenLoaded {
                        dir,
                        node,
                        generation,
                        entries: Vec::new(),
                        done: true,
                        error: Some(e),
                    },
                    async move {
                        let session = {
                            let mut map = sessions.lock().await;
                            match map.get(&dir) {
                                Some((d, s)) if *d == directory => Ok(s.clone()),
                                _ => match backend::tree_session(&directory).await {
                                    Ok(s) => {
                                        map.insert(dir, (directory.clone(), s.clone()));
                                        Ok(s)
                                    }
                                    Err(e) => Err(e),
                                },
                            }
                        };
                        let send = |entries, done, error| {
                            let _ = tx.send(Message::ChildrenLoaded {
                                dir,
                                node,
                                generation,
                                entries,
                                done,
                                error,
                            });
                        };
                        match session {
                            Err(e) => send(Vec::new(), true, Some(e)),
                            Ok(s) => {
                                let result = backend::children(&s, &dn, |batch| {
                                    send(batch, false, None);
                                })
                                .await;
                                match result {
                                    Ok(n) => {
                                        tracing::debug!(%dn, children = n, "OU level read");
                                        send(Vec::new(), true, None);
                                    }
                                    Err(e) => {
                                        tracing::warn!(%dn, error = %e.message, "OU level failed");
                                        send(Vec::new(), true, Some(e));
                                    }
                                }
                            }
                        }
                    },
                );
            }
            Effect::Plan { key, answers } => {
                tracing::info!(directories = answers.directories.len(), "planning");
                let plans = self.plans.clone();
                let fail_key = key.clone();
                self.spawn(
                    move |e| Message::Planned {
                        key: fail_key,
                        result: Err(e),
                    },
                    async move {
                        let result = backend::plan_all(&answers).await;
                        let (store, summary) = match result {
                            Ok((p, s)) => (Some(p), Ok(s)),
                            Err(e) => (None, Err(e)),
                        };
                        log_result("plan", &summary);
                        if let Some(p) = store {
                            *plans.lock().await = Some((key.clone(), p));
                        }
                        let _ = tx.send(Message::Planned {
                            key,
                            result: summary,
                        });
                    },
                );
            }
            Effect::Save { path, answers } => {
                let result = answers.save(&path);
                log_result("save answers", &result);
                let _ = tx.send(Message::Saved { path, result });
            }
            Effect::Configure {
                save_to,
                key,
                answers,
            } => {
                self.apply_cancel.store(false, Ordering::SeqCst);
                let cancel = self.apply_cancel.clone();
                let plans = self.plans.clone();
                let state_dir = self.state_dir.clone();
                self.spawn_writes(|e| Message::Applied(Err(e)), async move {
                    // The answers are saved before the first write.
                    let saved = key.save(&save_to);
                    log_result("save answers", &saved);
                    let save_error = saved.as_ref().err().cloned();
                    let _ = tx.send(Message::Saved {
                        path: save_to,
                        result: saved,
                    });
                    if save_error.is_some() {
                        // Nothing was written: the model goes back to Ready with the error.
                        return;
                    }
                    let stored = plans.lock().await.take();
                    let ready = match stored {
                        Some((k, p)) if k == key => Ok(p),
                        _ => backend::plan_all(&answers).await.map(|(p, _)| p),
                    };
                    let result = match ready {
                        Ok(p) => {
                            tracing::info!("applying");
                            let progress_tx = tx.clone();
                            backend::apply_all(
                                p,
                                &state_dir,
                                &move |e| {
                                    tracing::info!(dn = %e.dn, ok = e.ok, "{}", e.text);
                                    let _ = progress_tx.send(Message::ApplyProgress(e));
                                },
                                &cancel,
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    log_result("apply", &result);
                    let _ = tx.send(Message::Applied(result));
                });
            }
            Effect::CancelApply => {
                tracing::info!("cancel requested: no directory starts writing after this");
                self.apply_cancel.store(true, Ordering::SeqCst);
            }
            Effect::Explain {
                answers,
                directory,
                dn,
            } => {
                let fail_dn = dn.clone();
                self.spawn(
                    move |e| Message::Explained {
                        dn: fail_dn,
                        result: Err(e),
                    },
                    async move {
                        let result = backend::explain_user(&answers, directory, &dn).await;
                        log_result("explain", &result);
                        let _ = tx.send(Message::Explained { dn, result });
                    },
                );
            }
            Effect::RunTask { id, task, answers } => {
                tracing::info!(?task, "running task");
                let state_dir = self.state_dir.clone();
                let fail = move |e: Error| Message::TaskDone {
                    id,
                    task,
                    result: Err(e),
                };
                let work = async move {
                    let result = match task {
                        Task::ViewCurrent => {
                            let (check, failed) = backend::check_all(&answers).await;
                            Ok(TaskOutput::Current {
                                answers_toml: answers.to_toml(),
                                last_journal: backend::last_journal(&state_dir),
                                check,
                                cloud: None,
                                failed,
                            })
                        }
                        Task::Troubleshoot => {
                            let ((check, mut failed), (users, users_failed)) = futures::join!(
                                backend::check_all(&answers),
                                backend::check_users_all(&answers)
                            );
                            for f in users_failed {
                                if !failed.contains(&f) {
                                    failed.push(f);
                                }
                            }
                            Ok(TaskOutput::Troubleshoot {
                                check,
                                cloud: None,
                                users,
                                failed,
                            })
                        }
                        Task::RevertPreview => {
                            let (list, failed) =
                                backend::revert_preview(&answers, &state_dir).await;
                            Ok(TaskOutput::RevertPreview { list, failed })
                        }
                        Task::Revert => {
                            let (done, failed) = backend::revert_all(&answers, &state_dir).await;
                            Ok(TaskOutput::Reverted { done, failed })
                        }
                    };
                    log_result("task", &result);
                    let _ = tx.send(Message::TaskDone { id, task, result });
                };
                if task == Task::Revert {
                    self.spawn_writes(fail, work);
                } else {
                    self.spawn(fail, work);
                }
            }
        }
    }
}

thread_local! {
    /// Set while an effect task is being polled on this thread: the panic hook then leaves the terminal alone
    /// (the wizard goes on and shows the failure).
    static IN_EFFECT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is running an effect task (read by the panic hook).
pub fn in_effect() -> bool {
    IN_EFFECT.with(Cell::get)
}

/// Marks the thread as running an effect task while the inner future is polled.
struct Guarded<F>(Pin<Box<F>>);

struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        IN_EFFECT.with(|c| c.set(false));
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        IN_EFFECT.with(|c| c.set(true));
        // Cleared on return and on unwinding alike (the panic hook runs before the unwinding).
        let _reset = Reset;
        self.0.as_mut().poll(cx)
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

fn spawn_guarded(
    tx: mpsc::UnboundedSender<Message>,
    fail: impl FnOnce(Error) -> Message + Send + 'static,
    f: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(payload) = AssertUnwindSafe(Guarded(Box::pin(f))).catch_unwind().await {
            let what = panic_text(payload.as_ref());
            tracing::error!("a back-end task panicked: {what}");
            let _ = tx.send(fail(
                Error::runtime(format!("internal error: the task stopped ({what})"))
                    .hint("this is a bug; the log file has the details"),
            ));
        }
    })
}

fn log_result<T>(what: &str, r: &crate::error::Result<T>) {
    match r {
        Ok(_) => tracing::info!("{what}: ok"),
        Err(e) => tracing::warn!("{what}: {}", e.message),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_panic_in_a_task_becomes_a_failure_message_for_the_model() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = Runner::new(tx, PathBuf::from("/nonexistent"));
        r.spawn(|e| Message::Applied(Err(e)), async {
            panic!("boom in a task")
        });
        let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(&msg, Message::Applied(Err(e)) if e.message.contains("boom in a task")),
            "{msg:?}"
        );
        assert!(!in_effect(), "the flag is cleared after the unwinding");
    }

    #[tokio::test]
    async fn quitting_waits_for_the_writes_and_cancels_them() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut r = Runner::new(tx.clone(), PathBuf::from("/nonexistent"));
        let cancel = r.apply_cancel.clone();
        r.spawn_writes(|e| Message::Applied(Err(e)), async move {
            while !cancel.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = tx.send(Message::Applied(Ok(Default::default())));
        });
        r.spawn(|e| Message::Applied(Err(e)), std::future::pending());
        assert!(r.writing());
        tokio::time::timeout(Duration::from_secs(5), r.finish())
            .await
            .unwrap();
        assert!(matches!(rx.try_recv(), Ok(Message::Applied(Ok(_)))));
    }
}
