//! Our codec against the descriptors the lab returns: every one re-encodes byte for byte, and an independent
//! parser (windows-sddl) reads the same control, owner, group and DACL from it.

mod common;

use common::*;
use ldap3::{Scope, SearchEntry};
use writeback_wizard::security::{AceBody, AceType, SecurityDescriptor};

fn agree(dn: &str, bytes: &[u8]) {
    let ours = SecurityDescriptor::from_bytes(bytes).unwrap_or_else(|e| panic!("{dn}: {e}"));
    assert_eq!(ours.to_bytes().unwrap(), bytes, "{dn}: re-encoding differs");
    let theirs = windows_sddl::parse(bytes).unwrap_or_else(|e| panic!("{dn}: windows-sddl: {e:?}"));
    assert_eq!(ours.control.0, theirs.control, "{dn}");
    assert_eq!(
        ours.owner.as_ref().map(|s| s.to_string()),
        theirs.owner.as_ref().map(|s| s.to_string()),
        "{dn}"
    );
    assert_eq!(
        ours.group.as_ref().map(|s| s.to_string()),
        theirs.group.as_ref().map(|s| s.to_string()),
        "{dn}"
    );
    let our_aces = ours.dacl.map(|d| d.aces).unwrap_or_default();
    let their_aces = theirs.dacl.map(|d| d.aces).unwrap_or_default();
    assert_eq!(our_aces.len(), their_aces.len(), "{dn}");
    for (a, b) in our_aces.iter().zip(&their_aces) {
        assert_eq!(a.flags.0, b.flags, "{dn}");
        let AceBody::Access(body) = &a.body else {
            assert!(
                matches!(b.ace_type, windows_sddl::AceType::Other(_)),
                "{dn}: we kept a known ACE opaque"
            );
            continue;
        };
        let kind = match a.ace_type {
            AceType::AccessAllowed => windows_sddl::AceType::AccessAllowed,
            AceType::AccessDenied => windows_sddl::AceType::AccessDenied,
            AceType::AccessAllowedObject => windows_sddl::AceType::AccessAllowedObject,
            AceType::AccessDeniedObject => windows_sddl::AceType::AccessDeniedObject,
            other => windows_sddl::AceType::Other(u8::from(other)),
        };
        assert_eq!(kind, b.ace_type, "{dn}");
        assert_eq!(body.mask.0, b.mask.bits(), "{dn}");
        assert_eq!(body.sid.to_string(), b.trustee.to_string(), "{dn}");
        assert_eq!(
            body.object_type.map(|g| g.to_string()),
            b.object_type.map(|g| g.to_string()),
            "{dn}"
        );
        assert_eq!(
            body.inherited_object_type.map(|g| g.to_string()),
            b.inherited_object_type.map(|g| g.to_string()),
            "{dn}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_descriptor_the_lab_returns_round_trips_and_matches_windows_sddl() {
    let lab = lab();
    let mut admin = admin(lab).await;
    let base = lab.get("AD_BASE_DN");
    // Full descriptors (owner, group, SACL, DACL: no SD flags control) and DACL-only ones.
    let (entries, _) = admin
        .search(base, Scope::Subtree, "(|(objectClass=organizationalUnit)(objectClass=container)(objectClass=user)(objectClass=domainDNS))", vec!["nTSecurityDescriptor"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let mut seen = 0;
    for entry in entries
        .into_iter()
        .filter(|e| !e.is_ref())
        .map(SearchEntry::construct)
    {
        if let Some(sd) = entry
            .bin_attrs
            .get("nTSecurityDescriptor")
            .and_then(|v| v.first())
        {
            agree(&entry.dn, sd);
            agree(&entry.dn, &read_sd(&mut admin, &entry.dn).await);
            seen += 1;
        }
    }
    assert!(seen >= 20, "only {seen} descriptors");
}
