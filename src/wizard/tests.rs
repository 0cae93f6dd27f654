//! The model walked with key events and canned back-end results: a preloaded run goes from Welcome to
//! Configuration complete on Enter alone, Previous keeps edits, errors land at their field, the summary comes
//! from the answers model, and what Configure saves replays the run.

use ratatui::crossterm::event::KeyCode;

use super::data::*;
use super::testing::*;
use super::*;
use crate::answers::Scope;
use crate::secret::SecretRef;

/// Answers every effect as the lab would; returns how many effects ran.
fn run_effects(m: &mut Model, effects: Vec<Effect>) -> usize {
    run_effects_seeing(m, effects, &mut Vec::new())
}

/// Like [`run_effects`], noting each page the model is on after a message.
fn run_effects_seeing(m: &mut Model, effects: Vec<Effect>, pages: &mut Vec<Page>) -> usize {
    let mut queue = effects;
    let mut n = 0;
    while let Some(e) = queue.pop() {
        n += 1;
        let msgs: Vec<Message> = match e {
            Effect::SignIn { id, key, .. } => {
                vec![
                    Message::DevicePrompt {
                        id,
                        prompt: DevicePrompt {
                            user_code: "ABCD-EFGH".into(),
                            verification_uri: "http://127.0.0.1:8400/devicelogin".into(),
                            message: "To sign in, open the page and enter the code.".into(),
                        },
                    },
                    Message::SignedIn {
                        id,
                        key,
                        result: Ok(cloud_ok()),
                    },
                ]
            }
            Effect::ValidateDirectory {
                id,
                index,
                key,
                directory,
            } => {
                assert!(
                    !matches!(directory.admin_password, SecretRef::Prompt),
                    "a prompt secret reaches the back end only as what was typed"
                );
                vec![Message::DirectoryValidated {
                    id,
                    index,
                    key,
                    result: Ok(directory_info()),
                }]
            }
            Effect::LoadChildren {
                dir,
                node,
                generation,
                dn,
                ..
            } => {
                let entries = match dn.as_str() {
                    "DC=corp,DC=example,DC=test" => vec![ou("OU=Lab,DC=corp,DC=example,DC=test")],
                    "OU=Lab,DC=corp,DC=example,DC=test" => vec![
                        ou("OU=In,OU=Lab,DC=corp,DC=example,DC=test"),
                        ou("OU=Out,OU=Lab,DC=corp,DC=example,DC=test"),
                    ],
                    _ => Vec::new(),
                };
                vec![Message::ChildrenLoaded {
                    dir,
                    node,
                    generation,
                    entries,
                    done: true,
                    error: None,
                }]
            }
            Effect::Plan { key, .. } => vec![Message::Planned {
                key,
                result: Ok(plan()),
            }],
            Effect::Configure { save_to, .. } => vec![
                Message::Saved {
                    path: save_to,
                    result: Ok(()),
                },
                Message::ApplyProgress(ApplyEvent {
                    done: 1,
                    total: 1,
                    dn: "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                    ok: true,
                    text: "OU=In,OU=Lab,DC=corp,DC=example,DC=test: added 4 ACE(s), verified"
                        .into(),
                }),
                Message::Applied(Ok(ApplyResult {
                    directories: vec![DirectoryResult {
                        forest: "corp.example.test".into(),
                        journal: Some("/state/journal/1-corp.example.test.json".into()),
                        written: vec!["OU=In,OU=Lab,DC=corp,DC=example,DC=test".into()],
                        unchanged: vec!["DC=corp,DC=example,DC=test".into()],
                        ..Default::default()
                    }],
                    cancelled: false,
                })),
            ],
            _ => Vec::new(),
        };
        for msg in msgs {
            queue.extend(update(m, msg));
            if pages.last() != Some(&m.page) {
                pages.push(m.page);
            }
        }
    }
    n
}

fn press_enter(m: &mut Model) {
    let effects = enter(m);
    run_effects(m, effects);
}

#[test]
fn enter_alone_walks_a_preloaded_run_to_the_end() {
    let text = LAB_ANSWERS.replace("\"prompt\"", "\"env:AD_ADMIN_PASSWORD\"");
    let a = crate::answers::Answers::from_toml(&text).unwrap();
    let mut m = Model::new(Some(a), None, paths());
    let mut seen = vec![m.page];
    for _ in 0..30 {
        if m.page == Page::Complete {
            break;
        }
        let effects = enter(&mut m);
        if seen.last() != Some(&m.page) {
            seen.push(m.page);
        }
        run_effects_seeing(&mut m, effects, &mut seen);
    }
    assert_eq!(seen, Page::ALL.to_vec(), "every page, in order");
    assert!(!m.dirty, "Configure saved the answers");
    assert_eq!(
        m.configuring.saved_to.as_ref(),
        Some(&paths().config_answers)
    );
    press_enter(&mut m);
    assert!(m.quit, "Exit quits");
}

#[test]
fn a_prompt_password_opens_its_page_on_the_masked_field() {
    let mut m = preloaded();
    for _ in 0..4 {
        press_enter(&mut m);
    }
    assert_eq!(m.page, Page::Directories);
    assert_eq!(
        m.focus,
        Target::DirPassword(0),
        "the cursor is in the password field"
    );
    type_text(&mut m, CANARY);
    assert!(
        !format!("{m:?}").contains(CANARY),
        "Debug never shows a typed secret"
    );
    press_enter(&mut m);
    // Validated; the next Enter goes on.
    press_enter(&mut m);
    assert_eq!(m.page, Page::OuFilter);
    let saved = m.answers.to_toml();
    assert!(saved.contains("admin_password = \"prompt\""), "{saved}");
    assert!(!saved.contains(CANARY));
}

#[test]
fn previous_keeps_every_edit() {
    let mut m = preloaded();
    press_enter(&mut m); // Tasks
    press_enter(&mut m); // Azure AD
    // Edit the username: focus it and type.
    m.focus = Target::Username;
    type_text(&mut m, "x");
    assert_eq!(
        m.answers
            .cloud
            .as_ref()
            .and_then(|c| c.username.clone())
            .as_deref(),
        Some("admin@contoso.onmicrosoft.comx")
    );
    send(&mut m, key(KeyCode::Esc)); // Previous
    assert_eq!(m.page, Page::Tasks);
    press_enter(&mut m);
    assert_eq!(m.page, Page::AzureAd);
    assert_eq!(m.azure.username.text(), "admin@contoso.onmicrosoft.comx");
    // Fix it back, sign in, validate, then change a feature and come back to it.
    m.focus = Target::Username;
    send(&mut m, key(KeyCode::Backspace));
    m.focus = Target::Button(Button::Next);
    press_enter(&mut m);
    press_enter(&mut m);
    assert_eq!(m.page, Page::Directories);
    type_text(&mut m, "pw");
    press_enter(&mut m);
    press_enter(&mut m);
    press_enter(&mut m);
    assert_eq!(m.page, Page::Features);
    m.focus = Target::Feature(2);
    send(&mut m, key(KeyCode::Char(' ')));
    assert!(m.answers.features.admin_sd_holder);
    send(&mut m, key(KeyCode::Esc));
    send(&mut m, key(KeyCode::Esc));
    assert_eq!(m.page, Page::Directories);
    assert_eq!(
        m.dirs.passwords[0].len(),
        2,
        "the typed password is still there"
    );
    press_enter(&mut m);
    press_enter(&mut m);
    assert_eq!(m.page, Page::Features);
    assert!(
        m.answers.features.admin_sd_holder,
        "the edit survived Previous"
    );
}

#[test]
fn errors_appear_at_their_field() {
    let mut m = preloaded();
    press_enter(&mut m);
    press_enter(&mut m);
    assert_eq!(m.page, Page::AzureAd);
    m.focus = Target::Tenant;
    send(&mut m, ctrl('u'));
    m.focus = Target::Button(Button::Next);
    press_enter(&mut m);
    assert_eq!(m.page, Page::AzureAd, "an invalid page does not go on");
    assert_eq!(m.focus, Target::Tenant);
    let (at, message) = m.azure.error.clone().unwrap();
    assert_eq!(at, Target::Tenant);
    assert!(message.starts_with("cloud.tenant: is empty"), "{message}");

    // A back-end error about the password lands at the password field.
    let mut m = preloaded();
    goto(&mut m, Page::Directories);
    assert_eq!(m.focus, Target::DirPassword(0));
    type_text(&mut m, "wrong");
    let effects = enter(&mut m);
    let Some(Effect::ValidateDirectory {
        id,
        index,
        key: dir_key,
        ..
    }) = effects.into_iter().next()
    else {
        panic!("Next validates the directory");
    };
    update(
        &mut m,
        Message::DirectoryValidated {
            id,
            index,
            key: dir_key,
            result: Err(crate::error::Error::runtime(
                "cannot bind to ldaps://127.0.0.1:636 as CORP\\Administrator: invalid credentials (wrong password or user name)",
            )
            .hint("check the account and its password reference")),
        },
    );
    assert_eq!(m.focus, Target::DirPassword(0));
    assert!(matches!(
        &m.dirs.status[0],
        pages::directories::DirStatus::Failed {
            field: DirField::Password,
            ..
        }
    ));

    // The dialog's own validation: a plain-LDAP URL with tls = ldaps is an error at the URL.
    let mut m = empty();
    m.page = Page::Directories;
    m.focus = Target::Button(Button::AddDirectory);
    enter(&mut m);
    type_text(&mut m, "corp.example.test");
    send(&mut m, key(KeyCode::Tab));
    send(&mut m, ctrl('u'));
    type_text(&mut m, "ldap://dc1");
    for _ in 0..6 {
        send(&mut m, key(KeyCode::Tab));
    }
    enter(&mut m); // OK
    let Some(Popup::Directory(d)) = &m.popup else {
        panic!("the dialog stays open on an error");
    };
    assert_eq!(d.error.as_ref().map(|e| e.0), Some(DirField::Url));
    assert_eq!(d.focus, 1, "the cursor goes to the field in error");
}

#[test]
fn the_summary_comes_from_the_answers_not_the_pages_visited() {
    let mut m = preloaded();
    m.page = Page::Ready;
    let lines: Vec<String> = crate::ui::summary_text(&m);
    let all = lines.join("\n");
    assert!(
        all.contains("OU=In,OU=Lab,DC=corp,DC=example,DC=test"),
        "{all}"
    );
    assert!(all.contains("connector CORP\\svc-aadc"), "{all}");
    assert!(all.contains("tenant contoso.onmicrosoft.com"), "{all}");
    assert!(all.contains("AdminSDHolder off"), "{all}");
    assert_eq!(m.answers.directories[0].scope, Scope::Selected);
}

#[test]
fn the_tree_checks_into_the_answers() {
    let mut m = preloaded();
    goto(&mut m, Page::Directories);
    m.dirs.passwords[0] = {
        let mut f = field::TextField::masked();
        f.set("pw");
        f
    };
    let e = enter(&mut m);
    run_effects(&mut m, e);
    press_enter(&mut m);
    assert_eq!(m.page, Page::OuFilter);
    // Domain root, then Lab (loaded by opening it), then In, Out.
    m.focus = Target::Tree;
    send(&mut m, key(KeyCode::Down));
    let e = send(&mut m, key(KeyCode::Right));
    run_effects(&mut m, e);
    send(&mut m, key(KeyCode::Down));
    send(&mut m, key(KeyCode::Down));
    send(&mut m, key(KeyCode::Down)); // Out
    send(&mut m, key(KeyCode::Char(' ')));
    assert_eq!(m.answers.directories[0].ous.len(), 2);
    assert!(m.dirty, "a toggle is an unsaved change");
    // Searching finds Out again after moving away.
    send(&mut m, key(KeyCode::Home));
    send(&mut m, key(KeyCode::Char('/')));
    type_text(&mut m, "out");
    enter(&mut m);
    let t = m.ous.tree().unwrap();
    assert_eq!(
        t.node(t.cursor_node().unwrap()).unwrap().name.as_ref(),
        "Out"
    );
    // q in the search field types; it does not quit.
    send(&mut m, key(KeyCode::Char('/')));
    send(&mut m, key(KeyCode::Char('q')));
    assert!(!m.quit);
}

#[test]
fn quitting_asks_only_when_answers_are_unsaved() {
    let mut m = empty();
    let e = send(&mut m, key(KeyCode::Char('q')));
    assert!(m.quit && matches!(e.as_slice(), [Effect::Quit]));
    let mut m = preloaded();
    m.answers.features.admin_sd_holder = true;
    m.dirty = true;
    send(&mut m, ctrl('c'));
    assert!(matches!(m.popup, Some(Popup::ConfirmQuit { .. })) && !m.quit);
    send(&mut m, key(KeyCode::Esc));
    assert!(m.popup.is_none() && !m.quit);
}

#[test]
fn previous_is_gone_once_writes_started_and_cancel_stops_apply() {
    let mut m = preloaded();
    m.page = Page::Ready;
    m.ready.plan = Some((m.answers.clone(), Ok(plan())));
    m.focus = Target::Button(Button::Configure);
    enter(&mut m);
    assert!(matches!(m.popup, Some(Popup::ConfirmConfigure { .. })));
    let effects = enter(&mut m);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Configure { .. }))
    );
    assert_eq!(m.page, Page::Configuring);
    assert!(!pages::focusables(&m).contains(&Target::Button(Button::Previous)));
    send(&mut m, key(KeyCode::Esc));
    assert_eq!(
        m.page,
        Page::Configuring,
        "Esc does not go back once writes started"
    );
    // Writes run: Enter (a repeat of the confirming key) does nothing; the focus is not on Cancel.
    assert_eq!(m.focus, Target::Progress);
    for _ in 0..3 {
        assert!(enter(&mut m).is_empty(), "Enter never cancels the writes");
    }
    assert!(!m.configuring.cancel_requested && m.popup.is_none());
    // q and Ctrl-C ask first; the safe answer is the default.
    for quit in [key(KeyCode::Char('q')), ctrl('c')] {
        let e = send(&mut m, quit);
        assert!(e.is_empty());
        assert!(matches!(m.popup, Some(Popup::ConfirmCancel { focus: 1 })));
        assert!(enter(&mut m).is_empty(), "Enter keeps writing");
        assert!(m.popup.is_none() && !m.configuring.cancel_requested);
    }
    // Cancel (clicked) asks too; a second Ctrl-C confirms.
    send(&mut m, Message::Click(Hit::Button(Button::Cancel)));
    assert!(matches!(m.popup, Some(Popup::ConfirmCancel { .. })));
    let e = send(&mut m, ctrl('c'));
    assert!(
        matches!(e.as_slice(), [Effect::CancelApply]),
        "the second Ctrl-C cancels the run"
    );
    assert!(!m.quit);
    // After the cancel, Ctrl-C offers to quit now (the journal keeps what was written); Enter waits.
    send(&mut m, ctrl('c'));
    assert!(matches!(m.popup, Some(Popup::QuitNow { focus: 1 })));
    enter(&mut m);
    assert!(!m.quit && m.popup.is_none());
    send(&mut m, ctrl('c'));
    let e = send(&mut m, ctrl('c'));
    assert!(m.quit && matches!(e.as_slice(), [Effect::Quit]));
}

#[test]
fn a_signal_cancels_the_writes_and_quits_when_they_have_ended() {
    let mut m = preloaded();
    assert!(matches!(
        send(&mut m, Message::Terminate).as_slice(),
        [Effect::Quit]
    ));
    let mut m = preloaded();
    m.page = Page::Ready;
    m.ready.plan = Some((m.answers.clone(), Ok(plan())));
    let _ = pages::ready::configure(&mut m);
    let e = send(&mut m, Message::Terminate);
    assert!(matches!(e.as_slice(), [Effect::CancelApply]) && !m.quit);
    let e = send(
        &mut m,
        Message::Applied(Ok(ApplyResult {
            cancelled: true,
            ..Default::default()
        })),
    );
    assert!(m.quit && e.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn quitting_during_a_revert_asks_and_waits_for_it() {
    let mut m = preloaded();
    goto(&mut m, Page::Tasks);
    m.dirs.passwords[0].set(CANARY);
    let e = pages::tasks::run(&mut m, pages::Task::Revert);
    let Some(Effect::RunTask { id, .. }) = e.into_iter().next() else {
        panic!("revert runs");
    };
    for quit in [key(KeyCode::Char('q')), ctrl('c')] {
        assert!(send(&mut m, quit).is_empty(), "never quits mid-revert");
        assert!(matches!(m.popup, Some(Popup::QuitAfterRevert { focus: 1 })));
        enter(&mut m);
        assert!(m.popup.is_none() && !m.quit);
    }
    send(&mut m, key(KeyCode::Char('q')));
    send(&mut m, key(KeyCode::Left));
    assert!(enter(&mut m).is_empty());
    assert!(!m.quit && m.quit_when_done);
    let e = send(
        &mut m,
        Message::TaskDone {
            id,
            task: pages::Task::Revert,
            result: Ok(TaskOutput::Reverted {
                done: Vec::new(),
                failed: Vec::new(),
            }),
        },
    );
    assert!(m.quit && matches!(e.as_slice(), [Effect::Quit]));
}

#[test]
fn next_while_validating_starts_no_second_bind_and_stale_results_are_dropped() {
    let mut m = preloaded();
    goto(&mut m, Page::Directories);
    type_text(&mut m, "first");
    let e = enter(&mut m);
    let Some(Effect::ValidateDirectory {
        id: first,
        key: dir_key,
        ..
    }) = e.into_iter().next()
    else {
        panic!("Next validates");
    };
    for _ in 0..5 {
        assert!(enter(&mut m).is_empty(), "one bind at a time");
    }
    // Another password typed while the first is checked: the first result must not mark it OK.
    m.focus = Target::DirPassword(0);
    send(&mut m, key(KeyCode::Backspace));
    type_text(&mut m, "second");
    let e = enter(&mut m);
    let Some(Effect::ValidateDirectory { id: second, .. }) = e.into_iter().next() else {
        panic!("the new password is validated");
    };
    assert!(second > first);
    send(
        &mut m,
        Message::DirectoryValidated {
            id: first,
            index: 0,
            key: dir_key.clone(),
            result: Ok(directory_info()),
        },
    );
    assert!(
        matches!(
            m.dirs.status[0],
            pages::directories::DirStatus::Checking { id } if id == second
        ),
        "the result for the older password is dropped"
    );
    send(
        &mut m,
        Message::DirectoryValidated {
            id: second,
            index: 0,
            key: dir_key,
            result: Ok(directory_info()),
        },
    );
    assert!(m.dirs.info(0).is_some());
}

#[test]
fn a_cancelled_sign_in_never_lands() {
    let mut m = preloaded();
    goto(&mut m, Page::AzureAd);
    let e = enter(&mut m);
    let Some(Effect::SignIn {
        id: first,
        key: cloud_key,
        ..
    }) = e.into_iter().next()
    else {
        panic!("Next signs in");
    };
    send(&mut m, key_esc());
    assert!(!m.azure.busy());
    let e = enter(&mut m);
    let Some(Effect::SignIn { id: second, .. }) = e.into_iter().next() else {
        panic!("Next signs in again");
    };
    let prompt = |code: &str| DevicePrompt {
        user_code: code.into(),
        verification_uri: "http://127.0.0.1:8400/devicelogin".into(),
        message: String::new(),
    };
    send(
        &mut m,
        Message::DevicePrompt {
            id: first,
            prompt: prompt("OLD-CODE"),
        },
    );
    send(
        &mut m,
        Message::SignedIn {
            id: first,
            key: cloud_key,
            result: Ok(cloud_ok()),
        },
    );
    assert!(
        matches!(&m.azure.status, pages::azure::Status::SigningIn { id, prompt: None } if *id == second),
        "the first attempt's code and result are dropped"
    );
    send(
        &mut m,
        Message::DevicePrompt {
            id: second,
            prompt: prompt("NEW-CODE"),
        },
    );
    assert!(
        matches!(&m.azure.status, pages::azure::Status::SigningIn { prompt: Some(p), .. } if p.user_code == "NEW-CODE")
    );
}

#[test]
fn a_task_left_with_esc_does_not_show_in_the_next_run() {
    let mut m = preloaded();
    goto(&mut m, Page::Tasks);
    m.dirs.passwords[0].set(CANARY);
    let Some(Effect::RunTask { id: first, .. }) =
        pages::tasks::run(&mut m, pages::Task::Troubleshoot)
            .into_iter()
            .next()
    else {
        panic!("the task runs");
    };
    send(&mut m, key_esc());
    assert!(m.tasks.run.is_none());
    let Some(Effect::RunTask { id: second, .. }) =
        pages::tasks::run(&mut m, pages::Task::Troubleshoot)
            .into_iter()
            .next()
    else {
        panic!("the task runs again");
    };
    let output = || {
        Ok(TaskOutput::Troubleshoot {
            check: Vec::new(),
            cloud: None,
            users: Vec::new(),
            failed: Vec::new(),
        })
    };
    send(
        &mut m,
        Message::TaskDone {
            id: first,
            task: pages::Task::Troubleshoot,
            result: output(),
        },
    );
    assert!(m.tasks.busy(), "the first run's output is not this run's");
    send(
        &mut m,
        Message::TaskDone {
            id: second,
            task: pages::Task::Troubleshoot,
            result: output(),
        },
    );
    assert!(!m.tasks.busy());
}

fn key_esc() -> Message {
    key(KeyCode::Esc)
}

/// On Domain and OU filtering with the domain's first level read (Lab closed, not read yet).
fn ou_page_loaded() -> Model {
    let mut m = preloaded();
    goto(&mut m, Page::Directories);
    m.dirs.passwords[0].set("pw");
    let e = enter(&mut m);
    run_effects(&mut m, e);
    press_enter(&mut m);
    assert_eq!(m.page, Page::OuFilter);
    m
}

#[test]
fn r_refreshes_the_tree_wherever_the_hint_offers_it() {
    for focus in [
        Target::Tree,
        Target::Scope,
        Target::Button(Button::Next),
        Target::Button(Button::Refresh),
    ] {
        let mut m = ou_page_loaded();
        m.focus = focus;
        let before = m.ous.tree().unwrap().generation;
        assert!(m.hints().iter().any(|h| h.key == "r" && h.enabled));
        let e = send(&mut m, key(KeyCode::Char('r')));
        assert!(
            e.iter().any(|e| matches!(e, Effect::LoadChildren { .. })),
            "{focus:?}"
        );
        assert!(m.ous.tree().unwrap().generation > before, "{focus:?}");
    }
    // While typing a search, r is a letter.
    let mut m = ou_page_loaded();
    m.focus = Target::Tree;
    send(&mut m, key(KeyCode::Char('/')));
    assert!(send(&mut m, key(KeyCode::Char('r'))).is_empty());
    assert_eq!(m.ous.search.as_ref().unwrap().text(), "r");
}

#[test]
fn a_level_read_again_after_failing_part_way_has_no_duplicates() {
    let mut m = ou_page_loaded();
    m.focus = Target::Tree;
    send(&mut m, key(KeyCode::Down)); // Lab
    let open = |m: &mut Model| -> (tree::NodeId, u64) {
        let e = send(m, key(KeyCode::Right));
        match e.into_iter().next() {
            Some(Effect::LoadChildren {
                node, generation, ..
            }) => (node, generation),
            other => panic!("opening Lab reads its level: {other:?}"),
        }
    };
    let (node, generation) = open(&mut m);
    let loaded =
        |m: &mut Model, entries: Vec<OuEntry>, done: bool, error: Option<crate::error::Error>| {
            send(
                m,
                Message::ChildrenLoaded {
                    dir: 0,
                    node,
                    generation,
                    entries,
                    done,
                    error,
                },
            );
        };
    loaded(
        &mut m,
        vec![ou("OU=In,OU=Lab,DC=corp,DC=example,DC=test")],
        false,
        None,
    );
    loaded(
        &mut m,
        Vec::new(),
        true,
        Some(crate::error::Error::runtime("the connection was reset")),
    );
    send(&mut m, key(KeyCode::Left)); // close the failed level
    let (again, _) = open(&mut m);
    assert_eq!(again, node);
    loaded(
        &mut m,
        vec![
            ou("OU=In,OU=Lab,DC=corp,DC=example,DC=test"),
            ou("OU=Out,OU=Lab,DC=corp,DC=example,DC=test"),
        ],
        true,
        None,
    );
    let t = m.ous.tree().unwrap();
    let names: Vec<&str> = t
        .visible()
        .iter()
        .map(|&id| t.node(id).unwrap().name.as_ref())
        .collect();
    assert_eq!(names, ["corp.example.test", "Lab", "In", "Out"]);
    assert!(!m.ous.busy());
}

#[test]
fn typed_paths_are_made_absolute() {
    let mut m = preloaded();
    goto(&mut m, Page::Features);
    for (typed, want) in [
        ("~/answers.toml", "/home/admin/answers.toml"),
        ("runs/answers.toml", "/home/admin/work/runs/answers.toml"),
        ("/srv/a.toml", "/srv/a.toml"),
    ] {
        send(&mut m, ctrl('s'));
        send(&mut m, ctrl('u'));
        type_text(&mut m, typed);
        let e = enter(&mut m);
        assert!(
            matches!(e.as_slice(), [Effect::Save { path, .. }] if path.to_str() == Some(want)),
            "{typed}: {e:?}"
        );
        m.popup = None;
    }
    // A CA file typed in the Add Directory dialog.
    goto(&mut m, Page::Directories);
    m.focus = Target::DirectoryList;
    enter(&mut m); // edit
    let Some(Popup::Directory(d)) = m.popup.as_mut() else {
        panic!("the dialog is open");
    };
    d.focus = 3;
    send(&mut m, ctrl('u'));
    type_text(&mut m, "certs/ca.pem");
    if let Some(Popup::Directory(d)) = m.popup.as_mut() {
        d.focus = 5;
    }
    type_text(&mut m, "pw");
    if let Some(Popup::Directory(d)) = m.popup.as_mut() {
        d.focus = pages::directories::DIALOG_OK;
    }
    enter(&mut m);
    assert!(m.popup.is_none(), "{:?}", m.popup);
    assert_eq!(
        m.answers.directories[0].ca_file.as_deref(),
        Some(std::path::Path::new("/home/admin/work/certs/ca.pem"))
    );
}

#[test]
fn saving_over_the_preloaded_file_says_so() {
    let mut m = preloaded();
    m.answers.features.admin_sd_holder = true;
    send(&mut m, ctrl('s'));
    let e = enter(&mut m);
    let Some(Effect::Save { path, .. }) = e.into_iter().next() else {
        panic!("Save saves");
    };
    assert_eq!(Some(&path), m.answers_path.as_ref());
    send(
        &mut m,
        Message::Saved {
            path,
            result: Ok(()),
        },
    );
    assert!(
        m.status
            .as_deref()
            .unwrap_or_default()
            .contains("replacing the file they were loaded from")
    );
}

#[test]
fn ready_warns_about_forest_upn_suffixes_the_tenant_has_not_verified() {
    let mut m = preloaded();
    let key = m.answers.cloud.clone().unwrap();
    m.azure.status = pages::azure::Status::Done {
        key,
        summary: cloud_ok(),
    };
    assert!(
        pages::ready::upn_warnings(&m).is_empty(),
        "no forest known yet"
    );
    m.dirs.status[0] = pages::directories::DirStatus::Ok {
        key: m.answers.directories[0].clone(),
        info: directory_info(),
    };
    let w = pages::ready::upn_warnings(&m);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("corp.example.test"),
        "contoso.com is verified"
    );
    m.ready.plan = Some((m.answers.clone(), Ok(plan())));
    goto(&mut m, Page::Ready);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| {
            crate::ui::view(&m, f);
        })
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("UPN suffix corp.example.test is not a verified domain"),
        "{screen}"
    );
}

#[test]
fn a_missing_admin_password_is_asked_for_like_prompt() {
    let text = LAB_ANSWERS.replace("admin_password = \"prompt\"\n", "");
    let a = crate::answers::Answers::from_toml(&text).unwrap();
    assert_eq!(a.directories[0].admin_password, SecretRef::Prompt);
    let mut m = Model::new(Some(a), None, paths());
    goto(&mut m, Page::Directories);
    assert_eq!(m.focus, Target::DirPassword(0));
}
