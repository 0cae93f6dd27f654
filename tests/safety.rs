//! Back-end safety on a real DC (issue 7): nested targets, a delegated (non-Domain-Admin) admin, a crash in
//! the middle of apply with another admin at work, a merged ACE mask, a deleted connector, and a bounded
//! number of operations in flight. Every assertion is on what the server says.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use writeback_wizard::grants::journal::{Journal, TargetState};

const RESET: &str = "00299570-246d-11d0-a768-00aa006e0529";
const LOCKOUT: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
const USER: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";

fn selected(ous: &[&str]) -> String {
    let list: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
    format!("scope = \"selected\"\nous = [{}]", list.join(", "))
}

fn journals(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("state/journal"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// Our four ACEs for `sid` among the explicit ACEs of `sd`.
fn ours_in(sd: &[u8], sid: &str) -> Vec<String> {
    explicit_aces_of(sd, sid)
        .into_iter()
        .filter(|a| a.starts_with("(OA;CIIO;"))
        .collect()
}

/// Must-show 1: a parent OU and its child listed together.
#[tokio::test(flavor = "multi_thread")]
async fn parent_and_child_listed_together_apply_once_and_revert_byte_for_byte() {
    let lab = lab();
    let fx = fixture(lab).await;
    let child = format!("OU=Deep,{}", fx.target_ou);
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        // The child first: the order in the file must not matter.
        &selected(&[&child, &fx.target_ou]),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let original_parent = read_sd(&mut admin, &fx.target_ou).await;
    let original_child = read_sd(&mut admin, &child).await;

    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for dn in [&fx.target_ou, &child] {
        let sd = read_sd(&mut admin, dn).await;
        let ours = ours_in(&sd, &sid);
        assert_eq!(ours.len(), 4, "{dn}: {ours:?}");
        let mut unique = ours.clone();
        unique.dedup();
        assert_eq!(unique.len(), 4, "{dn}: each ACE once");
    }
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.deep_user, "Nested#1").await,
        0
    );

    let before_second = (
        read_sd(&mut admin, &fx.target_ou).await,
        read_sd(&mut admin, &child).await,
    );
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing written"), "{}", text(&out));
    assert_eq!(
        journals(&dir).len(),
        1,
        "the second apply journaled nothing"
    );
    assert_eq!(
        (
            read_sd(&mut admin, &fx.target_ou).await,
            read_sd(&mut admin, &child).await
        ),
        before_second
    );

    // A damaged journal beside ours is reported and skipped; it does not block the revert of ours, but the
    // run says it is not complete (exit 1): the damaged one may record writes it can no longer take back.
    let damaged = dir.join("state/journal/000000000000000000000001-damaged.jsonl");
    std::fs::write(&damaged, "{\"t\":\"header\",\"version\":2}\nnot json\n").unwrap();
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("000000000000000000000001-damaged.jsonl is damaged at line 1"),
        "{}",
        text(&out)
    );
    assert!(damaged.exists(), "a damaged journal is kept");
    assert_eq!(read_sd(&mut admin, &fx.target_ou).await, original_parent);
    assert_eq!(read_sd(&mut admin, &child).await, original_child);
    assert_eq!(
        reset_password(&mut connector, &fx.deep_user, "Nested#2").await,
        50
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Must-show 2: an admin delegated only "Modify permissions" (WRITE_DAC) on one OU.
#[tokio::test(flavor = "multi_thread")]
async fn a_delegated_admin_applies_where_it_holds_write_dac_and_is_refused_elsewhere_before_any_write()
 {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let delegate_sam = unique("dlg");
    let delegate = add_user(
        lab,
        &mut admin,
        &delegate_sam,
        &format!("CN=Users,{}", lab.get("AD_BASE_DN")),
        &fx.password,
    )
    .await;
    let delegate_sid = object_sid(&mut admin, &delegate).await;
    // WRITE_DAC on the target OU only; "Write all properties" (but no WRITE_DAC) on the other one, which
    // allowedAttributesEffective would have taken for the right to change the DACL.
    grant(
        &mut admin,
        &fx.target_ou,
        &format!("(A;;WD;;;{delegate_sid})"),
    )
    .await;
    grant(
        &mut admin,
        &fx.other_ou,
        &format!("(A;;WP;;;{delegate_sid})"),
    )
    .await;

    let as_delegate = |scope: &str, features: &str| {
        let (dir, path) = answers_file(lab, &fx.connector_sam, scope, features);
        let text = std::fs::read_to_string(&path).unwrap().replace(
            &format!("admin = '{}'", lab.get("AD_ADMIN")),
            &format!("admin = '{delegate}'"),
        );
        std::fs::write(&path, text).unwrap();
        (dir, path)
    };

    // Where it holds WRITE_DAC: apply works and the connector can reset a password there.
    let (dir, path) = as_delegate(&selected(&[&fx.target_ou]), "unexpire_password = false");
    let out = wbw_with_password(
        &dir,
        &["apply", "--answers", path.to_str().unwrap(), "--yes"],
        &fx.password,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Delegated#1").await,
        0
    );

    // Elsewhere: refused before any write, naming the object; the OU is unchanged.
    let other_before = read_sd(&mut admin, &fx.other_ou).await;
    let (dir2, path2) = as_delegate(&selected(&[&fx.other_ou]), "unexpire_password = false");
    let out = wbw_with_password(
        &dir2,
        &["apply", "--answers", path2.to_str().unwrap(), "--yes"],
        &fx.password,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("may not change the permissions"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains(&fx.other_ou), "{}", text(&out));
    assert!(journals(&dir2).is_empty(), "refused before the journal");
    assert_eq!(read_sd(&mut admin, &fx.other_ou).await, other_before);
    assert_eq!(
        reset_password(&mut connector, &fx.out_user, "Delegated#2").await,
        50
    );

    // scope = "selected" with Unexpire Password needs the domain root: explained, nothing written. (The
    // lab's domain root already gives it to Authenticated Users; --explicit asks for the connector's own.)
    let target_now = read_sd(&mut admin, &fx.target_ou).await;
    let (dir3, path3) = as_delegate(&selected(&[&fx.target_ou]), "unexpire_password = true");
    let out = wbw_with_password(
        &dir3,
        &[
            "apply",
            "--answers",
            path3.to_str().unwrap(),
            "--yes",
            "--explicit",
        ],
        &fx.password,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(lab.get("AD_BASE_DN")), "{}", text(&out));
    assert!(
        text(&out).contains("Unexpire Password is granted on the domain root"),
        "{}",
        text(&out)
    );
    assert_eq!(read_sd(&mut admin, &fx.target_ou).await, target_now);
    for d in [dir, dir2, dir3] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Must-show 3: SIGKILL in the middle of a 200-OU apply; another admin then grants the same ACE on an OU
/// apply never reached; revert keeps that grant and takes back every ACE we wrote.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_apply_is_reverted_exactly_and_anothers_grant_on_an_unreached_target_survives() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "k", 200).await;
    let ou_refs: Vec<&str> = ous.iter().map(String::as_str).collect();
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        // One operation at a time, so the kill lands in the middle.
        &format!("{}\nmax_in_flight = 1", selected(&ou_refs)),
        "unexpire_password = false",
    );
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let mut originals = Vec::new();
    for ou in &ous {
        originals.push(read_sd(&mut admin, ou).await);
    }

    let mut child = spawn_wbw(
        lab,
        &dir,
        &["apply", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    // Kill it once the journal records 22 confirmed writes.
    wait_for_journal_records(&dir, "written", 22, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let journal = Journal::load(&journals(&dir)[0]).unwrap();
    let state = |dn: &str| journal.targets.iter().find(|t| t.dn == dn).unwrap().state;
    let unreached: Vec<&String> = ous
        .iter()
        .filter(|ou| state(ou) == TargetState::Planned)
        .collect();
    assert!(!unreached.is_empty(), "the kill came before the end");
    let sent: Vec<&String> = ous
        .iter()
        .filter(|ou| state(ou).may_hold_our_aces())
        .collect();
    assert!(sent.len() >= 22, "{} sent", sent.len());

    // Another admin grants exactly our Reset Password ACE on an OU apply never reached.
    let theirs = format!("(OA;CIIO;CR;{RESET};{USER};{sid})");
    let victim = unreached[unreached.len() / 2];
    grant(&mut admin, victim, &theirs).await;

    let out = wbw(
        lab,
        &dir,
        &["revert", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (ou, original) in ous.iter().zip(&originals) {
        let now = read_sd(&mut admin, ou).await;
        if ou == victim {
            assert_eq!(
                ours_in(&now, &sid),
                vec![theirs.clone()],
                "their grant survives"
            );
        } else {
            assert_eq!(
                &now,
                original,
                "{ou} [{:?}] is byte for byte as before",
                state(ou)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Must-show 4: another tool merges our Write lockoutTime ACE with Read lockoutTime (as ADUC does).
#[tokio::test(flavor = "multi_thread")]
async fn a_merged_mask_loses_only_our_right_on_revert() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&[&fx.target_ou]),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
        0
    );

    // Rewrite our WP lockoutTime ACE as RPWP, keeping everything else.
    let ours = format!("(OA;CIIO;WP;{LOCKOUT};{USER};{sid})");
    let mut sd = writeback_wizard::security::SecurityDescriptor::from_bytes(
        &read_sd(&mut admin, &fx.target_ou).await,
    )
    .unwrap();
    let ace = sd
        .dacl
        .as_mut()
        .unwrap()
        .aces
        .iter_mut()
        .find(|a| a.to_string() == ours)
        .expect("our lockoutTime ACE");
    ace.access_mut().unwrap().mask.0 |= 0x10;
    assert_eq!(
        write_sd(&mut admin, &fx.target_ou, sd.to_bytes().unwrap()).await,
        0
    );
    let merged = format!("(OA;CIIO;RPWP;{LOCKOUT};{USER};{sid})");
    assert!(ours_in(&read_sd(&mut admin, &fx.target_ou).await, &sid).contains(&merged));

    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
        50,
        "the connector can no longer write lockoutTime"
    );
    assert_eq!(
        ours_in(&read_sd(&mut admin, &fx.target_ou).await, &sid),
        vec![format!("(OA;CIIO;RP;{LOCKOUT};{USER};{sid})")],
        "the read right the other tool added stays"
    );
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Merged#1").await,
        50
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Must-show 5: the connector account is deleted after apply (Entra Connect reinstalled).
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_connectors_rights_are_reverted_by_sid_and_other_grants_survive() {
    let lab = lab();
    let mut admin = admin(lab).await;
    for by_journal in [false, true] {
        let fx = fixture(lab).await;
        let (dir, answers) = answers_file(
            lab,
            &fx.connector_sam,
            &selected(&[&fx.target_ou]),
            "unexpire_password = false",
        );
        let answers = answers.to_str().unwrap();
        let original = read_sd(&mut admin, &fx.target_ou).await;
        let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let sid = object_sid(&mut admin, &fx.connector_dn).await;
        // After apply, another admin grants the same account a read right and someone else a write right.
        let read_grant = format!("(OA;CIIO;RP;{LOCKOUT};{USER};{sid})");
        // BUILTIN\\Users, as SDDL names it.
        let other_grant = "(A;;RP;;;BU)".to_string();
        grant(&mut admin, &fx.target_ou, &read_grant).await;
        grant(&mut admin, &fx.target_ou, &other_grant).await;
        delete(&mut admin, &fx.connector_dn).await;

        let out = if by_journal {
            let journal = journals(&dir)[0].clone();
            wbw(
                lab,
                &dir,
                &[
                    "revert",
                    "--journal",
                    journal.to_str().unwrap(),
                    "--admin-password",
                    "env:WBW_TEST_ADMIN_PASSWORD",
                    "--yes",
                ],
            )
        } else {
            wbw(lab, &dir, &["revert", "--answers", answers, "--yes"])
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "by_journal={by_journal}: {}",
            text(&out)
        );
        let now = read_sd(&mut admin, &fx.target_ou).await;
        assert_eq!(
            ours_in(&now, &sid),
            vec![read_grant.clone()],
            "only their grant for the SID"
        );
        let all = writeback_wizard::security::SecurityDescriptor::from_bytes(&now)
            .unwrap()
            .to_string();
        assert!(all.contains(&other_grant), "{all}");
        assert_ne!(now, original);
        assert!(
            journals(&dir)
                .iter()
                .all(|p| p.to_string_lossy().ends_with(".reverted")),
            "the journal is closed"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Must-show 7: 1,000 targets go through a bounded number of operations in flight.
#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_targets_apply_with_a_bounded_number_of_operations_in_flight() {
    use std::sync::atomic::AtomicBool;
    use writeback_wizard::grants::{Plan, apply};

    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "b", 1000).await;
    let ou_refs: Vec<&str> = ous.iter().map(String::as_str).collect();
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("{}\nmax_in_flight = 6", selected(&ou_refs)),
        "unexpire_password = false",
    );
    let answers = answers_in_process(lab, &dir, &path);
    let plan = Plan::prepare(&answers.directories[0], &answers.features)
        .await
        .unwrap();
    assert_eq!(plan.changed().count(), 1000);
    let cancel = AtomicBool::new(false);
    let outcome = apply::apply(&plan, &dir.join("state"), &cancel, &|_| {})
        .await
        .unwrap();
    assert!(
        outcome.all_verified(),
        "{:?}",
        outcome.results.iter().find(|(_, r)| !r.is_success())
    );
    let peak = plan.session.stats().peak_in_flight;
    assert!(
        (2..=6).contains(&peak),
        "operations in flight at once: {peak} (bounded by max_in_flight = 6, and more than one)"
    );
    // Spot-check on the server: the first and the last OU carry our ACEs.
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    for ou in [&ous[0], &ous[999]] {
        assert_eq!(
            ours_in(&read_sd(&mut admin, ou).await, &sid).len(),
            4,
            "{ou}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two applies of one forest with one state directory (issue 15): the second stops before it reads
/// anything, naming the first; with --wait it waits, then finds every permission in place and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_apply_of_the_same_forest_waits_or_stops_and_never_writes_twice() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "w", 150).await;
    let ou_refs: Vec<&str> = ous.iter().map(String::as_str).collect();
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("{}\nmax_in_flight = 1", selected(&ou_refs)),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut first = spawn_wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    wait_for_journal_records(&dir, "written", 1, &mut first);
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first apply finished too soon; the test proves nothing"
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is being changed by another writeback-wizard run (pid"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("--wait"), "{}", text(&out));
    assert!(
        !text(&out).contains(&ous[0]),
        "it stopped before planning: {}",
        text(&out)
    );

    let waiting = wbw(
        lab,
        &dir,
        &["apply", "--answers", answers, "--yes", "--wait"],
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(waiting.status.code(), Some(0), "{}", text(&waiting));
    assert!(
        text(&waiting).contains("waiting for it to finish"),
        "{}",
        text(&waiting)
    );
    assert!(
        text(&waiting).contains("nothing written"),
        "{}",
        text(&waiting)
    );
    assert_eq!(
        journals(&dir).len(),
        1,
        "one journal: the second run wrote nothing"
    );
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    assert_eq!(
        ours_in(&read_sd(&mut admin, &ous[149]).await, &sid).len(),
        4,
        "each ACE once"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A revert started while an apply is still writing leaves that apply's journal alone (it is locked), says
/// so and exits 1; once the apply is done, revert takes everything back.
#[tokio::test(flavor = "multi_thread")]
async fn revert_skips_a_journal_that_an_apply_is_still_writing() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, ous) = ou_tree(lab, "r", 150).await;
    let ou_refs: Vec<&str> = ous.iter().map(String::as_str).collect();
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("{}\nmax_in_flight = 1", selected(&ou_refs)),
        "unexpire_password = false",
    );
    let mut admin = admin(lab).await;
    let mut originals = Vec::new();
    for ou in &ous {
        originals.push(read_sd(&mut admin, ou).await);
    }
    let mut apply = spawn_wbw(
        lab,
        &dir,
        &["apply", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    wait_for_journal_records(&dir, "written", 1, &mut apply);
    let out = wbw(
        lab,
        &dir,
        &["revert", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    let still_running = apply.try_wait().unwrap().is_none();
    assert!(
        still_running,
        "apply finished before revert ran; the test proves nothing"
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is being changed by another writeback-wizard run (pid"),
        "{}",
        text(&out)
    );
    assert!(apply.wait().unwrap().success(), "apply was not disturbed");

    let out = wbw(
        lab,
        &dir,
        &["revert", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (ou, original) in ous.iter().zip(&originals) {
        assert_eq!(&read_sd(&mut admin, ou).await, original, "{ou}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The connector is deleted and created again under the same name (a new SID): revert takes back the old
/// SID's ACEs too, instead of saying there is nothing to revert.
#[tokio::test(flavor = "multi_thread")]
async fn a_connector_recreated_under_the_same_name_has_its_old_rights_reverted() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&[&fx.target_ou]),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut admin = admin(lab).await;
    let original = read_sd(&mut admin, &fx.target_ou).await;
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let old_sid = object_sid(&mut admin, &fx.connector_dn).await;
    delete(&mut admin, &fx.connector_dn).await;
    let users = format!("CN=Users,{}", lab.get("AD_BASE_DN"));
    let again = add_user(lab, &mut admin, &fx.connector_sam, &users, &fx.password).await;
    assert_ne!(object_sid(&mut admin, &again).await, old_sid);

    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&old_sid), "{}", text(&out));
    assert_eq!(read_sd(&mut admin, &fx.target_ou).await, original);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A target OU renamed after apply is found by its GUID and reverted where it is now.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_renamed_after_apply_is_reverted_where_it_is_now() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&[&fx.target_ou]),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut admin = admin(lab).await;
    let original = read_sd(&mut admin, &fx.target_ou).await;
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    admin
        .modifydn(&fx.target_ou, "OU=Renamed", true, None)
        .await
        .unwrap()
        .success()
        .unwrap();
    let renamed = format!("OU=Renamed,{}", fx.root);
    assert_eq!(ours_in(&read_sd(&mut admin, &renamed).await, &sid).len(), 4);

    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(ours_in(&read_sd(&mut admin, &renamed).await, &sid).is_empty());
    assert_eq!(read_sd(&mut admin, &renamed).await, original);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `revert --journal` trusts a journal only as far as verified TLS goes: a journal that names a plain
/// ldap:// DC (edited, or from someone else) is refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_journal_naming_a_dc_without_tls_is_refused_before_any_connection() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&[&fx.target_ou]),
        "unexpire_password = false",
    );
    let out = wbw(
        lab,
        &dir,
        &["apply", "--answers", answers.to_str().unwrap(), "--yes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let journal = journals(&dir)[0].clone();
    let original = std::fs::read_to_string(&journal).unwrap();
    for hostile in [
        original.replace(lab.get("AD_LDAPS_URL"), "ldap://127.0.0.1:389"),
        original.replacen(
            &format!("\"dc\":{{\"url\":\"{}\"", lab.get("AD_LDAPS_URL")),
            "\"dc\":{\"url\":\"ldap://127.0.0.1:389\"",
            1,
        ),
    ] {
        assert_ne!(hostile, original, "the journal was edited");
        std::fs::write(&journal, &hostile).unwrap();
        let out = wbw(
            lab,
            &dir,
            &[
                "revert",
                "--journal",
                journal.to_str().unwrap(),
                "--admin-password",
                "env:WBW_TEST_ADMIN_PASSWORD",
                "--yes",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("not reached over TLS"),
            "{}",
            text(&out)
        );
    }
    std::fs::write(&journal, &original).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
