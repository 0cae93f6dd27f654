//! Signals on the command line (issue 15): SIGTERM during apply and Ctrl-C (SIGINT) during revert stop the
//! run without a new write after the signal, say what was written and what to run next, and exit 128 + the
//! signal; the journal stays consistent and the runs after converge (revert restores every byte).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::*;

/// How many OUs below `root` hold our four ACEs for `sid`, read in one search.
async fn holding(admin: &mut ldap3::Ldap, root: &str, sid: &str) -> usize {
    read_sds_below(admin, root)
        .await
        .values()
        .filter(|sd| explicit_aces_of(sd, sid).len() == 4)
        .count()
}

fn start(lab: &Lab, dir: &Path, args: &[&str], name: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(args)
        .env("WBW_TEST_ADMIN_PASSWORD", lab.get("AD_ADMIN_PASSWORD"))
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).unwrap())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 60 s after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Records of type `t` in the one journal below `dir`.
fn records(dir: &Path, t: &str) -> usize {
    let needle = format!("\"t\":\"{t}\"");
    std::fs::read_dir(dir.join("state/journal"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .map(|text| text.matches(&needle).count())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_apply_and_ctrl_c_during_revert_stop_before_the_next_write_and_say_so() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (root, ous) = ou_tree(lab, "g", 300).await;
    let list: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!(
            "scope = \"selected\"\nous = [{}]\nmax_in_flight = 2",
            list.join(", ")
        ),
        "unexpire_password = false",
    );
    // Through a proxy that slows every exchange, so that writes after the signal would be counted.
    let upstream: std::net::SocketAddr = "127.0.0.1:636".parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let proxied = std::fs::read_to_string(&path)
        .unwrap()
        .replace(lab.get("AD_LDAPS_URL"), &proxy.ldaps_url());
    std::fs::write(&path, proxied).unwrap();
    let answers = path.to_str().unwrap();
    let mut admin = admin(lab).await;
    let mut originals = Vec::new();
    for ou in &ous {
        originals.push(read_sd(&mut admin, ou).await);
    }

    // SIGTERM during apply.
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let mut apply = start(
        lab,
        &dir,
        &["apply", "--answers", answers, "--yes"],
        "apply",
    );
    tokio::task::block_in_place(|| wait_for_journal_records(&dir, "verified", 5, &mut apply));
    proxy.latency(40);
    tokio::time::sleep(Duration::from_millis(300)).await;
    signal(&apply, "TERM");
    let by_then = holding(&mut admin, &root, &sid).await;
    let status = tokio::task::block_in_place(|| wait(&mut apply));
    let said = std::fs::read_to_string(dir.join("apply.err")).unwrap();
    assert_eq!(status.code(), Some(143), "{said}");
    assert!(said.contains("SIGTERM: stopping"), "{said}");
    assert!(
        said.contains("Run the same apply again to finish, or revert"),
        "{said}"
    );
    let after = holding(&mut admin, &root, &sid).await;
    assert!(
        after <= by_then + 2,
        "{} DACL(s) were written after the signal (max_in_flight = 2): {said}",
        after - by_then
    );
    assert!(after < 300, "it stopped early");
    assert!(
        after <= records(&dir, "writing"),
        "the directory holds no more than the journal announced"
    );
    proxy.latency(0);

    // Finish the apply, then Ctrl-C during the revert.
    let again = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let mut revert = start(
        lab,
        &dir,
        &["revert", "--answers", answers, "--yes"],
        "revert",
    );
    tokio::task::block_in_place(|| wait_for_journal_records(&dir, "reverted", 5, &mut revert));
    signal(&revert, "INT");
    let status = tokio::task::block_in_place(|| wait(&mut revert));
    let said = std::fs::read_to_string(dir.join("revert.err")).unwrap();
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("Ctrl-C: stopping"), "{said}");
    assert!(
        said.contains("run the same revert again to finish"),
        "{said}"
    );

    let done = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    for (ou, original) in ous.iter().zip(&originals) {
        assert_eq!(&read_sd(&mut admin, ou).await, original, "{ou}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
