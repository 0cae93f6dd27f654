//! Issue 10 on the two-domain lab forest (FOREST.EXAMPLE.TEST on 127.0.0.3 with its child domain
//! CHILD.FOREST.EXAMPLE.TEST on 127.0.0.4; no trust between them, so each domain has its own admin and an
//! account of one domain cannot bind to the other's DC: a cross-domain grant is proven by the SID on the
//! DACL, a reset only in the connector's own domain).

mod common;

use std::path::PathBuf;

use common::*;
use writeback_wizard::security::{Control, SecurityDescriptor};

/// Writes `text` as answers in a fresh directory, with the two admin passwords in files beside it.
fn answers(f: &Lab, text: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(unique("wbw-forest-"));
    std::fs::create_dir_all(&dir).unwrap();
    let root_pw = dir.join("root-password");
    let child_pw = dir.join("child-password");
    write_private(&root_pw, f.get("FOREST_ROOT_ADMIN_PASSWORD"));
    write_private(&child_pw, f.get("FOREST_CHILD_ADMIN_PASSWORD"));
    let text = text
        .replace("ROOT_PW", &format!("file:{}", root_pw.display()))
        .replace("CHILD_PW", &format!("file:{}", child_pw.display()));
    let path = dir.join("answers.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn directory(f: &Lab, connector: &str, rest: &str) -> String {
    format!(
        "version = 1\n\n[[directory]]\nforest = \"{}\"\nurl = \"{}\"\nca_file = \"{}\"\nadmin = '{}'\nadmin_password = \"ROOT_PW\"\nconnector = '{connector}'\n{rest}\n\n[directory.domains.\"{}\"]\nurl = \"{}\"\nadmin = '{}'\nadmin_password = \"CHILD_PW\"\n\n[features]\nunexpire_password = false\n",
        f.get("FOREST_NAME"),
        f.get("FOREST_ROOT_LDAPS_URL"),
        f.get("FOREST_CA_CERT"),
        f.get("FOREST_ROOT_ADMIN"),
        f.get("FOREST_CHILD_DNS_NAME"),
        f.get("FOREST_CHILD_LDAPS_URL"),
        f.get("FOREST_CHILD_ADMIN"),
    )
}

async fn root_admin(f: &Lab) -> ldap3::Ldap {
    connect_to(
        f.get("FOREST_ROOT_LDAPS_URL"),
        f.get("FOREST_CA_CERT"),
        f.get("FOREST_ROOT_ADMIN_DN"),
        f.get("FOREST_ROOT_ADMIN_PASSWORD"),
    )
    .await
    .expect("root admin binds")
}

async fn child_admin(f: &Lab) -> ldap3::Ldap {
    connect_to(
        f.get("FOREST_CHILD_LDAPS_URL"),
        f.get("FOREST_CA_CERT"),
        f.get("FOREST_CHILD_ADMIN_DN"),
        f.get("FOREST_CHILD_ADMIN_PASSWORD"),
    )
    .await
    .expect("child admin binds")
}

/// The tests change what the forest's objects inherit (a grant on a domain root reaches every OU below it),
/// so they take turns.
static FOREST_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// Must-shows 1 and 2, in one test because both change what the forest's objects inherit.
#[tokio::test(flavor = "multi_thread")]
async fn both_domains_are_planned_applied_and_reverted_each_on_its_own_dc() {
    let _turn = FOREST_TURN.lock().await;
    let f = forest_lab();
    let (root_nc, child_nc) = (f.get("FOREST_ROOT_BASE_DN"), f.get("FOREST_CHILD_BASE_DN"));
    let mut root = root_admin(f).await;
    let mut child = child_admin(f).await;
    let connector_sid = f.get("FOREST_CONNECTOR_SID");

    // 1. scope = "domains": both domain roots, each on its own DC with its own admin.
    let (dir, path) = answers(
        f,
        &directory(f, f.get("FOREST_CONNECTOR"), "scope = \"domains\""),
    );
    let out = wbw_env(&dir, &["plan", "--answers", &path, "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = json(&out);
    let targets = plan["directories"][0]["targets"].as_array().unwrap();
    let at = |dn: &str| {
        targets
            .iter()
            .find(|t| t["dn"].as_str().unwrap().eq_ignore_ascii_case(dn))
            .unwrap_or_else(|| panic!("{dn} not planned: {plan}"))
    };
    assert_eq!(at(root_nc)["dc"], f.get("FOREST_ROOT_LDAPS_URL"));
    assert_eq!(at(child_nc)["dc"], f.get("FOREST_CHILD_LDAPS_URL"));
    assert_eq!(at(child_nc)["domain"], f.get("FOREST_CHILD_DNS_NAME"));
    let out = wbw_env(&dir, &["plan", "--answers", &path], &[]);
    assert!(
        text(&out).contains(&format!(
            "domain {} (DC {})",
            f.get("FOREST_CHILD_DNS_NAME"),
            f.get("FOREST_CHILD_LDAPS_URL")
        )),
        "{}",
        text(&out)
    );

    // check walks the child domain too (a search of the parent domain stops at the child's naming context):
    // an OU there that blocks inheritance is reported.
    let blocked = format!("OU={},{child_nc}", unique("blk"));
    add_ou(&mut child, &blocked).await;
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut child, &blocked).await).unwrap();
    sd.control = Control(sd.control.0 | Control::DACL_PROTECTED);
    assert_eq!(
        write_sd(&mut child, &blocked, sd.to_bytes().unwrap()).await,
        0
    );
    let out = wbw_env(&dir, &["check", "--answers", &path, "--json"], &[]);
    let report = json(&out);
    let risks = report["directories"][0]["risks"].as_array().unwrap();
    assert!(
        risks.iter().any(|r| r["kind"] == "inheritance-disabled"
            && r["dn"].as_str().unwrap().eq_ignore_ascii_case(&blocked)),
        "{report}"
    );
    delete(&mut child, &blocked).await;

    // With only the root domain selected, a child-domain user is out of scope: ACEs do not inherit across
    // naming contexts, so explain must not say that apply would reach it.
    let (dir_root, path_root) = answers(
        f,
        &directory(
            f,
            f.get("FOREST_CONNECTOR"),
            &format!("scope = \"selected\"\nous = [\"{root_nc}\"]"),
        ),
    );
    let out = wbw_env(
        &dir_root,
        &[
            "explain",
            "--answers",
            &path_root,
            f.get("FOREST_CHILD_USER_DN"),
        ],
        &[],
    );
    assert!(
        !text(&out).contains("in the answers' scope") && text(&out).contains("to ous"),
        "{}",
        text(&out)
    );

    let original_root = read_sd(&mut root, root_nc).await;
    let original_child = read_sd(&mut child, child_nc).await;
    let out = wbw_env(&dir, &["apply", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The root connector resets a root-domain user; the child's DACL holds the root connector's ACEs.
    let mut connector = connect_to(
        f.get("FOREST_ROOT_LDAPS_URL"),
        f.get("FOREST_CA_CERT"),
        f.get("FOREST_CONNECTOR_DN"),
        f.get("FOREST_USER_PASSWORD"),
    )
    .await
    .expect("the connector binds in its own domain");
    assert_eq!(
        reset_password(&mut connector, f.get("FOREST_ROOT_USER_DN"), "Forest#1").await,
        0
    );
    let child_aces = explicit_aces_of(&read_sd(&mut child, child_nc).await, connector_sid);
    assert_eq!(child_aces.len(), 4, "{child_aces:?}");
    let out = wbw_env(&dir, &["revert", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_sd(&mut root, root_nc).await, original_root);
    assert_eq!(read_sd(&mut child, child_nc).await, original_child);
    assert_eq!(
        reset_password(&mut connector, f.get("FOREST_ROOT_USER_DN"), "Forest#2").await,
        50
    );

    // 2. scope = "selected" with an OU in each domain; the connector named as CHILD\name and as a UPN whose
    // suffix is the root's (a root account of the same name, with no UPN, is there to be picked wrongly).
    let child_sid = f.get("FOREST_CHILD_CONNECTOR_SID");
    let ous = format!(
        "scope = \"selected\"\nous = [\"{}\", \"{}\"]",
        f.get("FOREST_ROOT_TARGET_OU"),
        f.get("FOREST_CHILD_TARGET_OU")
    );
    for name in [
        f.get("FOREST_CHILD_CONNECTOR"),
        f.get("FOREST_CHILD_CONNECTOR_UPN"),
    ] {
        let (dir, path) = answers(f, &directory(f, name, &ous));
        let out = wbw_env(&dir, &["plan", "--answers", &path, "--json"], &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out));
        assert_eq!(
            json(&out)["directories"][0]["connector_sid"],
            child_sid,
            "{name}"
        );
    }
    let (dir, path) = answers(f, &directory(f, f.get("FOREST_CHILD_CONNECTOR_UPN"), &ous));
    let before = (
        read_sd(&mut root, f.get("FOREST_ROOT_TARGET_OU")).await,
        read_sd(&mut child, f.get("FOREST_CHILD_TARGET_OU")).await,
    );
    let out = wbw_env(&dir, &["apply", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut child_connector = connect_to(
        f.get("FOREST_CHILD_LDAPS_URL"),
        f.get("FOREST_CA_CERT"),
        f.get("FOREST_CHILD_CONNECTOR_DN"),
        f.get("FOREST_USER_PASSWORD"),
    )
    .await
    .expect("the child connector binds in its own domain");
    assert_eq!(
        reset_password(
            &mut child_connector,
            f.get("FOREST_CHILD_USER_DN"),
            "Child#1"
        )
        .await,
        0,
        "in scope in its domain"
    );
    assert_eq!(
        reset_password(
            &mut child_connector,
            f.get("FOREST_CHILD_OTHER_USER_DN"),
            "Child#2"
        )
        .await,
        50,
        "out of scope"
    );
    let root_aces = explicit_aces_of(
        &read_sd(&mut root, f.get("FOREST_ROOT_TARGET_OU")).await,
        child_sid,
    );
    assert_eq!(
        root_aces.len(),
        4,
        "the child connector's SID on the root OU: {root_aces:?}"
    );
    let out = wbw_env(&dir, &["revert", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        (
            read_sd(&mut root, f.get("FOREST_ROOT_TARGET_OU")).await,
            read_sd(&mut child, f.get("FOREST_CHILD_TARGET_OU")).await,
        ),
        before
    );
}

/// A DC named for a domain must be a DC of that domain: a child-domain url that reaches the root's DC is
/// refused before anyone signs in there.
#[tokio::test(flavor = "multi_thread")]
async fn a_dc_of_another_domain_is_not_taken_for_the_domains() {
    let _turn = FOREST_TURN.lock().await;
    let f = forest_lab();
    let wrong = directory(
        f,
        f.get("FOREST_CONNECTOR"),
        &format!(
            "scope = \"selected\"\nous = [\"{}\"]",
            f.get("FOREST_CHILD_OTHER_OU")
        ),
    )
    .replace(
        f.get("FOREST_CHILD_LDAPS_URL"),
        f.get("FOREST_ROOT_LDAPS_URL"),
    );
    let (dir, path) = answers(f, &wrong);
    let out = wbw_env(&dir, &["plan", "--answers", &path], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("not of {}", f.get("FOREST_CHILD_BASE_DN"))),
        "{}",
        text(&out)
    );
}

/// Must-show 3: a directory given only by its forest name and a DNS server.
#[tokio::test(flavor = "multi_thread")]
async fn a_forest_named_only_is_found_through_dns_srv_records() {
    let _turn = FOREST_TURN.lock().await;
    let f = forest_lab();
    let text_for = |forest: &str| {
        format!(
            "version = 1\n\n[[directory]]\nforest = \"{forest}\"\ndns_server = \"{}:{}\"\nca_file = \"{}\"\nadmin = '{}'\nadmin_password = \"ROOT_PW\"\nconnector = '{}'\nscope = \"selected\"\nous = [\"{}\", \"{}\"]\n\n[directory.domains.\"{}\"]\nadmin = '{}'\nadmin_password = \"CHILD_PW\"\n\n[features]\nunexpire_password = false\n",
            f.get("FOREST_DNS_SERVER"),
            f.get("FOREST_DNS_PORT"),
            f.get("FOREST_CA_CERT"),
            f.get("FOREST_ROOT_ADMIN"),
            f.get("FOREST_CONNECTOR"),
            f.get("FOREST_ROOT_OTHER_OU"),
            f.get("FOREST_CHILD_OTHER_OU"),
            f.get("FOREST_CHILD_DNS_NAME"),
            f.get("FOREST_CHILD_ADMIN"),
        )
    };
    let (dir, path) = answers(f, &text_for(f.get("FOREST_NAME")));
    let out = wbw_env(&dir, &["plan", "--answers", &path, "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan = json(&out);
    let dcs: Vec<&str> = plan["directories"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["dc"].as_str().unwrap())
        .collect();
    // Each DC reached at the address DNS gave, its certificate checked against the SRV host name.
    assert!(
        dcs.contains(&format!("ldaps://{}:636", f.get("FOREST_ROOT_HOST")).as_str()),
        "{dcs:?}"
    );
    assert!(
        dcs.contains(&format!("ldaps://{}:636", f.get("FOREST_CHILD_HOST")).as_str()),
        "{dcs:?}"
    );
    let out = wbw_env(&dir, &["apply", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = wbw_env(&dir, &["check", "--answers", &path], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = wbw_env(&dir, &["revert", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The journal of an apply whose DC came from DNS reverts on its own: it recorded the address dialled and
    // the name the certificate was checked against.
    let root_only = text_for(f.get("FOREST_NAME")).replace(
        &format!(
            "ous = [\"{}\", \"{}\"]",
            f.get("FOREST_ROOT_OTHER_OU"),
            f.get("FOREST_CHILD_OTHER_OU")
        ),
        &format!("ous = [\"{}\"]", f.get("FOREST_ROOT_OTHER_OU")),
    );
    let (dir, path) = answers(f, &root_only);
    let mut root = root_admin(f).await;
    let before = read_sd(&mut root, f.get("FOREST_ROOT_OTHER_OU")).await;
    let out = wbw_env(&dir, &["apply", "--answers", &path, "--yes"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let journal = std::fs::read_dir(dir.join("state/journal"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        journal_text.contains(&format!(
            "\"tls_name\":\"{}\"",
            f.get("FOREST_ROOT_DC_HOSTNAME")
        )),
        "{journal_text}"
    );
    let password = dir.join("root-password");
    let out = wbw_env(
        &dir,
        &[
            "revert",
            "--journal",
            journal.to_str().unwrap(),
            "--admin-password",
            &format!("file:{}", password.display()),
            "--yes",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        read_sd(&mut root, f.get("FOREST_ROOT_OTHER_OU")).await,
        before,
        "{}",
        text(&out)
    );

    // A forest nobody answers for: the error names the record and the server it asked (--dns-server wins
    // over the answers' dns_server, which points nowhere here).
    let ous = format!(
        "ous = [\"{}\", \"{}\"]",
        f.get("FOREST_ROOT_OTHER_OU"),
        f.get("FOREST_CHILD_OTHER_OU")
    );
    let server = format!(
        "{}:{}",
        f.get("FOREST_DNS_SERVER"),
        f.get("FOREST_DNS_PORT")
    );
    let nowhere = text_for("nowhere.example.test")
        .replace(&ous, "ous = [\"OU=X,DC=nowhere,DC=example,DC=test\"]")
        .replace(
            &format!("dns_server = \"{server}\""),
            "dns_server = \"127.0.0.9:53\"",
        );
    let (dir, path) = answers(f, &nowhere);
    let out = wbw_env(
        &dir,
        &["plan", "--answers", &path, "--dns-server", &server],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("_ldap._tcp.dc._msdcs.nowhere.example.test")
            && text(&out).contains(f.get("FOREST_DNS_SERVER")),
        "{}",
        text(&out)
    );
}
