//! Revert's promise ("keeps the journal entry open and exits 1" while any of our rights remain; "acts only
//! on what the journal says") at its edges on a real DC (issue 14, findings 1 and 2): a take-back that left
//! a grant it could not take apart, run again; a take-back that never landed after one of our ACEs was
//! removed by hand; a target the admin cannot see is not a deleted target.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use writeback_wizard::grants::journal::{Journal, Record, b64};
use writeback_wizard::security::{SecurityDescriptor, parse_ace};

const RESET: &str = "00299570-246d-11d0-a768-00aa006e0529";
const LOCKOUT: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
const PWD_LAST_SET: &str = "bf967a0a-0de6-11d0-a285-00aa003049e2";
const USER: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";

fn selected(ou: &str) -> String {
    format!("scope = \"selected\"\nous = [\"{ou}\"]")
}

fn journals(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("state/journal"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

fn open_journals(dir: &Path) -> usize {
    journals(dir)
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".reverted"))
        .count()
}

/// `dn`'s DACL with the explicit ACEs whose SDDL is in `drop` removed and `add` inserted canonically.
async fn rewrite(admin: &mut ldap3::Ldap, dn: &str, drop: &[String], add: &[String]) {
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(admin, dn).await).unwrap();
    let dacl = sd.dacl.as_mut().unwrap();
    let before = dacl.aces.len();
    dacl.aces
        .retain(|a| a.is_inherited() || !drop.contains(&a.to_string()));
    assert_eq!(
        dacl.aces.len(),
        before - drop.len(),
        "all of {drop:?} found"
    );
    for a in add {
        dacl.insert_canonical(parse_ace(a).unwrap());
    }
    assert_eq!(write_sd(admin, dn, sd.to_bytes().unwrap()).await, 0);
}

/// Finding 1(b): a revert that ended "NOT REVERTED" (a grant it could not take apart keeps one of our
/// rights) is run again with nothing fixed: it must say so again, exit 1 and keep the entry open, not close
/// it because its earlier write landed.
#[tokio::test(flavor = "multi_thread")]
async fn a_revert_that_left_a_right_in_place_stays_open_when_run_again() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    // Another admin folds our two write-property ACEs into one "write all properties of users".
    let broad = format!("(OA;CIIO;WP;;{USER};{sid})");
    rewrite(
        &mut admin,
        &fx.target_ou,
        &[
            format!("(OA;CIIO;WP;{LOCKOUT};{USER};{sid})"),
            format!("(OA;CIIO;WP;{PWD_LAST_SET};{USER};{sid})"),
        ],
        std::slice::from_ref(&broad),
    )
    .await;

    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    for round in 1..=2 {
        let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
        assert_eq!(out.status.code(), Some(1), "round {round}: {}", text(&out));
        assert!(
            text(&out).contains("NOT REVERTED"),
            "round {round}: {}",
            text(&out)
        );
        assert!(text(&out).contains(&broad), "round {round}: {}", text(&out));
        assert_eq!(
            open_journals(&dir),
            1,
            "round {round}: the journal stays open"
        );
        // On the DC: the reset right is gone, the write right survives through the broad grant.
        assert_eq!(
            reset_password(&mut connector, &fx.in_user, "Remain#1x").await,
            50
        );
        assert_eq!(
            write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
            0
        );
    }

    // Once the admin removes the broad grant, revert closes the journal.
    rewrite(&mut admin, &fx.target_ou, std::slice::from_ref(&broad), &[]).await;
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(open_journals(&dir), 0);
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
        50
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finding 1(a): someone removed one of our four ACEs by hand; a revert journaled its take-back of the
/// other three and stopped before the write reached the DC (its `reverting` record is on disk, the DACL
/// unchanged). The next revert must see that the take-back never landed and take the three back, not close
/// the entry with them in place.
#[tokio::test(flavor = "multi_thread")]
async fn a_take_back_that_never_reached_the_dc_is_sent_by_the_next_revert() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut admin = admin(lab).await;
    let original = read_sd(&mut admin, &fx.target_ou).await;
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let reset = format!("(OA;CIIO;CR;{RESET};{USER};{sid})");
    rewrite(&mut admin, &fx.target_ou, std::slice::from_ref(&reset), &[]).await;

    // The record an interrupted revert leaves: the original descriptor about to be sent, taking our three.
    let path = journals(&dir)[0].clone();
    let journal = Journal::load(&path).unwrap();
    let now = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.target_ou).await).unwrap();
    let taking: Vec<String> = now
        .dacl
        .as_ref()
        .unwrap()
        .aces
        .iter()
        .filter(|a| !a.is_inherited() && a.sid().is_some_and(|s| s.to_string() == sid))
        .map(|a| b64(&a.to_bytes().unwrap()))
        .collect();
    assert_eq!(taking.len(), 3);
    let record = Record::Reverting {
        dn: journal.targets[0].dn.clone(),
        sd: b64(&original),
        taking: Some(taking),
        remaining: Vec::new(),
    };
    let mut line = serde_json::to_vec(&record).unwrap();
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, &line).unwrap();
    drop(file);

    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        explicit_aces_of(&read_sd(&mut admin, &fx.target_ou).await, &sid).is_empty(),
        "none of our ACEs is left"
    );
    assert_eq!(
        read_sd(&mut admin, &fx.target_ou).await,
        original,
        "byte for byte"
    );
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Reset#1xy").await,
        50
    );
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
        50
    );
    assert_eq!(open_journals(&dir), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finding 2: AD answers "no such object" for an object the caller cannot see. A delegated admin who may not
/// list the target's parent runs revert: the target is not "gone", the journal stays open and the run
/// fails; the Domain Admin's revert then takes the rights back.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_the_admin_cannot_see_is_not_taken_for_deleted() {
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
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    // The delegate may change the target's DACL but neither list its parent nor read the target.
    grant(
        &mut admin,
        &fx.target_ou,
        &format!("(A;;WD;;;{delegate_sid})"),
    )
    .await;
    grant(
        &mut admin,
        &fx.root,
        &format!("(D;;LCRPLO;;;{delegate_sid})"),
    )
    .await;
    grant(
        &mut admin,
        &fx.target_ou,
        &format!("(D;;RPLCLO;;;{delegate_sid})"),
    )
    .await;
    let mut as_delegate = connect(lab, &delegate, &fx.password).await.unwrap();
    let guid_search = as_delegate
        .search(
            &fx.target_ou,
            ldap3::Scope::Base,
            "(objectClass=*)",
            vec!["objectGUID"],
        )
        .await
        .unwrap();
    assert_eq!(
        guid_search.1.rc, 32,
        "the DC hides the target from the delegate"
    );

    let text_of_answers = std::fs::read_to_string(&answers).unwrap().replace(
        &format!("admin = '{}'", lab.get("AD_ADMIN")),
        &format!("admin = '{delegate}'"),
    );
    let delegate_answers = dir.join("delegate.toml");
    std::fs::write(&delegate_answers, text_of_answers).unwrap();
    let out = wbw_with_password(
        &dir,
        &[
            "revert",
            "--answers",
            delegate_answers.to_str().unwrap(),
            "--yes",
        ],
        &fx.password,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("no longer exists"), "{}", text(&out));
    assert_eq!(
        open_journals(&dir),
        1,
        "the journal stays open: {}",
        text(&out)
    );
    assert_eq!(
        explicit_aces_of(&read_sd(&mut admin, &fx.target_ou).await, &sid).len(),
        4,
        "our ACEs are still there"
    );

    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(explicit_aces_of(&read_sd(&mut admin, &fx.target_ou).await, &sid).is_empty());
    assert_eq!(open_journals(&dir), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A target deleted after apply is gone (its tombstone says so): nothing to take back, the journal closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_target_is_confirmed_by_its_tombstone_and_closed() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &selected(&format!("OU=Deep,{}", fx.target_ou)),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut admin = admin(lab).await;
    delete(&mut admin, &fx.deep_user).await;
    delete(&mut admin, &format!("OU=Deep,{}", fx.target_ou)).await;
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("no longer exists"), "{}", text(&out));
    assert_eq!(open_journals(&dir), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
