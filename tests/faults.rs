//! The network misbehaving between the tool and the DC (issue 15), through a loopback proxy the test owns:
//! a connection that stalls mid-apply (sockets open, no bytes) ends the run within the documented operation
//! timeout, says which DC stopped answering and how far the run got, leaves a journal that reads back, and
//! the same apply run again converges; revert then restores every descriptor byte for byte. The same holds
//! for a connection reset mid-apply, an answer cut in half, and 100 ms of latency each way.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::*;
use writeback_wizard::grants::journal::Journal;

fn lab_addr(lab: &Lab) -> std::net::SocketAddr {
    let host = lab
        .get("AD_LDAPS_URL")
        .trim_start_matches("ldaps://")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    format!("{host}:636").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_connection_ends_the_apply_within_the_operation_timeout_and_a_rerun_converges() {
    const TIMEOUT_S: u64 = 3;
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "s", 300).await;
    let proxy = Proxy::start(lab_addr(lab)).await;
    let list: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!(
            "scope = \"selected\"\nous = [{}]\nmax_in_flight = 2\noperation_timeout = {TIMEOUT_S}",
            list.join(", ")
        ),
        "unexpire_password = false",
    );
    let proxied = std::fs::read_to_string(&path)
        .unwrap()
        .replace(lab.get("AD_LDAPS_URL"), &proxy.ldaps_url());
    std::fs::write(&path, proxied).unwrap();
    let answers = path.to_str().unwrap().to_string();
    let mut admin = admin(lab).await;
    let mut originals = Vec::new();
    for ou in &ous {
        originals.push(read_sd(&mut admin, ou).await);
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(["apply", "--answers", &answers, "--yes"])
        .env("WBW_TEST_ADMIN_PASSWORD", lab.get("AD_ADMIN_PASSWORD"))
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        // Files, not pipes: the plan of 200 objects is more than a pipe holds while nobody reads it.
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    tokio::task::block_in_place(|| wait_for_journal_records(&dir, "verified", 10, &mut child));
    proxy.stall(true);
    let stalled_at = Instant::now();
    let status = tokio::task::block_in_place(|| {
        let deadline = stalled_at + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("apply still running 60 s after the stall");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let took = stalled_at.elapsed();
    let said = std::fs::read_to_string(dir.join("stderr")).unwrap();
    assert!(
        took < Duration::from_secs(TIMEOUT_S + 6),
        "ended {took:?} after the stall (operation_timeout = {TIMEOUT_S} s): {said}"
    );
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(said.contains(&proxy.ldaps_url()), "names the DC: {said}");
    assert!(
        said.contains("stopped answering") || said.contains("timeout"),
        "{said}"
    );
    assert!(
        said.contains("written and verified"),
        "the summary line: {said}"
    );
    assert!(said.contains("run the same apply again"), "{said}");
    // The journal reads back, and says no more was written than the directory shows.
    let journal_dir = dir.join("state/journal");
    let journal = std::fs::read_dir(&journal_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let journal = Journal::load(&journal).expect("the journal is consistent");
    assert_eq!(journal.targets.len(), 300);

    // The DC answers again: the same apply finishes the job, each ACE once; revert restores every byte.
    proxy.stall(false);
    let again = wbw(lab, &dir, &["apply", "--answers", &answers, "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    for ou in &ous {
        let ours = explicit_aces_of(&read_sd(&mut admin, ou).await, &sid);
        assert_eq!(ours.len(), 4, "{ou}: {ours:?}");
    }
    let back = wbw(lab, &dir, &["revert", "--answers", &answers, "--yes"]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    for (ou, original) in ous.iter().zip(&originals) {
        assert_eq!(&read_sd(&mut admin, ou).await, original, "{ou}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Every connection reset at once.
    Reset,
    /// The next answer cut in half, then the connection closed.
    HalfAnswer,
    /// 100 ms added to every exchange, each way.
    Latency,
}

/// One fault injected after the apply has verified a few objects; then the run's end is bounded, its
/// message says how far it got, its journal reads back, a re-run converges and revert restores every byte.
async fn fault_during_apply(fault: Fault) {
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "f", 120).await;
    let proxy = Proxy::start(lab_addr(lab)).await;
    let list: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!(
            "scope = \"selected\"\nous = [{}]\nmax_in_flight = 2\noperation_timeout = 5",
            list.join(", ")
        ),
        "unexpire_password = false",
    );
    let proxied = std::fs::read_to_string(&path)
        .unwrap()
        .replace(lab.get("AD_LDAPS_URL"), &proxy.ldaps_url());
    std::fs::write(&path, proxied).unwrap();
    let answers = path.to_str().unwrap().to_string();
    let mut admin = admin(lab).await;
    let mut originals = Vec::new();
    for ou in &ous {
        originals.push(read_sd(&mut admin, ou).await);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(["apply", "--answers", &answers, "--yes"])
        .env("WBW_TEST_ADMIN_PASSWORD", lab.get("AD_ADMIN_PASSWORD"))
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    tokio::task::block_in_place(|| wait_for_journal_records(&dir, "verified", 3, &mut child));
    match fault {
        Fault::Reset => proxy.cut(),
        Fault::HalfAnswer => proxy.half_answer(),
        Fault::Latency => proxy.latency(100),
    }
    let from = Instant::now();
    let status = tokio::task::block_in_place(|| {
        let deadline = from + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{fault:?}: apply still running 120 s after the fault");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let said = std::fs::read_to_string(dir.join("stderr")).unwrap();
    // A reset or a cut answer costs at most the writes in flight (each reported as unknown, or a read that
    // is asked again); latency costs only time.
    match fault {
        Fault::Latency => assert_eq!(status.code(), Some(0), "{fault:?}: {said}"),
        Fault::Reset | Fault::HalfAnswer => {
            assert!(matches!(status.code(), Some(0 | 1)), "{fault:?}: {said}");
            assert!(
                from.elapsed() < Duration::from_secs(30),
                "{fault:?}: took {:?}",
                from.elapsed()
            );
            if status.code() == Some(1) {
                assert!(
                    said.contains("run the same apply again"),
                    "{fault:?}: {said}"
                );
            }
        }
    }
    let journal = std::fs::read_dir(dir.join("state/journal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    Journal::load(&journal).unwrap_or_else(|e| panic!("{fault:?}: the journal reads back: {e}"));

    proxy.latency(0);
    let again = wbw(lab, &dir, &["apply", "--answers", &answers, "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{fault:?}: {}", text(&again));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    for ou in &ous {
        let ours = explicit_aces_of(&read_sd(&mut admin, ou).await, &sid);
        assert_eq!(ours.len(), 4, "{fault:?} {ou}: {ours:?}");
    }
    let back = wbw(lab, &dir, &["revert", "--answers", &answers, "--yes"]);
    assert_eq!(back.status.code(), Some(0), "{fault:?}: {}", text(&back));
    for (ou, original) in ous.iter().zip(&originals) {
        assert_eq!(&read_sd(&mut admin, ou).await, original, "{fault:?} {ou}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_reset_mid_apply_costs_at_most_the_writes_in_flight() {
    fault_during_apply(Fault::Reset).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latency_of_100_ms_each_way_only_slows_the_apply() {
    fault_during_apply(Fault::Latency).await;
}
