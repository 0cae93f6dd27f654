//! Issue 10, must-show 4: Kerberos (SASL GSSAPI) sign-in with the admin's own ticket, against the main lab DC
//! and its KDC. Built and run with `cargo test --features kerberos --test kerberos` (CI does); without the
//! feature the binary says how to get it (tests/bad_input.rs).
#![cfg(feature = "kerberos")]

mod common;

use common::*;

fn kerberos_answers(lab: &Lab, fx: &Fixture, tls_lines: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(unique("wbw-krb-"));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "version = 1\n\n[[directory]]\nforest = \"{}\"\n{tls_lines}\nca_file = \"{}\"\nauth = \"kerberos\"\nconnector = '{}'\nscope = \"selected\"\nous = [\"{}\"]\n\n[features]\nunexpire_password = false\n",
        lab.get("AD_REALM").to_lowercase(),
        lab.get("AD_CA_CERT"),
        fx.connector_sam,
        fx.target_ou,
    );
    let path = dir.join("answers.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_apply_check_and_revert_sign_in_with_the_admins_ticket() {
    let lab = lab();
    let fx = fixture(lab).await;
    let ldaps = format!("url = \"{}\"", lab.get("AD_LDAPS_URL"));
    let (dir, path) = kerberos_answers(lab, &fx, &ldaps);
    let ticket = [
        ("KRB5_CONFIG", lab.get("KRB5_CONFIG")),
        ("KRB5CCNAME", lab.get("KRB5CCNAME")),
    ];
    let mut admin = admin(lab).await;
    let original = read_sd(&mut admin, &fx.target_ou).await;
    for command in [
        &["plan", "--answers", &path][..],
        &["apply", "--answers", &path, "--yes"],
    ] {
        let out = wbw_env(&dir, command, &ticket);
        assert_eq!(out.status.code(), Some(0), "{command:?}: {}", text(&out));
    }
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Kerberos#1").await,
        0
    );
    let out = wbw_env(&dir, &["check", "--answers", &path], &ticket);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = wbw_env(&dir, &["revert", "--answers", &path, "--yes"], &ticket);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_sd(&mut admin, &fx.target_ou).await, original);

    // Without a ticket: the error says to run kinit.
    let no_ticket = [
        ("KRB5_CONFIG", lab.get("KRB5_CONFIG")),
        ("KRB5CCNAME", "FILE:/nonexistent/krb5cc"),
    ];
    let out = wbw_env(&dir, &["plan", "--answers", &path], &no_ticket);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("kinit"), "{}", text(&out));

    // A wrong host name for the service principal is named as such.
    let (dir2, path2) = kerberos_answers(
        lab,
        &fx,
        &format!("{ldaps}\nspn_host = \"nosuchdc.corp.example.test\""),
    );
    let out = wbw_env(&dir2, &["plan", "--answers", &path2], &ticket);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("ldap/nosuchdc.corp.example.test"),
        "{}",
        text(&out)
    );

    // Over plain LDAP it is refused before anything is sent.
    let (dir3, path3) = kerberos_answers(
        lab,
        &fx,
        &format!(
            "url = \"{}\"\ntls = \"none\"\nallow_plaintext = true",
            lab.get("AD_LDAP_URL")
        ),
    );
    let out = wbw_env(&dir3, &["plan", "--answers", &path3], &ticket);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("Kerberos is allowed over TLS only"),
        "{}",
        text(&out)
    );
    for d in [dir, dir2, dir3] {
        let _ = std::fs::remove_dir_all(d);
    }
}
