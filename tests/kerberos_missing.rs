//! Without the `kerberos` feature, `auth = "kerberos"` says how to get it (and sends no password anywhere).
#![cfg(not(feature = "kerberos"))]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_build_without_kerberos_says_how_to_get_it() {
    let lab = lab();
    let dir = std::env::temp_dir().join(unique("wbw-nokrb-"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("answers.toml");
    std::fs::write(
        &path,
        format!(
            "version = 1\n[[directory]]\nforest = \"{}\"\nurl = \"{}\"\nca_file = \"{}\"\nauth = \"kerberos\"\nconnector = '{}'\n",
            lab.get("AD_REALM").to_lowercase(),
            lab.get("AD_LDAPS_URL"),
            lab.get("AD_CA_CERT"),
            lab.get("AD_CONNECTOR"),
        ),
    )
    .unwrap();
    let out = wbw_env(&dir, &["plan", "--answers", path.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no Kerberos support"), "{}", text(&out));
    assert!(text(&out).contains("--features kerberos"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
