//! Paged searches walk past AD's 1000-entry MaxPageSize: 1,200 OUs come back through pages of 100.
//! (Samba does not enforce MaxPageSize; the point is that every page is requested and read.)

mod common;

use std::collections::HashSet;

use common::*;
use ldap3::Scope;
use secrecy::SecretString;
use writeback_wizard::ad::{ConnectionSettings, Session};
use writeback_wizard::answers::TlsMode;

#[tokio::test(flavor = "multi_thread")]
async fn a_subtree_larger_than_one_page_is_read_completely() {
    let lab = lab();
    let (root, _) = ou_tree(lab, "p", 1200).await;
    let settings = ConnectionSettings {
        page_size: 100,
        ..ConnectionSettings::new(
            lab.get("AD_LDAPS_URL"),
            TlsMode::Ldaps,
            Some(lab.get("AD_CA_CERT").into()),
        )
    };
    let mut session = Session::connect(&settings).await.unwrap();
    session
        .bind(
            lab.get("AD_ADMIN_DN"),
            &SecretString::from(lab.get("AD_ADMIN_PASSWORD").to_string()),
        )
        .await
        .unwrap();
    let mut seen = HashSet::new();
    let count = session
        .search_each(
            &root,
            Scope::OneLevel,
            "(objectClass=organizationalUnit)",
            &["ou"],
            true,
            |e| {
                seen.insert(e.dn);
            },
        )
        .await
        .unwrap();
    assert_eq!((count, seen.len()), (1200, 1200));
    // Pages of 100: 12 full pages and the empty-cookie answer; without paging this would be 1.
    let pages = session.stats().pages;
    assert!((12..=13).contains(&pages), "{pages} pages requested");
}
