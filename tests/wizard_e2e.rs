//! Issue 8 end to end: the real binary in a pseudo-terminal (portable-pty, screen read with vt100) against the
//! Samba lab and the Entra ID stand-in. It walks every page, types the admin password into the `prompt` field,
//! toggles an OU in the tree and configures; then the directory itself must let the connector reset a password
//! in scope and refuse one outside it, and `apply --answers SAVED --yes` on the saved answers writes nothing.

mod common;
#[path = "entra_standin/server.rs"]
mod standin;

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use standin::{Config, DeviceOutcome, DeviceScript, GLOBAL_ADMINISTRATOR, StandIn, User};

const COLS: u16 = 120;
const ROWS: u16 = 40;

/// A program in a pseudo-terminal, its screen kept up to date by a reader thread.
struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Text that must never be on screen.
    secret: String,
}

impl Pty {
    fn spawn(args: &[&str], env: &[(&str, String)], secret: &str) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_writeback-wizard"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn in the pty");
        drop(pair.slave);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            ROWS.try_into().unwrap(),
            COLS.try_into().unwrap(),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let parser = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().expect("pty writer");
        // Keep the master open for the child's lifetime.
        std::mem::forget(pair.master);
        Pty {
            screen,
            writer,
            child,
            secret: secret.to_string(),
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// The screen row the tree cursor (`>`) is on.
    fn cursor_row(&self) -> String {
        self.contents()
            .lines()
            .find(|l| l.contains("│>"))
            .unwrap_or_default()
            .to_string()
    }

    /// Types `keys`; what they change is waited for with [`Pty::wait_for`] / [`Pty::wait_until`], never a sleep.
    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        self.no_secret();
    }

    /// Waits until `ok` holds for the screen.
    fn wait_until(&mut self, what: &str, secs: u64, ok: impl Fn(&Pty) -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if ok(self) {
                self.no_secret();
                return;
            }
            if Instant::now() > until {
                panic!(
                    "waited {secs}s for {what}; the screen is:\n{}",
                    self.contents()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the terminal is back as it was: main screen, no mouse reporting.
    fn restored(&self) -> bool {
        let p = self.screen.lock().unwrap();
        !p.screen().alternate_screen()
            && p.screen().mouse_protocol_mode() == vt100::MouseProtocolMode::None
    }

    fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("the child's pid");
        let ok = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} {pid}");
    }

    fn no_secret(&self) {
        if !self.secret.is_empty() {
            assert!(
                !self.contents().contains(&self.secret),
                "the password is on screen:\n{}",
                self.contents()
            );
        }
    }

    fn wait_for(&mut self, text: &str, secs: u64) {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.contents();
            if screen.contains(text) {
                self.no_secret();
                return;
            }
            if Instant::now() > until {
                panic!("waited {secs}s for {text:?}; the screen is:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&mut self, secs: u64) -> u32 {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.exit_code();
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!(
                    "the program did not exit; the screen is:\n{}",
                    self.contents()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

const ENTER: &str = "\r";
const TAB: &str = "\t";
const BACK_TAB: &str = "\x1b[Z";
const RIGHT: &str = "\x1b[C";
const DOWN: &str = "\x1b[B";

fn journals(state: &Path) -> usize {
    std::fs::read_dir(state.join("journal"))
        .map(|d| d.flatten().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_configures_the_lab_and_the_saved_answers_replay_as_a_no_op() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut config = Config::default();
    config.users.push(User::new(
        "admin@contoso.onmicrosoft.com",
        "Unused#1",
        &[GLOBAL_ADMINISTRATOR],
    ));
    config.device = DeviceScript {
        interval: 1,
        expires_in: 900,
        pending_polls: 1,
        slow_down_on_poll: None,
        outcome: DeviceOutcome::ApproveAs("admin@contoso.onmicrosoft.com".into()),
    };
    let standin = StandIn::start(config, 0).await.unwrap();

    let dir = std::env::temp_dir().join(unique("wbw-e2e-"));
    let state = dir.join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let answers = dir.join("answers.toml");
    std::fs::write(
        &answers,
        format!(
            "version = 1\n\n[[directory]]\nforest = \"{}\"\nurl = \"{}\"\ntls = \"ldaps\"\nca_file = \"{}\"\nadmin = '{}'\nadmin_password = \"prompt\"\nconnector = '{}'\nscope = \"domains\"\n\n[features]\npassword_writeback = true\nunexpire_password = false\n\n[cloud]\ntenant = \"contoso.onmicrosoft.com\"\nsign_in = \"device-code\"\nusername = \"admin@contoso.onmicrosoft.com\"\nauthority_url = \"{}\"\ngraph_url = \"{}\"\n",
            lab.get("AD_REALM").to_lowercase(),
            lab.get("AD_LDAPS_URL"),
            lab.get("AD_CA_CERT"),
            lab.get("AD_ADMIN"),
            fx.connector_sam,
            standin.url,
            standin.url,
        ),
    )
    .unwrap();
    let password = lab.get("AD_ADMIN_PASSWORD").to_string();
    let env = vec![
        ("WRITEBACK_WIZARD_STATE_DIR", state.display().to_string()),
        ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
        ("HOME", dir.display().to_string()),
    ];
    let root_name = fx
        .root
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("OU=")
        .to_string();

    let mut w = Pty::spawn(
        &["wizard", "--answers", answers.to_str().unwrap()],
        &env,
        &password,
    );
    w.wait_for("Welcome to writeback-wizard", 30);
    w.send(ENTER);
    w.wait_for("Customize synchronization options", 10);
    w.send(ENTER);
    w.wait_for("Sign-in method", 10);
    w.send(ENTER); // sign in with device code
    w.wait_for("is a Global Administrator", 30);
    w.send(ENTER);
    w.wait_for("Configured directories", 10);
    // The admin password is `prompt`: the page opens with the cursor in its masked field.
    w.wait_for("▸ Admin password", 5);
    w.send(&password);
    w.wait_for(&"•".repeat(password.chars().count()), 5);
    w.send(ENTER);
    w.wait_for("✓ forest", 60);
    w.send(ENTER);
    w.wait_for("Sync selected domains and OUs", 10);
    w.wait_for(" loaded", 30);
    // To the tree, find our OU, open it, check OU=In.
    for focused in ["[>Previous<]", "[>Refresh<]"] {
        w.send(BACK_TAB);
        w.wait_for(focused, 5);
    }
    w.send(BACK_TAB);
    w.wait_until("the tree's cursor", 5, |p| !p.cursor_row().is_empty());
    w.send("/");
    w.wait_for("  /█", 5);
    w.send(&root_name);
    w.wait_for(&format!("/{root_name}█"), 5);
    w.send(ENTER);
    w.wait_until("the cursor on our OU", 5, |p| {
        p.cursor_row().contains(&root_name)
    });
    w.send(RIGHT);
    w.wait_for(" Out", 30);
    for _ in 0..5 {
        let row = w.cursor_row();
        if row.contains(" In") {
            break;
        }
        w.send(DOWN);
        w.wait_until("the cursor to move", 5, |p| p.cursor_row() != row);
    }
    assert!(w.cursor_row().contains(" In"), "{}", w.contents());
    w.send(" ");
    w.wait_for("1 container(s) selected", 5);
    w.wait_until("In checked", 5, |p| p.cursor_row().contains("[x] In"));
    for focused in ["[>Refresh<]", "[>Previous<]", "[>Next<]"] {
        w.send(TAB);
        w.wait_for(focused, 5);
    }
    w.send(ENTER);
    w.wait_for("Select the permissions to grant", 10);
    w.send(ENTER);
    w.wait_for("Nothing has been written", 60);
    assert!(w.contents().contains(&fx.target_ou), "{}", w.contents());
    w.send(ENTER); // Configure
    w.wait_for("Write ", 5);
    assert_eq!(
        journals(&state),
        0,
        "nothing is written before Configure is confirmed"
    );
    w.send(ENTER);
    w.wait_for("Password writeback permissions are configured", 60);
    w.wait_for("written and verified", 5);
    w.send(ENTER); // Exit
    assert_eq!(w.wait_exit(10), 0);

    // On the directory: the connector resets a password in scope and is refused outside it.
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "In#Scope-2026a").await,
        0
    );
    assert_eq!(
        reset_password(&mut connector, &fx.deep_user, "In#Scope-2026b").await,
        0
    );
    assert_eq!(
        reset_password(&mut connector, &fx.out_user, "Out#Scope-2026").await,
        50,
        "insufficientAccessRights outside the selected OU"
    );

    // The saved answers: a valid file, references only, the OU toggled in the tree.
    let saved = dir.join("config/writeback-wizard/answers.toml");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(!text.contains(&password), "{text}");
    assert!(text.contains("admin_password = \"prompt\""), "{text}");
    assert!(text.contains(&fx.target_ou), "{text}");
    let log = std::fs::read_to_string(state.join("wizard.log")).unwrap();
    assert!(!log.contains(&password), "the password is in the log");
    assert!(log.contains("apply: ok"), "{log}");

    // Replaying the saved answers writes nothing (the password is `prompt`: typed at the terminal).
    let before = journals(&state);
    let mut replay = Pty::spawn(
        &["apply", "--answers", saved.to_str().unwrap(), "--yes"],
        &env,
        "",
    );
    replay.wait_for("admin_password (", 30);
    replay.send(&password);
    replay.send(ENTER);
    let code = replay.wait_exit(60);
    let out = replay.contents();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing written"), "{out}");
    assert_eq!(
        journals(&state),
        before,
        "no new journal: nothing was written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM and SIGHUP quit like `q`: the terminal is restored (main screen, no mouse reporting), also with
/// unsaved answers on screen; nothing needs the lab.
#[test]
fn a_signal_quits_and_restores_the_terminal() {
    for sig in ["TERM", "HUP"] {
        let dir = std::env::temp_dir().join(unique("wbw-signal-"));
        std::fs::create_dir_all(&dir).unwrap();
        let env = vec![
            (
                "WRITEBACK_WIZARD_STATE_DIR",
                dir.join("state").display().to_string(),
            ),
            ("XDG_CONFIG_HOME", dir.join("config").display().to_string()),
            ("HOME", dir.display().to_string()),
        ];
        let mut w = Pty::spawn(&["wizard"], &env, "");
        w.wait_for("Welcome to writeback-wizard", 30);
        assert!(!w.restored(), "the wizard owns the screen");
        // Unsaved answers: q would ask; a signal quits all the same.
        w.send(ENTER);
        w.wait_for("Customize synchronization options", 10);
        w.send(ENTER);
        w.wait_for("Sign-in method", 10);
        w.send("contoso.onmicrosoft.com");
        w.wait_for("contoso.onmicrosoft.com", 5);
        w.signal(sig);
        let code = w.wait_exit(10);
        w.wait_until("the terminal restored", 5, Pty::restored);
        assert_eq!(code, 0, "SIG{sig}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
