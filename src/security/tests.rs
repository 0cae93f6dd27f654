//! Codec properties: round trips, a decoder that never panics, idempotent canonical merging.

use proptest::prelude::*;

use super::*;

const USER: Guid = Guid::from_u128(0xbf967aba_0de6_11d0_a285_00aa003049e2);
const RESET_PASSWORD: Guid = Guid::from_u128(0x00299570_246d_11d0_a768_00aa006e0529);

fn sid_strategy() -> impl Strategy<Value = Sid> {
    (0u64..(1 << 48), prop::collection::vec(any::<u32>(), 0..=15)).prop_map(|(authority, subs)| {
        let text = std::iter::once(format!("S-1-{authority}"))
            .chain(subs.iter().map(|s| s.to_string()))
            .collect::<Vec<_>>()
            .join("-");
        text.parse().unwrap()
    })
}

fn guid_strategy() -> impl Strategy<Value = Guid> {
    any::<[u8; 16]>().prop_map(Guid::from_bytes)
}

fn ace_strategy() -> impl Strategy<Value = Ace> {
    let access = (
        prop::sample::select(vec![
            AceType::AccessAllowed,
            AceType::AccessDenied,
            AceType::SystemAudit,
        ]),
        any::<u8>(),
        any::<u32>(),
        sid_strategy(),
    )
        .prop_map(|(ace_type, flags, mask, sid)| Ace {
            ace_type,
            flags: AceFlags(flags),
            body: AceBody::Access(AccessBody {
                mask: AccessMask(mask),
                object_type: None,
                inherited_object_type: None,
                sid,
            }),
        });
    let object = (
        prop::sample::select(vec![
            AceType::AccessAllowedObject,
            AceType::AccessDeniedObject,
            AceType::SystemAuditObject,
        ]),
        any::<u8>(),
        any::<u32>(),
        prop::option::of(guid_strategy()),
        prop::option::of(guid_strategy()),
        sid_strategy(),
    )
        .prop_map(
            |(ace_type, flags, mask, object_type, inherited_object_type, sid)| Ace {
                ace_type,
                flags: AceFlags(flags),
                body: AceBody::Access(AccessBody {
                    mask: AccessMask(mask),
                    object_type,
                    inherited_object_type,
                    sid,
                }),
            },
        );
    // Types we never interpret (mandatory label 0x11, callback ACEs 0x09..) stay opaque.
    let opaque = (
        0x08u8..=0x13,
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(t, flags, body)| Ace {
            ace_type: AceType::from(t),
            flags: AceFlags(flags),
            body: AceBody::Opaque(body),
        });
    prop_oneof![access, object, opaque]
}

fn acl_strategy() -> impl Strategy<Value = Acl> {
    (
        prop::sample::select(vec![2u8, 4]),
        prop::collection::vec(ace_strategy(), 0..12),
    )
        .prop_map(|(revision, aces)| {
            let mut acl = Acl::default();
            acl.revision = revision;
            acl.aces = aces;
            acl
        })
}

fn descriptor_strategy() -> impl Strategy<Value = SecurityDescriptor> {
    (
        any::<u16>(),
        prop::option::of(sid_strategy()),
        prop::option::of(sid_strategy()),
        prop::option::of(acl_strategy()),
        acl_strategy(),
    )
        .prop_map(|(control, owner, group, sacl, dacl)| {
            let mut sd = SecurityDescriptor::with_dacl(control, dacl);
            sd.owner = owner;
            sd.group = group;
            sd.sacl = sacl;
            sd
        })
}

/// A DACL as AD returns it for an OU: explicit deny, explicit allows, inherited ACEs.
fn ad_like_dacl(explicit: Vec<Ace>, inherited: Vec<Ace>) -> Acl {
    let mut acl = Acl::default();
    acl.revision = 4;
    acl.aces = explicit;
    acl.aces.extend(inherited.into_iter().map(|mut a| {
        a.flags.0 |= AceFlags::INHERITED;
        a
    }));
    acl
}

proptest! {
    #[test]
    fn descriptor_round_trips(sd in descriptor_strategy()) {
        let bytes = sd.to_bytes().unwrap();
        let back = SecurityDescriptor::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
        prop_assert_eq!(back.owner, sd.owner);
        prop_assert_eq!(back.dacl, sd.dacl);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = SecurityDescriptor::from_bytes(&bytes);
        let _ = Sid::from_bytes(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_mutated_descriptors(sd in descriptor_strategy(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut bytes = sd.to_bytes().unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(parsed) = SecurityDescriptor::from_bytes(&bytes) {
            // Whatever parses must encode and parse again without panicking.
            let _ = SecurityDescriptor::from_bytes(&parsed.to_bytes().unwrap_or_default());
        }
        let cut = cut.index(bytes.len());
        let _ = SecurityDescriptor::from_bytes(&bytes[..cut]);
    }

    #[test]
    fn merging_is_idempotent_and_keeps_canonical_order(
        explicit_deny in prop::collection::vec(ace_strategy(), 0..4),
        explicit_allow in prop::collection::vec(ace_strategy(), 0..4),
        inherited in prop::collection::vec(ace_strategy(), 0..6),
        new in prop::collection::vec((sid_strategy(), any::<bool>()), 1..5),
    ) {
        let deny: Vec<Ace> = explicit_deny.into_iter().map(|mut a| { a.ace_type = AceType::AccessDeniedObject; a.flags.0 &= !AceFlags::INHERITED; a }).collect();
        let allow: Vec<Ace> = explicit_allow.into_iter().map(|mut a| { a.ace_type = AceType::AccessAllowed; a.flags.0 &= !AceFlags::INHERITED; a }).collect();
        let mut acl = ad_like_dacl(deny.into_iter().chain(allow).collect(), inherited);
        let inherited_before: Vec<Ace> = acl.aces.iter().filter(|a| a.is_inherited()).cloned().collect();
        let was_canonical = acl.is_canonical();
        let wanted: Vec<Ace> = new.into_iter().map(|(sid, wp)| {
            let mask = if wp { AccessMask::WRITE_PROPERTY } else { AccessMask::CONTROL_ACCESS };
            Ace::allow(mask, AceFlags::CONTAINER_INHERIT | AceFlags::INHERIT_ONLY, Some(RESET_PASSWORD), Some(USER), sid)
        }).collect();
        for w in &wanted { acl.insert_canonical(w.clone()); }
        let once = acl.clone();
        for w in &wanted { prop_assert!(!acl.insert_canonical(w.clone())); }
        prop_assert_eq!(&acl, &once);
        if was_canonical { prop_assert!(acl.is_canonical()); }
        let inherited_after: Vec<Ace> = acl.aces.iter().filter(|a| a.is_inherited()).cloned().collect();
        prop_assert_eq!(inherited_after, inherited_before);
        for w in &wanted { prop_assert!(acl.explicitly_covers(w)); }
        prop_assert!(acl.revision >= 4);
    }
}

#[test]
fn allow_goes_after_explicit_deny_and_before_inherited() {
    let sid = |t: &str| t.parse::<Sid>().unwrap();
    let deny =
        parse_ace("(OD;;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1108)").unwrap();
    let allow = parse_ace("(A;;RP;;;AU)").unwrap();
    let mut inherited = parse_ace("(A;CIID;LC;;;RU)").unwrap();
    inherited.flags.0 |= AceFlags::INHERITED;
    let mut acl = ad_like_dacl(vec![deny.clone(), allow.clone()], vec![inherited.clone()]);
    let new = Ace::allow(
        AccessMask::CONTROL_ACCESS,
        AceFlags::CONTAINER_INHERIT | AceFlags::INHERIT_ONLY,
        Some(RESET_PASSWORD),
        Some(USER),
        sid("S-1-5-21-1-2-3-1108"),
    );
    assert!(acl.insert_canonical(new.clone()));
    assert_eq!(acl.aces, vec![deny, allow, new, inherited]);
}

#[test]
fn a_broader_explicit_ace_counts_as_present_and_an_inherited_one_does_not_block_the_write() {
    let wanted = parse_ace("(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)").unwrap();
    let broader = parse_ace("(OA;CIIO;RPWP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)").unwrap();
    let mut acl = ad_like_dacl(vec![broader], vec![]);
    assert!(!acl.insert_canonical(wanted.clone()));

    let mut inherited_copy = wanted.clone();
    inherited_copy.flags.0 |= AceFlags::INHERITED;
    let mut acl = ad_like_dacl(vec![], vec![inherited_copy]);
    assert!(
        acl.aces.iter().any(|a| a.covers(&wanted)),
        "an inherited copy is the same ACE"
    );
    assert!(
        acl.insert_canonical(wanted),
        "apply still adds the explicit ACE"
    );
}

#[test]
fn sddl_renders_and_parses_ace_strings() {
    let text = "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)";
    let ace = parse_ace(text).unwrap();
    assert_eq!(ace.to_string(), text);
    assert_eq!(ace.to_bytes().unwrap().len(), 4 + 4 + 4 + 32 + 28);
    assert_eq!(
        parse_ace("(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)")
            .unwrap()
            .to_string(),
        "(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)"
    );
    assert_eq!(
        parse_ace("(A;;0x1234;;;S-1-5-18)").unwrap().to_string(),
        "(A;;0x1234;;;SY)"
    );
    for bad in [
        "A;;CR;;;SY",
        "(X;;CR;;;SY)",
        "(A;;ZZ;;;SY)",
        "(A;;CR;00299570-246d-11d0-a768-00aa006e0529;;SY)",
        "(A;;CR;;;nobody)",
        "(OA;QQ;CR;;;SY)",
    ] {
        assert!(parse_ace(bad).is_err(), "{bad}");
    }
}

#[test]
fn descriptor_sddl_shows_protection_and_inheritance() {
    let mut acl = Acl::default();
    acl.aces.push(parse_ace("(A;;RP;;;AU)").unwrap());
    let sd =
        SecurityDescriptor::with_dacl(Control::DACL_PROTECTED | Control::DACL_AUTO_INHERITED, acl);
    assert_eq!(sd.to_string(), "D:PAI(A;;RP;;;AU)");
    assert!(sd.dacl_protected());
}

mod many;
