//! Snapshots (ratatui `TestBackend`) of every screen in its states at 80×24 and 120×40, plus the too-small
//! screen; and a check that no typed secret ever appears on screen or in a stored snapshot.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use super::view;
use crate::error::Error;
use crate::wizard::data::*;
use crate::wizard::pages::azure::Status;
use crate::wizard::pages::directories::DirStatus;
use crate::wizard::testing::*;
use crate::wizard::{Button, Hit, Message, Model, Page, Popup, Target, goto, update};

fn render(m: &Model, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|f| {
            view(m, f);
        })
        .unwrap();
    terminal.backend().to_string()
}

/// Snapshots `m` at both sizes and checks no canary shows.
fn snap(name: &str, m: &mut Model) {
    for (w, h) in [(80, 24), (120, 40)] {
        update(m, Message::Resize(w, h));
        let screen = render(m, w, h);
        assert!(!screen.contains(CANARY), "{name}: a secret is on screen");
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

fn at(page: Page) -> Model {
    let mut m = preloaded();
    goto_quiet(&mut m, page);
    m
}

fn goto_quiet(m: &mut Model, page: Page) {
    let _ = goto(m, page);
}

fn with_password(m: &mut Model) {
    m.dirs.passwords[0] = {
        let mut f = crate::wizard::field::TextField::masked();
        f.set(CANARY);
        f
    };
}

fn validated(m: &mut Model) {
    with_password(m);
    m.dirs.status[0] = DirStatus::Ok {
        key: m.answers.directories[0].clone(),
        info: directory_info(),
    };
}

#[test]
fn welcome() {
    snap("welcome_empty", &mut empty());
    snap("welcome_filled", &mut preloaded());
}

#[test]
fn tasks() {
    let mut m = at(Page::Tasks);
    snap("tasks_filled", &mut m);
    m.tasks.selected = 2;
    let e = update(&mut m, key(KeyCode::Enter));
    assert!(!e.is_empty() || m.popup.is_some());
    if m.popup.is_some() {
        // The admin password is `prompt`: the task asks for it first.
        snap("tasks_password_dialog", &mut m);
        type_text(&mut m, CANARY);
        update(&mut m, key(KeyCode::Enter));
    }
    snap("tasks_loading", &mut m);
    let id = task_id(&m);
    update(
        &mut m,
        Message::TaskDone {
            id,
            task: crate::wizard::pages::Task::Troubleshoot,
            result: Ok(TaskOutput::Troubleshoot {
                check: vec![CheckSummary {
                    forest: "corp.example.test".into(),
                    connector: "CORP\\svc-aadc".into(),
                    rights: vec![
                        (
                            "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                            "Reset Password".into(),
                            "present",
                        ),
                        (
                            "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                            "Write lockoutTime".into(),
                            "missing",
                        ),
                        (
                            "DC=corp,DC=example,DC=test".into(),
                            "Unexpire Password".into(),
                            "denied",
                        ),
                    ],
                    risks: vec![(
                        "inheritance-disabled".into(),
                        "OU=Blocked,OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                        "this OU/container does not inherit permissions".into(),
                        "enable inheritance on it, or add it to the selected OUs".into(),
                    )],
                    missing: 2,
                }],
                cloud: None,
                users: vec![crate::wizard::data::UsersSummary {
                    forest: "corp.example.test".into(),
                    directory: 0,
                    users: 12,
                    fully_covered: 10,
                    blocked: 2,
                    by_reason: vec![("no-grant".into(), 1), ("user-cannot-change-password".into(), 1)],
                    unexpire: vec![(
                        "DC=corp,DC=example,DC=test".into(),
                        true,
                        "granted by (OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;AU)".into(),
                    )],
                    blocked_users: vec![
                        (
                            "CN=bob,OU=Out,OU=Lab,DC=corp,DC=example,DC=test".into(),
                            vec!["Reset Password: no ACE grants it to the connector or a group it is in".into()],
                        ),
                        (
                            "CN=carol,OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                            vec!["Change Password: \"User cannot change password\" is set on this user".into()],
                        ),
                    ],
                    more_blocked: 0,
                }],
                failed: Vec::new(),
            }),
        },
    );
    snap("tasks_troubleshoot_done", &mut m);
    // Down picks the second blocked user; Enter asks the back end to explain it, in a popup.
    update(&mut m, key(KeyCode::Down));
    let effects = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(&effects[..], [crate::wizard::Effect::Explain { directory: 0, dn, .. }] if dn.starts_with("CN=carol")),
        "{effects:?}"
    );
    snap("tasks_explain_loading", &mut m);
    update(
        &mut m,
        Message::Explained {
            dn: "CN=carol,OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
            result: Ok("user CN=carol,OU=In,OU=Lab,DC=corp,DC=example,DC=test (user)\n\nChange Password: REFUSED\n  why: \"User cannot change password\" is set on this user\n  fix: clear \"User cannot change password\" on the user".into()),
        },
    );
    snap("tasks_explain_done", &mut m);
    update(&mut m, key(KeyCode::Esc));
    assert!(m.popup.is_none());
    let mut m = at(Page::Tasks);
    with_password(&mut m);
    m.tasks.selected = 3;
    update(&mut m, key(KeyCode::Enter));
    let id = task_id(&m);
    update(
        &mut m,
        Message::TaskDone {
            id,
            task: crate::wizard::pages::Task::RevertPreview,
            result: Ok(TaskOutput::RevertPreview {
                list: vec![(
                    "corp.example.test".into(),
                    vec![
                        "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                        "DC=corp,DC=example,DC=test".into(),
                    ],
                )],
                failed: Vec::new(),
            }),
        },
    );
    snap("tasks_revert_preview", &mut m);
    update(&mut m, key(KeyCode::Enter));
    snap("tasks_revert_confirm_dialog", &mut m);
    let mut m = at(Page::Tasks);
    with_password(&mut m);
    m.tasks.selected = 1;
    update(&mut m, key(KeyCode::Enter));
    let id = task_id(&m);
    update(
        &mut m,
        Message::TaskDone {
            id,
            task: crate::wizard::pages::Task::ViewCurrent,
            result: Err(Error::runtime(
                "cannot connect to ldaps://127.0.0.1:636: Connection refused (os error 111)",
            )
            .hint(
                "nothing listens there: check the host and port in url, and that the DC is running",
            )),
        },
    );
    snap("tasks_view_error", &mut m);
}

#[test]
fn one_failing_directory_does_not_hide_the_others() {
    let refused = (
        "fabrikam.test".to_string(),
        "cannot connect to ldaps://127.0.0.4:636: Connection refused (os error 111)\nhint: check the url".to_string(),
    );
    let mut m = at(Page::Tasks);
    with_password(&mut m);
    m.tasks.selected = 3;
    update(&mut m, key(KeyCode::Enter));
    let id = task_id(&m);
    update(
        &mut m,
        Message::TaskDone {
            id,
            task: crate::wizard::pages::Task::RevertPreview,
            result: Ok(TaskOutput::RevertPreview {
                list: vec![(
                    "corp.example.test".into(),
                    vec!["OU=In,OU=Lab,DC=corp,DC=example,DC=test".into()],
                )],
                failed: vec![refused.clone()],
            }),
        },
    );
    snap("tasks_revert_preview_partial", &mut m);
    let screen = render(&m, 120, 40);
    assert!(screen.contains("forest fabrikam.test: cannot connect"));
    assert!(screen.contains("OU=In,OU=Lab,DC=corp,DC=example,DC=test"));
    assert_eq!(
        m.focus,
        Target::Button(Button::Revert),
        "the reachable one can still be reverted"
    );
    let mut m = at(Page::Tasks);
    with_password(&mut m);
    m.tasks.selected = 2;
    update(&mut m, key(KeyCode::Enter));
    let id = task_id(&m);
    update(
        &mut m,
        Message::TaskDone {
            id,
            task: crate::wizard::pages::Task::Troubleshoot,
            result: Ok(TaskOutput::Troubleshoot {
                check: vec![CheckSummary {
                    forest: "corp.example.test".into(),
                    connector: "CORP\\svc-aadc".into(),
                    rights: vec![(
                        "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                        "Reset Password".into(),
                        "present",
                    )],
                    risks: Vec::new(),
                    missing: 0,
                }],
                cloud: None,
                users: Vec::new(),
                failed: vec![refused],
            }),
        },
    );
    let screen = render(&m, 120, 40);
    assert!(
        screen.contains("forest fabrikam.test: cannot connect"),
        "{screen}"
    );
    assert!(screen.contains("Forest corp.example.test"), "{screen}");
    assert!(
        !screen.contains("every required permission is present"),
        "{screen}"
    );
}

#[test]
fn azure() {
    let mut m = empty();
    goto_quiet(&mut m, Page::AzureAd);
    snap("azure_empty", &mut m);
    let mut m = at(Page::AzureAd);
    snap("azure_filled", &mut m);
    m.focus = Target::Tenant;
    update(&mut m, ctrl('u'));
    m.focus = Target::Button(Button::Next);
    update(&mut m, key(KeyCode::Enter));
    snap("azure_validation_error", &mut m);
    let mut m = at(Page::AzureAd);
    let e = update(&mut m, key(KeyCode::Enter));
    assert_eq!(e.len(), 1);
    snap("azure_loading", &mut m);
    let id = sign_in_id(&m);
    update(
        &mut m,
        Message::DevicePrompt {
            id,
            prompt: DevicePrompt {
                user_code: "ABCD-EFGH".into(),
                verification_uri: "https://microsoft.com/devicelogin".into(),
                message: "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate.".into(),
            },
        },
    );
    snap("azure_device_code", &mut m);
    let key_cloud = m.answers.cloud.clone().unwrap();
    update(
        &mut m,
        Message::SignedIn {
            id,
            key: key_cloud.clone(),
            result: Ok(cloud_ok()),
        },
    );
    snap("azure_done", &mut m);
    let mut refused = cloud_ok();
    refused.verdict = Verdict::Refuse;
    refused.message = "The user admin@contoso.onmicrosoft.com was authenticated successfully, but the user isn't assigned the Global Administrator role.".into();
    m.azure.status = Status::Done {
        key: key_cloud,
        summary: refused,
    };
    snap("azure_refused", &mut m);
    // Username and password with a typed password.
    let mut m = at(Page::AzureAd);
    m.focus = Target::SignInMethod;
    update(&mut m, key(KeyCode::Down));
    m.focus = Target::CloudPassword;
    type_text(&mut m, CANARY);
    snap("azure_password_filled", &mut m);
}

#[test]
fn directories() {
    let mut m = empty();
    goto_quiet(&mut m, Page::Directories);
    snap("directories_empty", &mut m);
    update(&mut m, key(KeyCode::Enter));
    snap("directories_dialog_open", &mut m);
    type_text(&mut m, "corp.example.test");
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, ctrl('u'));
    type_text(&mut m, "ldap://127.0.0.1");
    for _ in 0..6 {
        update(&mut m, key(KeyCode::Tab));
    }
    update(&mut m, key(KeyCode::Enter));
    snap("directories_dialog_error", &mut m);
    let mut m = at(Page::Directories);
    snap("directories_filled", &mut m);
    type_text(&mut m, CANARY);
    update(&mut m, key(KeyCode::Enter));
    snap("directories_loading", &mut m);
    let key0 = m.answers.directories[0].clone();
    let id = check_id(&m, 0);
    update(
        &mut m,
        Message::DirectoryValidated {
            id,
            index: 0,
            key: key0.clone(),
            result: Err(Error::usage("connector \"CORP\\\\svc-aadc\" was not found in forest corp.example.test")
                .hint("check connector in the answers file: DOMAIN\\name, name, UPN or DN of an existing account")),
        },
    );
    snap("directories_validation_error", &mut m);
    update(&mut m, key(KeyCode::Enter));
    snap("directories_edit_dialog_error", &mut m);
    update(&mut m, key(KeyCode::Esc));
    m.dirs.status[0] = DirStatus::Checking { id: 99 };
    update(
        &mut m,
        Message::DirectoryValidated {
            id: 99,
            index: 0,
            key: key0,
            result: Ok(directory_info()),
        },
    );
    snap("directories_done", &mut m);
}

fn ou_page() -> Model {
    let mut m = preloaded();
    validated(&mut m);
    goto_quiet(&mut m, Page::OuFilter);
    m
}

#[test]
fn ou_filter() {
    let mut m = ou_page();
    snap("ou_filter_loading", &mut m);
    let g = m.ous.tree().unwrap().generation;
    update(
        &mut m,
        Message::ChildrenLoaded {
            dir: 0,
            node: 0,
            generation: g,
            entries: vec![
                ou("OU=Lab,DC=corp,DC=example,DC=test"),
                ou("OU=Domain Controllers,DC=corp,DC=example,DC=test"),
            ],
            done: true,
            error: None,
        },
    );
    m.focus = Target::Tree;
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Right));
    update(
        &mut m,
        Message::ChildrenLoaded {
            dir: 0,
            node: 1,
            generation: g,
            entries: vec![
                ou("OU=In,OU=Lab,DC=corp,DC=example,DC=test"),
                ou("OU=Out,OU=Lab,DC=corp,DC=example,DC=test"),
            ],
            done: true,
            error: None,
        },
    );
    snap("ou_filter_filled", &mut m);
    update(&mut m, key(KeyCode::Char('/')));
    type_text(&mut m, "ou");
    snap("ou_filter_search", &mut m);
    update(&mut m, key(KeyCode::Esc));
    // Uncheck In: nothing is selected, Next refuses at the tree.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Char(' ')));
    m.focus = Target::Button(Button::Next);
    update(&mut m, key(KeyCode::Enter));
    snap("ou_filter_validation_error", &mut m);
    // Sync all.
    m.focus = Target::Scope;
    update(&mut m, key(KeyCode::Char(' ')));
    snap("ou_filter_all", &mut m);
}

#[test]
fn features() {
    let mut m = at(Page::Features);
    snap("features_filled", &mut m);
    m.answers.features.password_writeback = false;
    m.answers.features.unexpire_password = false;
    update(&mut m, key(KeyCode::Enter));
    snap("features_validation_error", &mut m);
}

#[test]
fn ready() {
    let mut m = preloaded();
    validated(&mut m);
    let e = goto(&mut m, Page::Ready);
    assert_eq!(e.len(), 1, "opening Ready plans");
    snap("ready_loading", &mut m);
    let key_a = m.answers.clone();
    update(
        &mut m,
        Message::Planned {
            key: key_a.clone(),
            result: Ok(plan()),
        },
    );
    snap("ready_done", &mut m);
    m.focus = Target::PlanList;
    update(&mut m, key(KeyCode::Char('d')));
    snap("ready_sddl_dialog", &mut m);
    update(&mut m, key(KeyCode::Esc));
    m.focus = Target::Button(Button::Configure);
    update(&mut m, key(KeyCode::Enter));
    snap("ready_confirm_dialog", &mut m);
    let mut m = preloaded();
    let e = goto(&mut m, Page::Ready);
    let key_a = m.answers.clone();
    assert_eq!(e.len(), 1);
    update(
        &mut m,
        Message::Planned {
            key: key_a,
            result: Err(Error::usage(
                "ous[1]: OU=In,OU=Lab,DC=corp,DC=example,DC=test does not exist",
            )
            .hint("check the DN's spelling; nothing was written")),
        },
    );
    snap("ready_error", &mut m);
}

#[test]
fn ready_refused_disables_configure_and_says_why() {
    let mut m = preloaded();
    validated(&mut m);
    let _ = goto(&mut m, Page::Ready);
    let mut p = plan();
    p[0].targets[1].aces_to_add = 1;
    p[0].targets[1].writable = false;
    p[0].refusal = Some("the admin may not change the permissions of DC=corp,DC=example,DC=test\nhint: run as an account with Modify permissions (WRITE_DAC) on these objects; nothing was written".into());
    let key_a = m.answers.clone();
    update(
        &mut m,
        Message::Planned {
            key: key_a,
            result: Ok(p),
        },
    );
    snap("ready_refused", &mut m);
    assert_eq!(
        m.focus,
        Target::Button(Button::Previous),
        "not on a disabled button"
    );
    m.focus = Target::Button(Button::Configure);
    for _ in 0..3 {
        let e = update(&mut m, key(KeyCode::Enter));
        assert!(e.is_empty() && m.popup.is_none(), "Configure does nothing");
    }
    assert!(
        m.status
            .as_deref()
            .unwrap_or_default()
            .contains("apply would refuse")
    );
    assert!(!m.writes_started);
    // Nor through the confirmation (opened before the plan came back, say).
    m.popup = Some(Popup::ConfirmConfigure { focus: 0 });
    let e = update(&mut m, key(KeyCode::Enter));
    assert!(e.is_empty() && m.page == Page::Ready && !m.writes_started);
}

#[test]
fn a_failed_save_at_configure_returns_to_ready_with_nothing_written() {
    let mut m = configuring();
    assert!(m.writes_started);
    update(
        &mut m,
        Message::Saved {
            path: paths().config_answers,
            result: Err(Error::runtime(
                "cannot write /home/admin/.config/writeback-wizard/answers.toml: Permission denied (os error 13)",
            )),
        },
    );
    assert_eq!(m.page, Page::Ready);
    assert!(
        !m.writes_started,
        "Previous works again: nothing was written"
    );
    assert!(m.popup.is_none());
    snap("ready_save_failed", &mut m);
    // Configure tries again.
    update(&mut m, key(KeyCode::Enter));
    assert!(matches!(m.popup, Some(Popup::ConfirmConfigure { .. })));
}

fn configuring() -> Model {
    let mut m = preloaded();
    m.ready.plan = Some((m.answers.clone(), Ok(plan())));
    goto_quiet(&mut m, Page::Ready);
    let _ = crate::wizard::pages::ready::configure(&mut m);
    m
}

#[test]
fn configuring_and_complete() {
    let mut m = configuring();
    snap("configuring_loading", &mut m);
    update(
        &mut m,
        Message::Saved {
            path: paths().config_answers,
            result: Ok(()),
        },
    );
    update(
        &mut m,
        Message::ApplyProgress(ApplyEvent {
            done: 1,
            total: 2,
            dn: "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
            ok: true,
            text: "OU=In,OU=Lab,DC=corp,DC=example,DC=test: added 4 ACE(s), verified".into(),
        }),
    );
    snap("configuring_progress", &mut m);
    // Enter (a repeat of the confirming key) does nothing; q asks before cancelling.
    update(&mut m, key(KeyCode::Enter));
    assert!(!m.configuring.cancel_requested && m.popup.is_none());
    update(&mut m, key(KeyCode::Char('q')));
    snap("configuring_cancel_dialog", &mut m);
    update(&mut m, key(KeyCode::Left));
    update(&mut m, key(KeyCode::Enter));
    assert!(m.configuring.cancel_requested);
    snap("configuring_cancelling", &mut m);
    update(&mut m, ctrl('c'));
    snap("configuring_quit_now_dialog", &mut m);
    update(&mut m, key(KeyCode::Esc));
    update(
        &mut m,
        Message::Applied(Ok(ApplyResult {
            directories: vec![DirectoryResult {
                forest: "corp.example.test".into(),
                journal: Some(
                    "/home/admin/.local/state/writeback-wizard/journal/0001-corp.example.test.json"
                        .into(),
                ),
                written: vec!["OU=In,OU=Lab,DC=corp,DC=example,DC=test".into()],
                unchanged: vec!["DC=corp,DC=example,DC=test".into()],
                failed: vec![],
                skipped: vec!["OU=Other,OU=Lab,DC=corp,DC=example,DC=test".into()],
                error: None,
            }],
            cancelled: true,
        })),
    );
    snap("complete_cancelled", &mut m);
    let mut m = configuring();
    update(
        &mut m,
        Message::Saved {
            path: paths().config_answers,
            result: Ok(()),
        },
    );
    update(
        &mut m,
        Message::Applied(Ok(ApplyResult {
            directories: vec![DirectoryResult {
                forest: "corp.example.test".into(),
                journal: Some(
                    "/home/admin/.local/state/writeback-wizard/journal/0001-corp.example.test.json"
                        .into(),
                ),
                written: vec!["OU=In,OU=Lab,DC=corp,DC=example,DC=test".into()],
                unchanged: vec!["DC=corp,DC=example,DC=test".into()],
                ..Default::default()
            }],
            cancelled: false,
        })),
    );
    snap("complete_done", &mut m);
    let mut m = configuring();
    update(&mut m, Message::Applied(Err(Error::runtime("the admin account may not change the permissions of OU=In,OU=Lab,DC=corp,DC=example,DC=test").hint("use an account with Modify permissions there; nothing was written"))));
    snap("complete_error", &mut m);
    // Two forests: one written, the other failed; each with its result, the journal of the first.
    let mut m = configuring();
    update(
        &mut m,
        Message::Applied(Ok(ApplyResult {
            directories: vec![
                DirectoryResult {
                    forest: "corp.example.test".into(),
                    journal: Some(
                        "/home/admin/.local/state/writeback-wizard/journal/0001-corp.example.test.json"
                            .into(),
                    ),
                    written: vec!["OU=In,OU=Lab,DC=corp,DC=example,DC=test".into()],
                    ..Default::default()
                },
                DirectoryResult {
                    forest: "fabrikam.test".into(),
                    error: Some(
                        "cannot connect to ldaps://127.0.0.4:636: Connection refused (os error 111)\nhint: check the url".into(),
                    ),
                    ..Default::default()
                },
            ],
            cancelled: false,
        })),
    );
    snap("complete_partial", &mut m);
    let screen = render(&m, 120, 40);
    assert!(screen.contains("Forest fabrikam.test") && screen.contains("Connection refused"));
    assert!(!screen.contains("nothing further was written"));
    // A failure after some writes (a back-end task that stopped) never says nothing was written.
    let mut m = configuring();
    update(
        &mut m,
        Message::ApplyProgress(ApplyEvent {
            done: 1,
            total: 2,
            dn: "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
            ok: true,
            text: "OU=In,OU=Lab,DC=corp,DC=example,DC=test: added 4 ACE(s), verified".into(),
        }),
    );
    update(
        &mut m,
        Message::Applied(Err(Error::runtime(
            "internal error: the task stopped (boom)",
        ))),
    );
    snap("complete_error_after_writes", &mut m);
    let screen = render(&m, 80, 24);
    assert!(!screen.contains("nothing was written"), "{screen}");
    assert!(screen.contains("1 object(s) were written"), "{screen}");
}

#[test]
fn popups_and_too_small() {
    let mut m = at(Page::Features);
    update(&mut m, key(KeyCode::Char('?')));
    snap("help_dialog", &mut m);
    let mut m = at(Page::Features);
    update(&mut m, ctrl('s'));
    snap("save_as_dialog", &mut m);
    let mut m = at(Page::Features);
    m.dirty = true;
    update(&mut m, key(KeyCode::Char('q')));
    assert!(matches!(m.popup, Some(Popup::ConfirmQuit { .. })));
    snap("quit_dialog", &mut m);
    let mut m = at(Page::Directories);
    with_password(&mut m);
    update(&mut m, Message::Resize(60, 15));
    let screen = render(&m, 60, 15);
    assert!(!screen.contains(CANARY));
    insta::assert_snapshot!("too_small_60x15", screen);
    // It comes back as it was.
    update(&mut m, Message::Resize(80, 24));
    assert_eq!(m.page, Page::Directories);
    assert!(render(&m, 80, 24).contains("Connect your directories"));
}

/// Every stored snapshot, however it was made, is free of the canary and of anything password-like typed in.
#[test]
fn no_secret_in_any_stored_snapshot() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/snapshots");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        assert!(
            !text.contains(CANARY),
            "{} holds a secret",
            e.path().display()
        );
    }
}

/// Renders `m` at w×h: the screen as rows of cells, and the click areas the frame laid out.
fn render_hits(m: &mut Model, w: u16, h: u16) -> (Vec<Vec<String>>, super::Hits) {
    update(m, Message::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut hits = super::Hits::default();
    terminal
        .draw(|f| {
            hits = view(m, f);
        })
        .unwrap();
    let buf = terminal.backend().buffer().clone();
    let rows = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    (rows, hits)
}

/// The cell where `needle` is drawn (the first row that has it).
fn find(rows: &[Vec<String>], needle: &str) -> (u16, u16) {
    let n: Vec<char> = needle.chars().collect();
    for (y, row) in rows.iter().enumerate() {
        let cells: Vec<char> = row
            .iter()
            .map(|s| s.chars().next().unwrap_or(' '))
            .collect();
        if let Some(x) = cells.windows(n.len()).position(|w| w == n.as_slice()) {
            return (x as u16, y as u16);
        }
    }
    let screen: Vec<String> = rows.iter().map(|r| r.concat()).collect();
    panic!("{needle:?} is not on screen:\n{}", screen.join("\n"));
}

/// Clicks where `needle` is drawn (`dx` cells into it) through the frame's hits, as the runtime does.
fn click_on(m: &mut Model, w: u16, h: u16, needle: &str, dx: u16) -> Option<Hit> {
    let (rows, hits) = render_hits(m, w, h);
    let (x, y) = find(&rows, needle);
    let hit = hits.at(x + dx, y);
    if let Some(hit) = hit {
        update(m, Message::Click(hit));
    }
    hit
}

#[test]
fn clicks_land_on_what_is_drawn_where_lines_wrap() {
    for (w, h) in [(80, 24), (120, 40)] {
        // Connect your directories with a long, wrapping error above the buttons.
        let mut m = at(Page::Directories);
        m.dirs.status[0] = DirStatus::Failed {
            key: m.answers.directories[0].clone(),
            field: crate::wizard::DirField::Connector,
            error: format!(
                "connector {}: was not found in forest corp.example.test\nhint: {}",
                "CORP\\svc-aadc-with-a-long-name-".repeat(3),
                "check connector in the answers file: DOMAIN\\name, name, UPN or DN of an existing account, and that it is in this forest ".repeat(2)
            ),
        };
        assert_eq!(
            click_on(&mut m, w, h, "[ Edit ]", 2),
            Some(Hit::Button(Button::EditDirectory)),
            "{w}x{h}"
        );
        assert!(matches!(m.popup, Some(Popup::Directory(_))), "{w}x{h}");
        let mut m = at(Page::Directories);
        m.focus = Target::Button(Button::Next);
        assert_eq!(
            click_on(&mut m, w, h, "Admin password:", 0),
            Some(Hit::Focus(Target::DirPassword(0)))
        );
        assert_eq!(m.focus, Target::DirPassword(0));

        // Optional features: the descriptions wrap at 80 columns.
        let mut m = at(Page::Features);
        assert!(!m.answers.features.admin_sd_holder);
        assert_eq!(
            click_on(&mut m, w, h, "[ ] AdminSDHolder", 1),
            Some(Hit::Check(Target::Feature(2), 2)),
            "{w}x{h}"
        );
        assert!(m.answers.features.admin_sd_holder, "{w}x{h}");
        assert_eq!(
            click_on(&mut m, w, h, "Unexpire Password", 3),
            Some(Hit::Row(Target::Feature(1), 1))
        );

        // Additional tasks and the sign-in methods.
        let mut m = at(Page::Tasks);
        click_on(&mut m, w, h, "Revert password writeback permissions", 0);
        assert_eq!(m.tasks.selected, 3);
        let mut m = at(Page::AzureAd);
        click_on(&mut m, w, h, "Client credentials", 0);
        assert_eq!(m.azure.method, 2);
    }
}

#[test]
fn the_sddl_popup_scrolls_one_ace_per_line_with_the_added_ones_marked() {
    let mut m = preloaded();
    validated(&mut m);
    let (before, after) = domain_root_sddl();
    let mut p = plan();
    p[0].targets[1].sddl_before = before;
    p[0].targets[1].sddl_after = after;
    p[0].targets[1].aces_to_add = 4;
    m.ready.plan = Some((m.answers.clone(), Ok(p)));
    goto_quiet(&mut m, Page::Ready);
    m.focus = Target::PlanList;
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Char('d')));
    snap("ready_sddl_domain_root", &mut m);
    // Walk down at 80x24 to the end: every ACE is on a row of its own, the four added ones marked.
    update(&mut m, Message::Resize(80, 24));
    let mut seen: Vec<String> = Vec::new();
    let mut last_scroll = usize::MAX;
    loop {
        let screen = render(&m, 80, 24);
        seen.extend(screen.lines().map(str::to_string));
        let Some(Popup::Sddl { scroll, .. }) = m.popup else {
            panic!("the popup stays open");
        };
        if scroll == last_scroll {
            break;
        }
        last_scroll = scroll;
        update(&mut m, key(KeyCode::PageDown));
    }
    assert!(
        last_scroll > 0,
        "a domain root's DACL does not fit: it scrolls"
    );
    let added: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|l| {
            l.find("+   (OA;CIIO;")
                .map(|i| l[i..].chars().take(30).collect())
        })
        .collect();
    assert_eq!(added.len(), 4, "the added ACEs are marked");
    assert!(
        seen.iter()
            .any(|l| l.contains("S-1-5-21-3623811015-3361044348-30300820-1153")),
        "the last ACE is reached"
    );
    assert!(seen.iter().any(|l| l.contains("S:AI")));
    snap_at("ready_sddl_domain_root_end", &mut m, 80, 24);
    // The wheel scrolls it too, and End does not scroll past the last row.
    update(&mut m, key(KeyCode::Home));
    update(&mut m, Message::Scroll(3));
    assert!(matches!(m.popup, Some(Popup::Sddl { scroll: 3, .. })));
    update(&mut m, key(KeyCode::End));
    assert!(matches!(m.popup, Some(Popup::Sddl { scroll, .. }) if scroll == last_scroll));
}

fn snap_at(name: &str, m: &mut Model, w: u16, h: u16) {
    update(m, Message::Resize(w, h));
    let screen = render(m, w, h);
    assert!(!screen.contains(CANARY));
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
}
