//! Must-show 1, 3, 4, 5, 7 on an OU scope: rights work in scope and only there, a second apply writes nothing,
//! revert restores every descriptor byte for byte, plan shows SDDL before/after (text and JSON), and the admin
//! password appears in no output and no file.

mod common;

use common::*;
use writeback_wizard::security::{AceFlags, SecurityDescriptor};

const RIGHTS: [&str; 4] = [
    "00299570-246d-11d0-a768-00aa006e0529",
    "ab721a53-1e2f-11d0-9819-00aa0040529b",
    "28630ebf-41d5-11d1-a9c1-0000f80367c1",
    "bf967a0a-0de6-11d0-a285-00aa003049e2",
];

/// Explicit ACEs for `sid` with `object_type`, counted by an independent parser (windows-sddl).
fn explicit_aces_for(sd: &[u8], sid: &str, object_type: &str) -> usize {
    let parsed = windows_sddl::parse(sd).expect("windows-sddl parses the server's descriptor");
    parsed
        .dacl
        .map(|d| d.aces)
        .unwrap_or_default()
        .iter()
        .filter(|a| {
            a.flags & AceFlags::INHERITED == 0
                && a.trustee.to_string() == sid
                && a.object_type.map(|g| g.to_string()).as_deref() == Some(object_type)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn ou_scope_grants_in_scope_only_and_reverts_byte_for_byte() {
    let lab = lab();
    let fx = fixture(lab).await;
    let password = lab.get("AD_ADMIN_PASSWORD");
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let mut outputs = Vec::new();

    let mut admin = admin(lab).await;
    let original = read_sd(&mut admin, &fx.target_ou).await;
    let original_other = read_sd(&mut admin, &fx.other_ou).await;

    // Before apply: the connector cannot reset anyone, and check says so with exit 3.
    let mut connector = connect(lab, &fx.connector_dn, &fx.password)
        .await
        .expect("connector binds");
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Before#1").await,
        50
    );
    let out = wbw(lab, &dir, &["check", "--answers", answers, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["missing"], 4);
    outputs.push(out);

    // plan: SDDL before and after, in text and JSON, and nothing written.
    let out = wbw(lab, &dir, &["plan", "--answers", answers]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan_text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        plan_text.contains("before: D:") && plan_text.contains("after:  D:"),
        "{plan_text}"
    );
    outputs.push(out);
    let out = wbw(lab, &dir, &["plan", "--answers", answers, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan --json parses");
    assert!(
        plan["portal_step"]
            .as_str()
            .unwrap()
            .contains("On-premises integration")
    );
    let target = &plan["directories"][0]["targets"][0];
    assert_eq!(target["dn"], fx.target_ou.as_str());
    assert_eq!(target["changes"], true);
    let before = target["before_sddl"].as_str().unwrap();
    let after = target["after_sddl"].as_str().unwrap();
    assert_eq!(
        before,
        SecurityDescriptor::from_bytes(&original)
            .unwrap()
            .to_string(),
        "JSON carries the server's DACL"
    );
    let adds: Vec<&str> = target["add"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sddl"].as_str().unwrap())
        .collect();
    assert_eq!(adds.len(), 4);
    for (add, right) in adds.iter().zip(RIGHTS) {
        assert!(
            add.starts_with(&format!(
                "(OA;CIIO;{};{right};bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-",
                if right.starts_with("00299570") || right.starts_with("ab721a53") {
                    "CR"
                } else {
                    "WP"
                }
            )),
            "{add}"
        );
        assert!(after.contains(add) && !before.contains(add));
        assert!(plan_text.contains(add), "text plan shows the same ACE");
    }
    assert_eq!(
        read_sd(&mut admin, &fx.target_ou).await,
        original,
        "plan wrote nothing"
    );
    outputs.push(out);

    // apply.
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("Still to do: In the Microsoft Entra admin center"),
        "apply names the portal step"
    );
    outputs.push(out);

    // In scope, as the connector: reset, pwdLastSet, lockoutTime, change password; nested OU too.
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Reset#1").await,
        0
    );
    assert_eq!(
        reset_password(&mut connector, &fx.deep_user, "Reset#1").await,
        0
    );
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "pwdLastSet", "0").await,
        0
    );
    assert_eq!(
        write_attr(&mut connector, &fx.in_user, "lockoutTime", "0").await,
        0
    );
    assert_eq!(
        change_password(&mut connector, &fx.in_user, "Reset#1", "Changed#2").await,
        0
    );
    connect(lab, &fx.in_user, "Changed#2")
        .await
        .expect("the user binds with the changed password");
    // Out of scope: refused.
    assert_eq!(
        reset_password(&mut connector, &fx.out_user, "Reset#1").await,
        50
    );
    assert_eq!(
        write_attr(&mut connector, &fx.out_user, "pwdLastSet", "0").await,
        50
    );
    assert_eq!(
        write_attr(&mut connector, &fx.out_user, "lockoutTime", "0").await,
        50
    );
    assert_eq!(
        read_sd(&mut admin, &fx.other_ou).await,
        original_other,
        "the sibling OU was not touched"
    );

    let out = wbw(lab, &dir, &["check", "--answers", answers]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    outputs.push(out);

    // A second apply writes nothing, and each ACE is there exactly once.
    let applied = read_sd(&mut admin, &fx.target_ou).await;
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing written"), "{}", text(&out));
    outputs.push(out);
    let again = read_sd(&mut admin, &fx.target_ou).await;
    assert_eq!(again, applied);
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    for right in RIGHTS {
        assert_eq!(explicit_aces_for(&again, &sid, right), 1, "{right}");
    }
    let journals = std::fs::read_dir(dir.join("state/journal"))
        .unwrap()
        .count();
    assert_eq!(journals, 1, "the second apply journaled nothing");

    // revert: byte-identical to the descriptor before the first apply, and the right is gone.
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    outputs.push(out);
    assert_eq!(read_sd(&mut admin, &fx.target_ou).await, original);
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Again#3").await,
        50
    );

    // The admin password is in no output and no file the tool wrote.
    for out in &outputs {
        assert!(!text(out).contains(password), "password leaked into output");
    }
    assert_no_file_contains(&dir.join("state"), password);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_as_target_gets_the_rights_on_itself_only() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_dn,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.in_user),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(
        lab,
        &dir,
        &["apply", "--answers", answers, "--yes", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let add = result["directories"][0]["plan"]["targets"][0]["add"][0]["sddl"]
        .as_str()
        .unwrap();
    assert!(
        add.starts_with("(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;S-1-5-21-"),
        "no inheritance, no inherited object type: {add}"
    );
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Reset#1").await,
        0
    );
    assert_eq!(
        reset_password(&mut connector, &fx.deep_user, "Reset#1").await,
        50
    );
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Reset#2").await,
        50
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn assert_no_file_contains(dir: &std::path::Path, needle: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_no_file_contains(&path, needle);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(needle),
                "{} contains the password",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_and_the_explicit_no_verify_flag_both_connect() {
    let lab = lab();
    let (dir, path) = answers_file(
        lab,
        lab.get("AD_CONNECTOR"),
        &format!(
            "scope = \"selected\"\nous = [\"{}\"]",
            lab.get("AD_TARGET_OU")
        ),
        "",
    );
    let good = std::fs::read_to_string(&path).unwrap();
    let starttls = good
        .replace(lab.get("AD_LDAPS_URL"), lab.get("AD_LDAP_URL"))
        .replace("tls = \"ldaps\"", "tls = \"starttls\"");
    let no_verify = good.replace(
        &format!("ca_file = \"{}\"", lab.get("AD_CA_CERT")),
        "danger_skip_tls_verify = true",
    );
    for (answers, warned) in [(starttls, false), (no_verify, true)] {
        std::fs::write(&path, &answers).unwrap();
        let out = wbw(
            lab,
            &dir,
            &["plan", "--answers", path.to_str().unwrap(), "--json"],
        );
        assert_eq!(out.status.code(), Some(0), "{answers}\n{}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr)
                .contains("warning: ldaps://127.0.0.1:636: danger_skip_tls_verify = true"),
            warned,
            "{}",
            text(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A DACL changed by someone else between the plan and the write is not overwritten.
#[tokio::test(flavor = "multi_thread")]
async fn a_dacl_changed_after_planning_is_left_alone() {
    use writeback_wizard::grants::{Plan, apply};
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers_in_process(lab, &dir, &path);
    let plan = Plan::prepare(&answers.directories[0], &answers.features)
        .await
        .unwrap();
    assert!(plan.targets()[0].changes());
    // Meanwhile another administrator grants something on the OU (samba-tool / ADUC would do the same).
    let mut admin = admin(lab).await;
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.target_ou).await).unwrap();
    let other = writeback_wizard::security::parse_ace("(A;;RP;;;S-1-5-32-545)").unwrap();
    sd.dacl.as_mut().unwrap().insert_canonical(other);
    let changed = sd.to_bytes().unwrap();
    assert_eq!(write_sd(&mut admin, &fx.target_ou, changed).await, 0);
    let theirs = read_sd(&mut admin, &fx.target_ou).await;
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let outcome = apply::apply(&plan, &dir.join("state"), &cancel, &|_| {})
        .await
        .unwrap();
    assert_eq!(outcome.written().count(), 0);
    assert!(
        matches!(outcome.results[..], [(_, apply::TargetResult::Changed)]),
        "{:?}",
        outcome.results
    );
    assert_eq!(
        read_sd(&mut admin, &fx.target_ou).await,
        theirs,
        "their change survives, ours was not written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` names what would still block a reset: an explicit deny for the connector on a target, and a
/// disabled connector account. The connector is given by UPN here.
#[tokio::test(flavor = "multi_thread")]
async fn check_reports_an_explicit_deny_and_a_disabled_connector() {
    let lab = lab();
    let fx = fixture(lab).await;
    let upn = format!(
        "{}@{}",
        fx.connector_sam,
        lab.get("AD_REALM").to_lowercase()
    );
    let (dir, answers) = answers_file(
        lab,
        &upn,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.target_ou).await).unwrap();
    let deny = writeback_wizard::security::parse_ace(&format!("(OD;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;{sid})")).unwrap();
    sd.dacl.as_mut().unwrap().insert_canonical(deny);
    assert_eq!(
        write_sd(&mut admin, &fx.target_ou, sd.to_bytes().unwrap()).await,
        0
    );
    assert_eq!(
        write_attr(&mut admin, &fx.connector_dn, "userAccountControl", "514").await,
        0
    );

    let out = wbw(lab, &dir, &["check", "--answers", answers, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the deny takes Reset Password away: {}",
        text(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = report["directories"][0]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"explicit-deny"), "{kinds:?}");
    assert!(kinds.contains(&"connector-disabled"), "{kinds:?}");
    let rights = report["directories"][0]["targets"][0]["rights"]
        .as_array()
        .unwrap();
    let denied: Vec<&str> = rights
        .iter()
        .filter(|r| r["denied"] == true)
        .map(|r| r["right"].as_str().unwrap())
        .collect();
    assert_eq!(denied, ["Reset Password (Descendant User objects)"]);
    assert_eq!(report["missing"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sibling OUs are read together (one search by `name` where the RDN is plain, by DN where it is escaped):
/// names with a comma, parentheses, an asterisk and non-ASCII letters are each found, granted, proven with
/// a reset by the connector, and reverted byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn sibling_ous_with_special_names_are_granted_and_reverted() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let names = [
        "Plain",
        r"Sales\, EU",
        "R&D (Lab)",
        "Star*",
        "Zürich",
        r"\#Hash",
    ];
    let mut ous = Vec::new();
    let mut users = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let ou = format!("OU={name},{}", fx.root);
        add_ou(&mut admin, &ou).await;
        users.push(
            add_user(
                lab,
                &mut admin,
                &unique(&format!("s{i}")),
                &ou,
                &fx.password,
            )
            .await,
        );
        ous.push(ou);
    }
    let originals: Vec<Vec<u8>> = {
        let mut v = Vec::new();
        for ou in &ous {
            v.push(read_sd(&mut admin, ou).await);
        }
        v
    };
    let list = ous
        .iter()
        .map(|o| format!("'{o}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [{list}]"),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut connector = connect(lab, &fx.connector_dn, &fx.password)
        .await
        .expect("connector binds");
    for user in &users {
        assert_eq!(
            reset_password(&mut connector, user, "Special#1").await,
            0,
            "the connector resets {user}"
        );
    }
    assert_eq!(
        reset_password(&mut connector, &fx.out_user, "Special#1").await,
        50,
        "a sibling that was not listed stays out of scope"
    );
    let out = wbw(lab, &dir, &["check", "--answers", answers]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = wbw(lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (ou, original) in ous.iter().zip(&originals) {
        assert_eq!(&read_sd(&mut admin, ou).await, original, "{ou} as it was");
    }
}

/// Puts `ace` (SDDL, `{sid}` for the connector) first in the DACL of `dn`, before everything, as another
/// admin's tool might.
async fn put_first(admin: &mut ldap3::Ldap, dn: &str, ace: &str) {
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(admin, dn).await).unwrap();
    sd.dacl
        .as_mut()
        .unwrap()
        .aces
        .insert(0, writeback_wizard::security::parse_ace(ace).unwrap());
    assert_eq!(
        write_sd(admin, dn, sd.to_bytes().unwrap()).await,
        0,
        "{ace}"
    );
}

/// Applies the four rights on the fixture's OU, puts `deny` (with `{sid}`) first in its DACL, and returns
/// what the connector's reset of a user below gives on the DC and what `check --json` says.
async fn deny_first_then_reset_and_check(
    deny: &str,
) -> (u32, Option<i32>, serde_json::Value, String) {
    let lab = lab();
    let fx = fixture(lab).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    put_first(&mut admin, &fx.target_ou, &deny.replace("{sid}", &sid)).await;
    let mut connector = connect(lab, &fx.connector_dn, &fx.password)
        .await
        .expect("connector binds");
    let reset = reset_password(&mut connector, &fx.deep_user, "Reach#1").await;
    let out = wbw(lab, &dir, &["check", "--answers", answers, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let plain = wbw(lab, &dir, &["check", "--answers", answers]);
    let _ = std::fs::remove_dir_all(&dir);
    (reset, out.status.code(), report, text(&plain))
}

/// Finding 8, one way: a deny of GENERIC_ALL that the OU hands down to its descendants, first in the DACL.
/// The DC refuses the connector's reset; `check` maps generic rights and says every right is denied.
#[tokio::test(flavor = "multi_thread")]
async fn check_counts_an_inherited_deny_of_generic_all_as_denying_every_right() {
    let (reset, code, report, plain) = deny_first_then_reset_and_check("(D;CIIO;GA;;;{sid})").await;
    assert_eq!(reset, 50, "the DC refuses the reset below the OU");
    assert_eq!(code, Some(3), "{report}");
    let rights = report["directories"][0]["targets"][0]["rights"]
        .as_array()
        .unwrap();
    assert_eq!(rights.len(), 4, "{report}");
    for r in rights {
        assert_eq!(r["denied"], true, "{r}");
        assert_eq!(r["present"], false, "{r}");
    }
    assert_eq!(report["missing"], 4);
    assert!(
        !plain.contains("[ok]") && plain.matches("[DENIED]").count() == 4,
        "{plain}"
    );
    assert!(
        !plain.contains("every required permission is present"),
        "{plain}"
    );
}

/// Finding 8, the other way: a deny on the OU itself that does not inherit leaves the users below it alone.
/// The DC lets the connector reset one; `check` reports every right present and exits 0.
#[tokio::test(flavor = "multi_thread")]
async fn check_ignores_a_deny_on_the_ou_that_does_not_reach_its_users() {
    let (reset, code, report, plain) = deny_first_then_reset_and_check("(D;;RPWPCR;;;{sid})").await;
    assert_eq!(reset, 0, "the DC lets the connector reset the user below");
    assert_eq!(code, Some(0), "{report}\n{plain}");
    let rights = report["directories"][0]["targets"][0]["rights"]
        .as_array()
        .unwrap();
    for r in rights {
        assert_eq!(r["present"], true, "{r}");
        assert_eq!(r["denied"], false, "{r}");
    }
    assert_eq!(report["missing"], 0);
    assert!(
        plain.contains("every required permission is present"),
        "{plain}"
    );
    assert!(
        !plain.contains("explicit-deny"),
        "a deny that reaches nothing is no risk: {plain}"
    );
}
