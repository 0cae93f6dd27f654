//! Issue 11: writeback-wizard at scale, side by side with the raw LDAP floor, on the scale lab
//! (`tests/lab/samba-dc.sh scale`: a Samba AD DC on 127.0.0.5 with 1,000 and 10,000 child OUs and 20,000 users).
//!
//!   cargo bench --bench scale                       (3 rounds; WBW_BENCH_REPS=N for more)
//!
//! Every round runs each tool on the same objects, one after the other, so a ratio compares runs a few seconds
//! apart on the same (noisy, shared) machine; the table shows medians over the rounds. It never fails on a number.
//!
//! - P1 `writeback-wizard apply --yes` on the 1,000 OUs (whole process: connect, discover, schema, plan, journal,
//!   re-read, write, verify) vs one `ldapmodify -f` writing the same descriptors, precomputed with
//!   `grants::dacl::merge` (the raw write floor), and vs `samba-tool dsacl set` (one call with the four ACEs per
//!   OU) on a sample of OUs, extrapolated to 1,000.
//! - P6 `writeback-wizard revert --yes` of those 1,000 OUs vs one `ldapmodify -f` writing the original
//!   descriptors back.
//! - P5 `check` over the 1,000 OUs vs one paged `ldapsearch` (subtree of their parent, the filter and attributes
//!   `check` reads, SD flags = DACL); `check --users` over 20,000 users vs one paged `ldapsearch` of their
//!   descriptors and the attributes `check --users` reads. Peak RSS of each process from wait4(2).
//! - P2 the wizard's loader (`runtime::backend::tree_session` + `children`, in this process) on the 10,000-OU
//!   level vs `ldapsearch -E pr=1000/noprompt` with the same base, one-level scope, filter and attributes.
//! - P3 wizard start to first frame: the real binary in a 120x40 pseudo-terminal (portable-pty + vt100), from
//!   the spawn until the header of the first page is on screen; five per round.
//! - P4 peak RSS of a process (this bench, re-run as a child) that connects like the wizard, loads the domain
//!   level and the 10,000-OU level into the wizard's Model and draws one frame of the OU page.
//!
//! The rows of apply, check and revert are followed by their phases, timed from when lines of their output
//! arrive (apply: "read N security descriptor(s)" on stderr, "Done." on stdout; check: "read ..."; revert: the
//! first line of its preview); a phase whose line no longer appears is left out.
//!
//! Environment: WBW_BENCH_REPS (rounds, default 3), WBW_BENCH_DSACL_SAMPLE (OUs for samba-tool, default 10; 0
//! skips it), WBW_BENCH_ONLY (comma list: p1 = apply, check and revert of the 1,000 OUs with their floors and
//! samba-tool; users = check --users; root = check over the domain root; p2; p3; p4; default all), WBW_BENCH_KEEP (keep the logs in the temp dir).

#[path = "../common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::Engine;
use writeback_wizard::grants::dacl::merge;
use writeback_wizard::grants::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK};
use writeback_wizard::security::{Ace, SecurityDescriptor, Sid};

/// What `check` reads below each target (src/grants/check.rs) and `check --users` per user
/// (src/grants/effective.rs), and the wizard's tree loader (src/runtime/backend.rs): the floors use the same.
const CHECK_FILTER: &str = "(|(objectClass=organizationalUnit)(objectClass=container)(&(objectCategory=person)(objectClass=user)))";
const CHECK_ATTRS: &[&str] = &["nTSecurityDescriptor", "adminCount", "objectClass"];
const USER_FILTER: &str = "(&(objectCategory=person)(objectClass=user))";
const USER_ATTRS: &[&str] = &[
    "nTSecurityDescriptor",
    "objectSid",
    "objectClass",
    "adminCount",
];
const TREE_FILTER: &str =
    "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=builtinDomain))";
const TREE_ATTRS: &[&str] = &["name", "objectClass"];
/// LDAP_SERVER_SD_FLAGS_OID with DACL_SECURITY_INFORMATION (4), as ldapsearch/ldapmodify take it.
/// GNU time, for the peak RSS of a process (`samba-dc.sh scale` installs it).
const GNU_TIME: &str = "/usr/bin/time";
const SD_FLAGS: &str = "1.2.840.113556.1.4.801";
const SD_FLAGS_VALUE: &str = "MAMCAQQ=";

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One finished process: wall time from spawn to reaped, exit code, peak RSS (KiB; 0 = unknown).
struct Run {
    secs: f64,
    code: i32,
    rss_kb: u64,
}

/// Runs `cmd` with stdout/stderr in `<log>.out`/`<log>.err`, timed, with its peak RSS.
fn run(cmd: &mut Command, log: &Path) -> Run {
    run_marked(cmd, log, &[]).0
}

/// [`run`], also noting when (seconds after the start) the first line of stdout or stderr that starts with
/// each of `marks` arrived ("stdout": the first line of stdout).
fn run_marked(cmd: &mut Command, log: &Path, marks: &[&str]) -> (Run, BTreeMap<String, f64>) {
    use std::io::{BufRead, BufReader, Write};
    // Peak RSS from GNU time's child: wait4's ru_maxrss of our own child would include this process's RSS at
    // the fork (Linux carries the old mm's high-water mark over exec).
    let rss_file = log.with_extension("rss");
    let _ = std::fs::remove_file(&rss_file);
    let mut wrapped;
    let cmd = if Path::new(GNU_TIME).exists() {
        wrapped = Command::new(GNU_TIME);
        wrapped
            .args(["-f", "%M", "-o"])
            .arg(&rss_file)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        &mut wrapped
    } else {
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let copy =
        |from: Box<dyn std::io::Read + Send>, to: PathBuf, marks: Vec<String>, stdout: bool| {
            std::thread::spawn(move || {
                let mut seen = BTreeMap::new();
                let mut file = std::io::BufWriter::new(File::create(to).unwrap());
                for line in BufReader::new(from).split(b'\n') {
                    let Ok(line) = line else { break };
                    let at = start.elapsed().as_secs_f64();
                    if stdout {
                        seen.entry("stdout".to_string()).or_insert(at);
                    }
                    for m in &marks {
                        if line.starts_with(m.as_bytes()) {
                            seen.entry(m.clone()).or_insert(at);
                        }
                    }
                    file.write_all(&line).unwrap();
                    file.write_all(b"\n").unwrap();
                }
                seen
            })
        };
    let marks: Vec<String> = marks.iter().map(|m| m.to_string()).collect();
    let out = copy(
        Box::new(child.stdout.take().unwrap()),
        log.with_extension("out"),
        marks.clone(),
        true,
    );
    let err = copy(
        Box::new(child.stderr.take().unwrap()),
        log.with_extension("err"),
        marks,
        false,
    );
    let status = child.wait().expect("wait for the child");
    let secs = start.elapsed().as_secs_f64();
    let rss_kb = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    let mut seen = out.join().unwrap();
    seen.extend(err.join().unwrap());
    let code = status.code().unwrap_or(-1);
    (Run { secs, code, rss_kb }, seen)
}

fn tail(log: &Path) -> String {
    let mut s = String::new();
    for ext in ["out", "err"] {
        let text = std::fs::read_to_string(log.with_extension(ext)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        s.push_str(&lines[lines.len().saturating_sub(15)..].join("\n"));
        s.push('\n');
    }
    s
}

/// Asserts the exit code is one of `ok` (a tool that did not do its job makes the rest meaningless).
fn expect(r: &Run, ok: &[i32], what: &str, log: &Path) {
    assert!(
        ok.contains(&r.code),
        "{what} exited {} ({}):\n{}",
        r.code,
        log.display(),
        tail(log)
    );
}

/// Samples of one row of the table.
#[derive(Default)]
struct Samples {
    secs: Vec<f64>,
    rss_kb: Vec<u64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Table {
    rows: BTreeMap<&'static str, Samples>,
}

impl Table {
    fn add(&mut self, key: &'static str, r: &Run) {
        let s = self.rows.entry(key).or_default();
        s.secs.push(r.secs);
        s.rss_kb.push(r.rss_kb);
    }
    fn add_secs(&mut self, key: &'static str, secs: f64) {
        self.rows.entry(key).or_default().secs.push(secs);
    }
    /// The median of the per-round ratios `key / floor` (the two ran seconds apart in the same round).
    fn round_ratio(&self, key: &str, floor: &str) -> Option<f64> {
        let (a, b) = (self.rows.get(key)?, self.rows.get(floor)?);
        let r: Vec<f64> = a.secs.iter().zip(&b.secs).map(|(x, y)| x / y).collect();
        (!r.is_empty() && a.secs.len() == b.secs.len()).then(|| median(&r))
    }
    fn median(&self, key: &str) -> Option<f64> {
        self.rows
            .get(key)
            .filter(|s| !s.secs.is_empty())
            .map(|s| median(&s.secs))
    }
}

/// The lab's env, with the AD_* keys `common` uses pointed at the scale lab.
fn scale_lab() -> common::Lab {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/samba-dc.sh");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg("scale")
        .stderr(Stdio::inherit())
        .output()
        .expect("run tests/lab/samba-dc.sh scale");
    assert!(out.status.success(), "tests/lab/samba-dc.sh scale failed");
    eprintln!(
        "[bench] scale lab up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut env = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            env.insert(k.to_string(), v.trim_matches('\'').replace("\\\\", "\\"));
        }
    }
    for (ad, scale) in [
        ("AD_LDAPS_URL", "SCALE_LDAPS_URL"),
        ("AD_REALM", "SCALE_REALM"),
        ("AD_CA_CERT", "SCALE_CA_CERT"),
        ("AD_ADMIN", "SCALE_ADMIN"),
        ("AD_ADMIN_DN", "SCALE_ADMIN_DN"),
        ("AD_ADMIN_PASSWORD", "SCALE_ADMIN_PASSWORD"),
        ("AD_BASE_DN", "SCALE_BASE_DN"),
        ("AD_USER_PASSWORD", "SCALE_USER_PASSWORD"),
    ] {
        let v = env
            .get(scale)
            .unwrap_or_else(|| panic!("no {scale}"))
            .clone();
        env.insert(ad.to_string(), v);
    }
    common::Lab(env)
}

/// An ldapsearch/ldapmodify command bound as the admin over LDAPS.
fn ldap_tool(lab: &common::Lab, tool: &str) -> Command {
    let mut c = Command::new(tool);
    c.env("LDAPTLS_CACERT", lab.get("SCALE_CA_CERT")).args([
        "-x",
        "-H",
        lab.get("SCALE_LDAPS_URL"),
        "-D",
        lab.get("SCALE_ADMIN_DN"),
        "-w",
        lab.get("SCALE_ADMIN_PASSWORD"),
    ]);
    c
}

/// One paged ldapsearch with the SD flags control, as the floor for a read.
fn ldapsearch(
    lab: &common::Lab,
    base: &str,
    scope: &str,
    filter: &str,
    attrs: &[&str],
    sd_flags: bool,
) -> Command {
    let mut c = ldap_tool(lab, "ldapsearch");
    c.args(["-LLL", "-o", "ldif-wrap=no", "-E", "pr=1000/noprompt"]);
    if sd_flags {
        c.args(["-E", &format!("!{SD_FLAGS}=::{SD_FLAGS_VALUE}")]);
    }
    c.args(["-b", base, "-s", scope, filter]).args(attrs);
    c
}

fn ldif_replace_sd(dn: &str, sd: &[u8]) -> String {
    format!(
        "dn: {dn}\ncontrol: {SD_FLAGS} true:: {SD_FLAGS_VALUE}\nchangetype: modify\nreplace: nTSecurityDescriptor\nnTSecurityDescriptor:: {}\n-\n\n",
        base64::engine::general_purpose::STANDARD.encode(sd)
    )
}

fn count_lines(path: &Path, prefix: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .count()
}

fn ous_list(parent: &str, n: usize, width: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("OU=ou{i:0width$},{parent}"))
        .collect()
}

fn answers_for(lab: &common::Lab, ous: &[String]) -> (PathBuf, String) {
    let list = ous
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(",\n  ");
    let (dir, path) = common::answers_file(
        lab,
        lab.get("SCALE_CONNECTOR"),
        &format!("scope = \"selected\"\nous = [\n  {list}\n]"),
        "unexpire_password = false",
    );
    (dir, path.to_str().unwrap().to_string())
}

/// P4: this bench re-run as a child: the wizard's Model with the domain level and the 10,000-OU level loaded
/// from the lab the way the wizard loads them, one frame drawn; prints `nodes frame_ms`.
async fn p4_child(lab: &common::Lab, dir: &Path, answers: &Path, open_big: bool) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use writeback_wizard::runtime::backend;
    use writeback_wizard::wizard::{Effect, Message, Model, Page, Paths, Target, goto, update};

    let answers = common::answers_in_process(lab, dir, answers);
    let directory = answers.directories[0].clone();
    let info = backend::validate_directory(&directory).await.unwrap();
    let mut m = Model::new(
        Some(answers.clone()),
        None,
        Paths {
            config_answers: dir.join("config.toml"),
            state_dir: dir.join("state"),
            log_file: dir.join("state/wizard.log"),
            home: None,
            cwd: None,
        },
    );
    m.dirs.status[0] = writeback_wizard::wizard::pages::directories::DirStatus::Ok {
        key: answers.directories[0].clone(),
        info,
    };
    update(&mut m, Message::Resize(120, 40));
    let session = backend::tree_session(&directory).await.unwrap();
    let mut effects = goto(&mut m, Page::OuFilter);
    let big = lab.get("SCALE_OUS_10K").to_string();
    let mut opened = false;
    while let Some(e) = effects.pop() {
        let Effect::LoadChildren {
            dir,
            node,
            dn,
            generation,
            ..
        } = e
        else {
            continue;
        };
        let mut batches = Vec::new();
        backend::children(&session, &dn, |b| batches.push(b))
            .await
            .unwrap();
        for entries in batches {
            update(
                &mut m,
                Message::ChildrenLoaded {
                    dir,
                    node,
                    generation,
                    entries,
                    done: false,
                    error: None,
                },
            );
        }
        update(
            &mut m,
            Message::ChildrenLoaded {
                dir,
                node,
                generation,
                entries: Vec::new(),
                done: true,
                error: None,
            },
        );
        if !opened && open_big {
            // The domain level is in: open Scale10k as a person would (search, then Right).
            opened = true;
            m.focus = Target::Tree;
            let rows = m.tree_rows();
            let name = big.split(',').next().unwrap().trim_start_matches("OU=");
            assert!(m.ous.tree_mut().unwrap().search(name, rows));
            effects.extend(update(
                &mut m,
                Message::Key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE)),
            ));
        }
    }
    update(
        &mut m,
        Message::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
    );
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let t = Instant::now();
    term.draw(|f| {
        writeback_wizard::ui::view(&m, f);
    })
    .unwrap();
    let frame = t.elapsed();
    println!(
        "{} {:.3}",
        m.ous.tree().unwrap().len(),
        frame.as_secs_f64() * 1000.0
    );
}

/// Phase rows under `key` from the times `run_marked` noted: one row per (label, mark) from the previous mark
/// (or the start) to this one, and a last one to the exit. Nothing when a mark was not seen (the tool's output
/// changed).
fn phases(
    table: &mut Table,
    key: &str,
    steps: &[(&str, &str)],
    last: &str,
    marks: &BTreeMap<String, f64>,
    total: f64,
) {
    let Some(times) = steps
        .iter()
        .map(|(_, m)| marks.get(*m).copied())
        .collect::<Option<Vec<f64>>>()
    else {
        return;
    };
    let mut from = 0.0;
    for (i, ((label, _), at)) in steps.iter().zip(&times).enumerate() {
        let k: &'static str = Box::leak(format!("{key} / {} {label}", i + 1).into_boxed_str());
        table.add_secs(k, at - from);
        from = *at;
    }
    let k: &'static str = Box::leak(format!("{key} / {} {last}", steps.len() + 1).into_boxed_str());
    table.add_secs(k, total - from);
}

/// P3: `writeback-wizard wizard --answers FILE` in a 120x40 pseudo-terminal; seconds from the spawn until the
/// first frame (the header's "Step 1 of") is on the screen. The wizard is killed afterwards.
fn first_frame(bin: &str, answers: &str, state_dir: &Path, password: &str) -> Option<f64> {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .ok()?;
    let mut cmd = CommandBuilder::new(bin);
    cmd.args(["wizard", "--answers", answers]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("WBW_TEST_ADMIN_PASSWORD", password);
    cmd.env("WRITEBACK_WIZARD_STATE_DIR", state_dir);
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).ok()?;
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut parser =
            vt100::Parser::new(40u16.try_into().unwrap(), 120u16.try_into().unwrap(), 0);
        let mut buf = [0u8; 16384];
        let mut sent = false;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            parser.process(&buf[..n]);
            if !sent && parser.screen().contents().contains("Step 1 of") {
                let _ = tx.send(start.elapsed().as_secs_f64());
                sent = true;
            }
        }
    });
    let at = rx.recv_timeout(std::time::Duration::from_secs(20)).ok();
    let _ = child.kill();
    let _ = child.wait();
    drop(pair.master);
    at
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(String::new(), |kb| format!(", {} GiB", kb / 1024 / 1024));
    let samba = Command::new("samba")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "machine: {nproc} CPUs ({cpu}){mem}; samba {samba}; load average at start {}; writeback-wizard {commit}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

#[tokio::main]
async fn main() {
    // P4's child: started by the parent below, with the temp dir and answers file in its env.
    if let Ok(spec) = std::env::var("WBW_BENCH_P4_CHILD") {
        let mut parts = spec.split('\n');
        let (dir, answers, mode) = (parts.next().unwrap(), parts.next().unwrap(), parts.next());
        let env: HashMap<String, String> =
            serde_json::from_str(&std::env::var("WBW_BENCH_LAB").unwrap()).unwrap();
        p4_child(
            &common::Lab(env),
            Path::new(dir),
            Path::new(answers),
            mode != Some("domain-level"),
        )
        .await;
        return;
    }
    // `cargo bench` passes --bench; anything else (a filter) is ignored.
    let reps: usize = env_or("WBW_BENCH_REPS", 3usize).max(1);
    let sample: usize = env_or("WBW_BENCH_DSACL_SAMPLE", 10usize);
    let only = std::env::var("WBW_BENCH_ONLY").unwrap_or_default();
    let want = |k: &str| only.is_empty() || only.split(',').any(|o| o.trim() == k);
    let machine = machine();
    let lab = scale_lab();
    let bin = env!("CARGO_BIN_EXE_writeback-wizard");
    eprintln!("[bench] {machine}\n[bench] binary {bin}");
    let n1k: usize = lab.get("SCALE_OUS_1K_COUNT").parse().unwrap();
    let ous = ous_list(lab.get("SCALE_OUS_1K"), n1k, 4);
    let (dir, answers) = answers_for(&lab, &ous);
    let (_, users_answers) = answers_for(&lab, &[lab.get("SCALE_USERS_OU").to_string()]);
    let (_, root_answers) = {
        let (dir, path) = common::answers_file(
            &lab,
            lab.get("SCALE_CONNECTOR"),
            "scope = \"domains\"",
            "unexpire_password = false",
        );
        (dir, path.to_str().unwrap().to_string())
    };
    eprintln!("[bench] work dir {}", dir.display());
    let mut table = Table {
        rows: BTreeMap::new(),
    };
    let mut notes: Vec<String> = Vec::new();

    // The floor's LDIF: each OU's descriptor as read now, merged with our four ACEs by the same function apply
    // uses; and the originals, which are what revert writes back.
    let sid: Sid = lab.get("SCALE_CONNECTOR_SID").parse().unwrap();
    let aces: Vec<Ace> = PASSWORD_WRITEBACK
        .iter()
        .map(|r| {
            Grant {
                right: *r,
                applies_to: AppliesTo::DescendantUsers,
            }
            .ace(&sid)
        })
        .collect();
    let (add_ldif, restore_ldif) = {
        let started = Instant::now();
        let mut admin = common::admin(&lab).await;
        let (mut add, mut restore) = (String::new(), String::new());
        for ou in &ous {
            let original = common::read_sd(&mut admin, ou).await;
            let sd = SecurityDescriptor::from_bytes(&original).unwrap();
            assert_eq!(
                common::explicit_aces_of(&original, &sid.to_string()).len(),
                0,
                "{ou} already holds ACEs for the connector: the scale lab is not pristine"
            );
            let (after, n) = merge(&sd, &aces);
            assert_eq!(n, 4);
            add.push_str(&ldif_replace_sd(ou, &after.to_bytes().unwrap()));
            restore.push_str(&ldif_replace_sd(ou, &original));
        }
        let (a, r) = (dir.join("add.ldif"), dir.join("restore.ldif"));
        std::fs::write(&a, add).unwrap();
        std::fs::write(&r, restore).unwrap();
        eprintln!(
            "[bench] precomputed {} descriptors in {:.1} s",
            ous.len(),
            started.elapsed().as_secs_f64()
        );
        (a, r)
    };

    for rep in 0..reps {
        let rd = dir.join(format!("round{rep}"));
        std::fs::create_dir_all(&rd).unwrap();
        let wbw = |args: &[&str]| {
            let mut c = Command::new(bin);
            c.args(args)
                .env("WBW_TEST_ADMIN_PASSWORD", lab.get("SCALE_ADMIN_PASSWORD"))
                .env("WRITEBACK_WIZARD_STATE_DIR", rd.join("state"));
            c
        };
        eprintln!("[bench] round {}/{reps}", rep + 1);
        if want("p1") {
            // P1: ours, then the floor (each leaves the OUs as they were: revert / restore).
            let log = rd.join("apply");
            let (r, marks) = run_marked(
                &mut wbw(&["apply", "--answers", &answers, "--yes"]),
                &log,
                &["read ", "Done."],
            );
            expect(&r, &[0], "writeback-wizard apply", &log);
            table.add("p1 wbw apply", &r);
            phases(
                &mut table,
                "p1 wbw apply",
                &[
                    ("connect, discover, read the targets", "read "),
                    ("plan printed, journal, re-read, write, verify", "Done."),
                ],
                "to exit",
                &marks,
                r.secs,
            );
            // P5 on the applied state: every right present.
            let log = rd.join("check");
            let (r, marks) = run_marked(
                &mut wbw(&["check", "--answers", &answers]),
                &log,
                &["reading the targets"],
            );
            expect(&r, &[0, 3], "writeback-wizard check", &log);
            table.add("p5 wbw check", &r);
            phases(
                &mut table,
                "p5 wbw check",
                &[("connect, discover", "reading the targets")],
                "read the targets with their scope, report, exit",
                &marks,
                r.secs,
            );
            let log = rd.join("ldapsearch-check");
            let r = run(
                &mut ldapsearch(
                    &lab,
                    lab.get("SCALE_OUS_1K"),
                    "sub",
                    CHECK_FILTER,
                    CHECK_ATTRS,
                    true,
                ),
                &log,
            );
            expect(&r, &[0], "ldapsearch (check floor)", &log);
            if rep == 0 {
                notes.push(format!(
                    "P5 floor read {} entries",
                    count_lines(&log.with_extension("out"), "dn: ")
                ));
            }
            table.add("p5 ldapsearch", &r);
            // P6
            let log = rd.join("revert");
            let (r, marks) = run_marked(
                &mut wbw(&["revert", "--answers", &answers, "--yes"]),
                &log,
                &[],
            );
            expect(&r, &[0], "writeback-wizard revert", &log);
            table.add("p6 wbw revert", &r);
            phases(
                &mut table,
                "p6 wbw revert",
                &[("connect, read the journal, preview printed", "stdout")],
                "re-read, write, verify, exit",
                &marks,
                r.secs,
            );
            // The floors: the same 1,000 descriptors with our ACEs, then the originals back.
            let log = rd.join("ldapmodify-add");
            let r = run(
                ldap_tool(&lab, "ldapmodify").args(["-f", add_ldif.to_str().unwrap()]),
                &log,
            );
            expect(&r, &[0], "ldapmodify (apply floor)", &log);
            table.add("p1 ldapmodify", &r);
            let log = rd.join("ldapmodify-restore");
            let r = run(
                ldap_tool(&lab, "ldapmodify").args(["-f", restore_ldif.to_str().unwrap()]),
                &log,
            );
            expect(&r, &[0], "ldapmodify (revert floor)", &log);
            table.add("p6 ldapmodify", &r);
            // samba-tool dsacl set: one call per OU with the four ACEs, on a sample; undone by ldapmodify.
            if sample > 0 {
                let picked: Vec<&String> = ous
                    .iter()
                    .step_by(ous.len().checked_div(sample).unwrap_or(1).max(1))
                    .take(sample)
                    .collect();
                let sddl: String = aces.iter().map(|a| a.to_string()).collect();
                let started = Instant::now();
                for (i, ou) in picked.iter().enumerate() {
                    let log = rd.join(format!("dsacl{i}"));
                    let r = run(
                        Command::new("samba-tool")
                            .args(["dsacl", "set", "-s", lab.get("SCALE_SMB_CONF"), "-H"])
                            .arg(format!("ldap://{}", lab.get("SCALE_HOST")))
                            .arg(format!(
                                "-UAdministrator%{}",
                                lab.get("SCALE_ADMIN_PASSWORD")
                            ))
                            .arg(format!("--objectdn={ou}"))
                            .arg(format!("--sddl={sddl}")),
                        &log,
                    );
                    expect(&r, &[0], "samba-tool dsacl set", &log);
                }
                let per_ou = started.elapsed().as_secs_f64() / picked.len() as f64;
                table.add_secs("p1 samba-tool", per_ou * ous.len() as f64);
                let mut admin = common::admin(&lab).await;
                let mut undo = String::new();
                if rep == 0 {
                    let now = common::read_sd(&mut admin, picked[0]).await;
                    notes.push(format!(
                        "samba-tool dsacl set (one call, 4 ACEs) left {} ACEs for the connector on {}",
                        common::explicit_aces_of(&now, &sid.to_string()).len(),
                        picked[0]
                    ));
                }
                for block in std::fs::read_to_string(&restore_ldif)
                    .unwrap()
                    .split("\n\n")
                {
                    if picked
                        .iter()
                        .any(|ou| block.starts_with(&format!("dn: {ou}\n")))
                    {
                        undo.push_str(block);
                        undo.push_str("\n\n");
                    }
                }
                let (path, log) = (rd.join("undo.ldif"), rd.join("ldapmodify-undo"));
                std::fs::write(&path, undo).unwrap();
                let r = run(
                    ldap_tool(&lab, "ldapmodify").args(["-f", path.to_str().unwrap()]),
                    &log,
                );
                expect(&r, &[0], "ldapmodify (undo samba-tool)", &log);
            }
        }
        if want("users") {
            let log = rd.join("check-users");
            let r = run(
                &mut wbw(&["check", "--answers", &users_answers, "--users"]),
                &log,
            );
            expect(&r, &[0, 3], "writeback-wizard check --users", &log);
            table.add("p5u wbw check --users", &r);
            let log = rd.join("check-users-json");
            let r = run(
                &mut wbw(&["check", "--answers", &users_answers, "--users", "--json"]),
                &log,
            );
            expect(&r, &[0, 3], "writeback-wizard check --users --json", &log);
            table.add("p5u wbw check --users --json", &r);
            if rep == 0 {
                notes.push(format!(
                    "check --users exit {}; --json wrote {} lines",
                    r.code,
                    count_lines(&log.with_extension("out"), "")
                ));
            }
            let log = rd.join("ldapsearch-users");
            let r = run(
                &mut ldapsearch(
                    &lab,
                    lab.get("SCALE_USERS_OU"),
                    "sub",
                    USER_FILTER,
                    USER_ATTRS,
                    true,
                ),
                &log,
            );
            expect(&r, &[0], "ldapsearch (users floor)", &log);
            if rep == 0 {
                notes.push(format!(
                    "P5 users floor read {} entries",
                    count_lines(&log.with_extension("out"), "dn: ")
                ));
            }
            table.add("p5u ldapsearch", &r);
        }
        if want("root") {
            // P5's second half: check over the domain root (every OU and user of the scale lab), in constant
            // memory, against one paged ldapsearch of the same subtree, filter and attributes.
            let log = rd.join("check-root");
            let r = run(&mut wbw(&["check", "--answers", &root_answers]), &log);
            expect(&r, &[0, 3], "writeback-wizard check (domain root)", &log);
            table.add("p5r wbw check root", &r);
            let log = rd.join("ldapsearch-root");
            let r = run(
                &mut ldapsearch(
                    &lab,
                    lab.get("SCALE_BASE_DN"),
                    "sub",
                    CHECK_FILTER,
                    CHECK_ATTRS,
                    true,
                ),
                &log,
            );
            expect(&r, &[0], "ldapsearch (domain root floor)", &log);
            if rep == 0 {
                notes.push(format!(
                    "P5 domain root floor read {} entries",
                    count_lines(&log.with_extension("out"), "dn: ")
                ));
            }
            table.add("p5r ldapsearch", &r);
        }
        if want("p2") {
            use writeback_wizard::runtime::backend;
            let a = common::answers_in_process(&lab, &dir, Path::new(&answers));
            let d = &a.directories[0];
            let started = Instant::now();
            let session = backend::tree_session(d).await.unwrap();
            let connected = started.elapsed().as_secs_f64();
            let mut n = 0;
            let t = Instant::now();
            backend::children(&session, lab.get("SCALE_OUS_10K"), |b| n += b.len())
                .await
                .unwrap();
            let load = t.elapsed().as_secs_f64();
            session.unbind().await;
            table.add_secs("p2 wizard loader (connect+children)", connected + load);
            table.add_secs("p2 wizard loader (children only)", load);
            if rep == 0 {
                notes.push(format!(
                    "P2 loader read {n} entries (connect+bind {:.0} ms)",
                    connected * 1000.0
                ));
            }
            let log = rd.join("ldapsearch-tree");
            let r = run(
                &mut ldapsearch(
                    &lab,
                    lab.get("SCALE_OUS_10K"),
                    "one",
                    TREE_FILTER,
                    TREE_ATTRS,
                    false,
                ),
                &log,
            );
            expect(&r, &[0], "ldapsearch (tree floor)", &log);
            table.add("p2 ldapsearch", &r);
        }
        if want("p3") {
            for i in 0..5 {
                match first_frame(
                    bin,
                    &users_answers,
                    &rd.join(format!("p3-state{i}")),
                    lab.get("SCALE_ADMIN_PASSWORD"),
                ) {
                    Some(secs) => table.add_secs("p3 wizard start to first frame", secs),
                    None => notes.push("P3: no first frame within 20 s".into()),
                }
            }
        }
        if want("p4") {
            for (key, mode) in [
                ("p4 wizard model, 10k loaded", "10k"),
                ("p4 wizard model, domain level only", "domain-level"),
            ] {
                let log = rd.join(format!("p4-{mode}"));
                let r = run(
                    Command::new(std::env::current_exe().unwrap())
                        .env(
                            "WBW_BENCH_P4_CHILD",
                            format!("{}\n{answers}\n{mode}", dir.display()),
                        )
                        .env("WBW_BENCH_LAB", serde_json::to_string(&lab.0).unwrap()),
                    &log,
                );
                expect(&r, &[0], "P4 child", &log);
                table.add(key, &r);
                if rep == 0 {
                    notes.push(format!(
                        "P4 child ({mode}): nodes in the tree, first frame ms: {}",
                        std::fs::read_to_string(log.with_extension("out"))
                            .unwrap_or_default()
                            .trim()
                    ));
                }
            }
        }
    }

    // The table.
    let rows: &[(&str, &str, &str, Option<&str>, &str)] = &[
        // (key, goal, what, floor key, target)
        (
            "p1 wbw apply",
            "P1",
            "writeback-wizard apply --yes, 1,000 OUs",
            Some("p1 ldapmodify"),
            "<= 1.2x",
        ),
        (
            "p1 ldapmodify",
            "P1",
            "ldapmodify -f, same descriptors (floor)",
            None,
            "",
        ),
        (
            "p1 samba-tool",
            "P1",
            "samba-tool dsacl set, per OU x 1,000",
            Some("p1 ldapmodify"),
            "",
        ),
        (
            "p6 wbw revert",
            "P6",
            "writeback-wizard revert --yes, 1,000 OUs",
            Some("p6 ldapmodify"),
            "<= 1.2x",
        ),
        (
            "p6 ldapmodify",
            "P6",
            "ldapmodify -f, original descriptors (floor)",
            None,
            "",
        ),
        (
            "p5 wbw check",
            "P5",
            "writeback-wizard check, 1,000 OUs",
            Some("p5 ldapsearch"),
            "<= 1.3x",
        ),
        (
            "p5 ldapsearch",
            "P5",
            "ldapsearch pr=1000, subtree, SD flags (floor)",
            None,
            "",
        ),
        (
            "p5u wbw check --users",
            "P5",
            "writeback-wizard check --users, 20,000 users",
            Some("p5u ldapsearch"),
            "<= 1.5x",
        ),
        (
            "p5u wbw check --users --json",
            "P5",
            "writeback-wizard check --users --json",
            Some("p5u ldapsearch"),
            "",
        ),
        (
            "p5u ldapsearch",
            "P5",
            "ldapsearch pr=1000 of the users (floor)",
            None,
            "",
        ),
        (
            "p5r wbw check root",
            "P5",
            "writeback-wizard check, domain root (11,000 OUs, 20,000 users)",
            Some("p5r ldapsearch"),
            "constant memory",
        ),
        (
            "p5r ldapsearch",
            "P5",
            "ldapsearch pr=1000, domain subtree, same filter (floor)",
            None,
            "",
        ),
        (
            "p2 wizard loader (connect+children)",
            "P2",
            "wizard loader, 10,000-OU level (connect+children)",
            Some("p2 ldapsearch"),
            "<= 1.3x",
        ),
        (
            "p2 wizard loader (children only)",
            "P2",
            "wizard loader, children() alone",
            Some("p2 ldapsearch"),
            "",
        ),
        (
            "p2 ldapsearch",
            "P2",
            "ldapsearch pr=1000, one level (floor)",
            None,
            "",
        ),
        (
            "p3 wizard start to first frame",
            "P3",
            "wizard start to first frame (pty, 120x40, 5 per round)",
            None,
            "<= 0.050 s",
        ),
        (
            "p4 wizard model, 10k loaded",
            "P4",
            "connect, load 10,000 OUs into the Model, draw",
            None,
            "RSS <= 50 MB",
        ),
        (
            "p4 wizard model, domain level only",
            "P4",
            "the same with the domain level only",
            None,
            "",
        ),
    ];
    println!();
    println!("writeback-wizard at scale: medians of {reps} round(s), whole processes unless noted");
    println!("{machine}");
    println!(
        "reproduce: bash tests/lab/samba-dc.sh scale && WBW_BENCH_REPS={reps} cargo bench --bench scale"
    );
    println!();
    println!(
        "| goal | what | median s | min-max s | peak RSS MB | ratio of medians | median of round ratios | target |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for (key, goal, what, floor, target) in rows {
        let Some(s) = table.rows.get(key) else {
            continue;
        };
        let med = median(&s.secs);
        let (lo, hi) = s
            .secs
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let rss = if s.rss_kb.iter().all(|&k| k == 0) {
            "-".to_string()
        } else {
            let mut v = s.rss_kb.clone();
            v.sort();
            format!("{:.1}", v[v.len() / 2] as f64 / 1024.0)
        };
        let ratio = floor
            .and_then(|f| table.median(f))
            .map_or("-".to_string(), |f| format!("{:.2}x", med / f));
        let per_round = floor
            .and_then(|f| table.round_ratio(key, f))
            .map_or("-".to_string(), |r| format!("{r:.2}x"));
        println!(
            "| {goal} | {what} | {med:.3} | {lo:.3}-{hi:.3} | {rss} | {ratio} | {per_round} | {target} |"
        );
        // Its phases, as far as its output shows them.
        let prefix = format!("{key} / ");
        for (k, s) in &table.rows {
            let Some(label) = k.strip_prefix(&prefix) else {
                continue;
            };
            let med = median(&s.secs);
            let ratio = floor
                .and_then(|f| table.median(f))
                .map_or("-".to_string(), |f| format!("{:.2}x", med / f));
            println!("| | &nbsp;&nbsp;phase {label} | {med:.3} | | | {ratio} | | |");
        }
    }
    println!();
    for n in &notes {
        println!("- {n}");
    }
    for (k, s) in &table.rows {
        let v: Vec<String> = s.secs.iter().map(|x| format!("{x:.3}")).collect();
        println!("- {k}: {}", v.join(" "));
    }
    if std::env::var_os("WBW_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("- logs kept in {}", dir.display());
    }
}
