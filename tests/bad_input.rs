//! Must-show 6 and 7: every kind of bad input gives one actionable error line (plus a hint), a non-zero exit,
//! and leaves the directory unchanged, as re-reading the descriptors shows. A wrong password never echoes.

mod common;
#[path = "support/self_signed.rs"]
mod self_signed;

use std::path::Path;

use common::*;
use self_signed::self_signed;

struct Case {
    name: &'static str,
    answers: String,
    password: Option<String>,
    args: &'static [&'static str],
    exit: i32,
    says: &'static str,
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from} not in answers");
    text.replace(from, to)
}

fn wrong_ca(dir: &Path) -> String {
    self_signed(dir, "wrong-ca", "/CN=not the lab CA")
        .0
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_fails_clearly_and_changes_nothing() {
    let lab = lab();
    let fx = fixture(lab).await;
    let base = lab.get("AD_BASE_DN");
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "",
    );
    let good = std::fs::read_to_string(&path).unwrap();
    let ca = lab.get("AD_CA_CERT");
    let url = lab.get("AD_LDAPS_URL");
    const CANARY: &str = "Canary#pw-7e1f9";
    let cases = vec![
        Case {
            name: "wrong admin password",
            answers: good.clone(),
            password: Some(CANARY.into()),
            args: &[],
            exit: 1,
            says: "invalid credentials",
        },
        Case {
            name: "wrong CA",
            answers: replace(&good, ca, &wrong_ca(&dir)),
            password: None,
            args: &[],
            exit: 1,
            says: "certificate",
        },
        Case {
            name: "unreachable host",
            answers: replace(&good, url, "ldaps://127.0.0.1:1"),
            password: None,
            args: &[],
            exit: 1,
            says: "cannot connect",
        },
        Case {
            name: "nonexistent OU",
            answers: replace(&good, &fx.target_ou, &format!("OU=NoSuchOU,{base}")),
            password: None,
            args: &[],
            exit: 2,
            says: "does not exist",
        },
        Case {
            name: "malformed DN",
            answers: replace(&good, &fx.target_ou, "Users,Corp"),
            password: None,
            args: &[],
            exit: 2,
            says: "ous[1]",
        },
        Case {
            name: "unknown connector",
            answers: replace(&good, &fx.connector_sam, "nobody-here-42"),
            password: None,
            args: &[],
            exit: 2,
            says: "was not found",
        },
        Case {
            name: "malformed file",
            answers: replace(&good, "[[directory]]", "[[directory]"),
            password: None,
            args: &[],
            exit: 2,
            says: "answers.toml:",
        },
        Case {
            name: "unknown key",
            answers: replace(&good, "scope =", "sever = 1\nscope ="),
            password: None,
            args: &[],
            exit: 2,
            says: "unknown field `sever`",
        },
        Case {
            name: "plain ldap without StartTLS",
            answers: replace(
                &replace(&good, url, lab.get("AD_LDAP_URL")),
                "tls = \"ldaps\"",
                "tls = \"none\"",
            ),
            password: None,
            args: &[],
            exit: 2,
            says: "clear text",
        },
        Case {
            name: "starttls on an ldaps url",
            answers: replace(&good, "tls = \"ldaps\"", "tls = \"starttls\""),
            password: None,
            args: &[],
            exit: 2,
            says: "tls:",
        },
        Case {
            // The first directory is fine; the second (a forest may be listed once, so it names another, which
            // the DC it points at does not serve) fails after the first was planned: nothing is written to either.
            name: "second directory fails after the first was planned",
            answers: {
                let block =
                    &good[good.find("[[directory]]").unwrap()..good.find("[features]").unwrap()];
                let forest = lab.get("AD_REALM").to_lowercase();
                format!(
                    "{good}\n{}",
                    block.replace(
                        &format!("forest = \"{forest}\""),
                        "forest = \"other.example.test\""
                    )
                )
            },
            password: None,
            args: &[],
            exit: 2,
            says: "belongs to forest",
        },
        Case {
            // A plain user can read the DACLs (SD flags = DACL) but may not write them: refused before any write.
            name: "admin account without Modify permissions",
            answers: replace(&good, lab.get("AD_ADMIN"), &fx.connector_dn),
            password: Some(fx.password.clone()),
            args: &[],
            exit: 1,
            says: "may not change the permissions",
        },
        Case {
            name: "apply without --yes and no terminal",
            answers: good.clone(),
            password: None,
            args: &["--no-yes"],
            exit: 2,
            says: "not a terminal",
        },
    ];

    let mut admin = admin(lab).await;
    let watched = [fx.target_ou.clone(), base.to_string(), fx.root.clone()];
    let mut before = Vec::new();
    for dn in &watched {
        before.push(read_sd(&mut admin, dn).await);
    }
    for case in cases {
        std::fs::write(&path, &case.answers).unwrap();
        let mut args = vec!["apply", "--answers", path.to_str().unwrap()];
        if case.args != ["--no-yes"] {
            args.push("--yes");
        }
        let out = wbw_with_password(
            &dir,
            &args,
            case.password
                .as_deref()
                .unwrap_or(lab.get("AD_ADMIN_PASSWORD")),
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{}: {stderr}",
            case.name
        );
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("writeback-wizard: "))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "{}: one error line expected: {stderr}",
            case.name
        );
        assert!(
            errors[0].contains(case.says),
            "{}: {:?} not in {:?}",
            case.name,
            case.says,
            errors[0]
        );
        assert!(
            stderr.lines().any(|l| l.starts_with("hint: ")),
            "{}: a hint says what to do: {stderr}",
            case.name
        );
        assert!(
            !stderr.contains(CANARY) && !String::from_utf8_lossy(&out.stdout).contains(CANARY),
            "{}: password echoed",
            case.name
        );
        for (dn, sd) in watched.iter().zip(&before) {
            assert_eq!(
                &read_sd(&mut admin, dn).await,
                sd,
                "{}: {dn} changed",
                case.name
            );
        }
    }
    assert!(
        !dir.join("state/journal").exists(),
        "no journal: nothing was ever about to be written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` reads the targets in the same searches as their scope: a selected OU that is not there is still
/// named as `ous[N]` with exit 2, whether it is alone or one of many siblings read together.
#[tokio::test(flavor = "multi_thread")]
async fn check_names_a_missing_ou_alone_or_among_siblings() {
    let lab = lab();
    let fx = fixture(lab).await;
    let (_, siblings) = ou_tree(lab, "sib", 9).await;
    let parent = siblings[0].split_once(',').unwrap().1.to_string();
    let missing = format!("OU=NoSuchSibling,{parent}");
    let no_parent = format!("OU=NoSuchParent,{}", fx.root);
    for (name, ous, index) in [
        ("alone", vec![format!("OU=NoSuchOU,{}", fx.root)], 1),
        (
            "a CN= object (read before the walk)",
            vec![
                fx.target_ou.clone(),
                format!("CN=NoSuchUser,{}", fx.target_ou),
            ],
            2,
        ),
        (
            "two siblings below a parent that is not there",
            vec![
                fx.target_ou.clone(),
                format!("OU=A,{no_parent}"),
                format!("OU=B,{no_parent}"),
            ],
            2,
        ),
        (
            "among siblings",
            {
                let mut v = siblings.clone();
                v.insert(4, missing.clone());
                v
            },
            5,
        ),
    ] {
        let list = ous
            .iter()
            .map(|o| format!("\"{o}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let (dir, path) = answers_file(
            lab,
            &fx.connector_sam,
            &format!("scope = \"selected\"\nous = [{list}]"),
            "",
        );
        let out = wbw(lab, &dir, &["check", "--answers", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("writeback-wizard: "))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(
            errors[0].contains(&format!("ous[{index}]")) && errors[0].contains("does not exist"),
            "{name}: {stderr}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
