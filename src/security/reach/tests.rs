//! The predicate case by case: generic mapping, object type vs property set vs class, inheritance by place,
//! inherited object type, trustees, and ACEs it cannot read.

use super::*;
use crate::security::parse_ace;

const USER: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";
const INET_ORG_PERSON: &str = "4828cc14-1437-45bc-9b07-ad6f015e5f28";
const RESET: &str = "00299570-246d-11d0-a768-00aa006e0529";
const CHANGE: &str = "ab721a53-1e2f-11d0-9819-00aa0040529b";
const PWD_LAST_SET: &str = "bf967a0a-0de6-11d0-a285-00aa003049e2";
const ACCOUNT_RESTRICTIONS: &str = "4c164200-20c0-11d0-a768-00aa006e0529";
const LOCKOUT_TIME: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
const ME: &str = "S-1-5-21-1-2-3-1108";
const MAYBE: &str = "S-1-5-21-7-8-9-1200";

fn g(text: &str) -> Guid {
    text.parse().unwrap()
}

fn reset_on(class: &str) -> Request {
    Request::control_access(g(class), g(RESET))
}

fn reset() -> Request {
    reset_on(USER)
}

fn pwd_last_set() -> Request {
    Request::write_property(g(USER), Some(g(ACCOUNT_RESTRICTIONS)), g(PWD_LAST_SET))
}

fn lockout_time() -> Request {
    Request::write_property(g(USER), None, g(LOCKOUT_TIME))
}

fn member(sid: &Sid) -> Member {
    match sid.to_string().as_str() {
        ME | "S-1-1-0" => Member::Yes,
        MAYBE => Member::Maybe,
        _ => Member::No,
    }
}

fn at(sddl: &str, request: &Request, place: Place) -> Reach {
    let ace = parse_ace(&sddl.replace("ME", ME)).unwrap();
    reach(&ace, request, place, member)
}

use Place::{Child, Deeper, Itself};

/// An ACE (SDDL), the request it is asked about, and the answer on the object itself.
type Case<S> = (S, fn() -> Request, Reach);
use Reach::{DoesNotApply, Grants, Uncertain};

#[test]
fn generic_rights_are_mapped_for_grants_and_denies() {
    let table: &[Case<&str>] = &[
        ("(A;;GA;;;ME)", reset, Grants),
        ("(A;;GA;;;ME)", lockout_time, Grants),
        ("(D;;GA;;;ME)", reset, Reach::Denies),
        ("(D;;GA;;;ME)", pwd_last_set, Reach::Denies),
        ("(A;;GW;;;ME)", lockout_time, Grants),
        ("(A;;GW;;;ME)", reset, DoesNotApply),
        ("(D;;GW;;;ME)", pwd_last_set, Reach::Denies),
        ("(A;;GR;;;ME)", lockout_time, DoesNotApply),
        ("(A;;GR;;;ME)", reset, DoesNotApply),
        ("(A;;GX;;;ME)", reset, DoesNotApply),
        ("(D;;GX;;;ME)", lockout_time, DoesNotApply),
        ("(A;;RPWPCR;;;ME)", reset, Grants),
    ];
    for (sddl, request, want) in table {
        assert_eq!(at(sddl, &request(), Itself), *want, "{sddl}");
    }
}

#[test]
fn object_type_may_be_the_right_its_property_set_or_the_class() {
    let table: &[Case<String>] = &[
        (format!("(OA;;CR;{RESET};;ME)"), reset, Grants),
        (format!("(OA;;CR;{CHANGE};;ME)"), reset, DoesNotApply),
        (format!("(OA;;CR;{USER};;ME)"), reset, Grants),
        (
            format!("(OA;;CR;{INET_ORG_PERSON};;ME)"),
            reset,
            DoesNotApply,
        ),
        (format!("(OA;;WP;{RESET};;ME)"), reset, DoesNotApply),
        (
            format!("(OA;;WP;{ACCOUNT_RESTRICTIONS};;ME)"),
            pwd_last_set,
            Grants,
        ),
        (
            format!("(OA;;WP;{ACCOUNT_RESTRICTIONS};;ME)"),
            lockout_time,
            DoesNotApply,
        ),
        (
            format!("(OD;;WP;{ACCOUNT_RESTRICTIONS};;ME)"),
            pwd_last_set,
            Reach::Denies,
        ),
        (format!("(OA;;WP;{PWD_LAST_SET};;ME)"), pwd_last_set, Grants),
        (
            format!("(OA;;WP;{PWD_LAST_SET};;ME)"),
            lockout_time,
            DoesNotApply,
        ),
        (format!("(OA;;WP;{USER};;ME)"), lockout_time, Grants),
        (format!("(OA;;GA;{LOCKOUT_TIME};;ME)"), lockout_time, Grants),
    ];
    for (sddl, request, want) in table {
        assert_eq!(at(sddl, &request(), Itself), *want, "{sddl}");
    }
}

#[test]
fn inheritance_flags_decide_which_places_an_ace_reaches() {
    let table: &[(&str, [Reach; 3])] = &[
        // (Itself, Child, Deeper)
        ("(A;;CR;;;ME)", [Grants, DoesNotApply, DoesNotApply]),
        ("(A;CI;CR;;;ME)", [Grants, Grants, Grants]),
        ("(A;CIIO;CR;;;ME)", [DoesNotApply, Grants, Grants]),
        ("(A;CINP;CR;;;ME)", [Grants, Grants, DoesNotApply]),
        ("(A;CIIONP;CR;;;ME)", [DoesNotApply, Grants, DoesNotApply]),
        // OBJECT_INHERIT alone: every directory object is a container, so nothing is handed down.
        ("(A;OI;CR;;;ME)", [Grants, DoesNotApply, DoesNotApply]),
        ("(A;IO;CR;;;ME)", [DoesNotApply, DoesNotApply, DoesNotApply]),
        // An inherited copy counts where it is, and hands down like any other.
        ("(A;ID;CR;;;ME)", [Grants, DoesNotApply, DoesNotApply]),
        ("(A;CIID;CR;;;ME)", [Grants, Grants, Grants]),
        (
            "(D;CIIO;GA;;;ME)",
            [DoesNotApply, Reach::Denies, Reach::Denies],
        ),
        (
            "(D;;RPWPCR;;;ME)",
            [Reach::Denies, DoesNotApply, DoesNotApply],
        ),
    ];
    for (sddl, want) in table {
        for (place, want) in [Itself, Child, Deeper].into_iter().zip(want) {
            assert_eq!(at(sddl, &reset(), place), *want, "{sddl} at {place:?}");
        }
    }
}

#[test]
fn an_inherited_object_type_limits_descendants_to_its_class_but_not_the_object_itself() {
    let ours = format!("(OA;CIIO;CR;{RESET};{USER};ME)");
    assert_eq!(at(&ours, &reset(), Child), Grants);
    assert_eq!(at(&ours, &reset(), Deeper), Grants);
    assert_eq!(at(&ours, &reset_on(INET_ORG_PERSON), Child), DoesNotApply);
    assert_eq!(at(&ours, &reset(), Itself), DoesNotApply, "inherit-only");
    // On the object itself the DC already decided: a copy that is not inherit-only applies.
    let here = format!("(OA;ID;CR;{RESET};{INET_ORG_PERSON};ME)");
    assert_eq!(at(&here, &reset(), Itself), Grants);
    // Descendants of a class nobody told us: cannot say.
    let unknown_class = Request::new(AccessMask::CONTROL_ACCESS, None, None, Some(g(RESET)));
    assert_eq!(at(&ours, &unknown_class, Child), Uncertain(Unsure::Class));
    assert_eq!(
        at(&format!("(OA;CIIO;CR;{RESET};;ME)"), &unknown_class, Child),
        Grants
    );
}

#[test]
fn the_trustee_must_be_in_the_token_and_a_maybe_is_uncertain() {
    assert_eq!(at("(A;;CR;;;WD)", &reset(), Itself), Grants);
    assert_eq!(
        at("(A;;CR;;;S-1-5-21-1-2-3-999)", &reset(), Itself),
        DoesNotApply
    );
    assert_eq!(
        at(&format!("(D;;CR;;;{MAYBE})"), &reset(), Itself),
        Uncertain(Unsure::Trustee)
    );
    // Still nothing for other rights or places.
    assert_eq!(
        at(&format!("(D;;WP;;;{MAYBE})"), &reset(), Itself),
        DoesNotApply
    );
    assert_eq!(
        at(&format!("(D;CIIO;CR;;;{MAYBE})"), &reset(), Itself),
        DoesNotApply
    );
}

/// An ACE from raw bytes: type, flags, body.
fn raw(ace_type: u8, flags: u8, body: &[u8]) -> Ace {
    let size = u16::try_from(body.len() + 4).unwrap();
    let mut bytes = vec![ace_type, flags];
    bytes.extend_from_slice(&size.to_le_bytes());
    bytes.extend_from_slice(body);
    Ace::from_bytes(&bytes).unwrap()
}

fn body(mask: u32, object_flags: Option<u32>, sid: &str, tail: &[u8]) -> Vec<u8> {
    let mut out = mask.to_le_bytes().to_vec();
    if let Some(f) = object_flags {
        out.extend_from_slice(&f.to_le_bytes());
        if f & 1 != 0 {
            out.extend_from_slice(&g(RESET).to_bytes());
        }
    }
    out.extend_from_slice(&sid.parse::<Sid>().unwrap().to_bytes());
    out.extend_from_slice(tail);
    out
}

#[test]
fn aces_it_cannot_read_are_uncertain_where_they_might_apply() {
    let check = |ace: &Ace, place| reach(ace, &reset(), place, member);
    // A callback (conditional) deny for the connector: the condition is not evaluated here.
    let callback_deny = raw(0x0A, 0, &body(0x100, None, ME, b"artx\0\0\0\0"));
    assert!(matches!(callback_deny.body, AceBody::Opaque(_)));
    assert_eq!(check(&callback_deny, Itself), Uncertain(Unsure::Opaque));
    // Readable enough to see it is for someone else, or for other rights, or does not reach.
    let elsewhere = raw(0x0A, 0, &body(0x100, None, "S-1-5-21-1-2-3-999", b"artx"));
    assert_eq!(check(&elsewhere, Itself), DoesNotApply);
    let other_right = raw(0x0A, 0, &body(0x20, None, ME, b"artx"));
    assert_eq!(check(&other_right, Itself), DoesNotApply);
    assert_eq!(check(&callback_deny, Child), DoesNotApply, "no CI");
    // A callback object allow for another extended right: not this one.
    let mut change = body(0x100, Some(1), ME, b"artx");
    change[8..24].copy_from_slice(&g(CHANGE).to_bytes());
    assert_eq!(check(&raw(0x0B, 0, &change), Itself), DoesNotApply);
    assert_eq!(
        check(&raw(0x0B, 0, &body(0x100, Some(1), ME, b"artx")), Itself),
        Uncertain(Unsure::Opaque)
    );
    // A deny object ACE with object flags this codec does not know, and a plain deny with trailing bytes.
    let unknown_flags = raw(0x06, 0, &body(0x100, Some(0x5), ME, b""));
    assert!(matches!(unknown_flags.body, AceBody::Opaque(_)));
    assert_eq!(check(&unknown_flags, Itself), Uncertain(Unsure::Opaque));
    let trailing = raw(0x01, 0x02, &body(0x100, None, ME, &[0, 0, 0, 0]));
    assert!(matches!(trailing.body, AceBody::Opaque(_)));
    assert_eq!(check(&trailing, Deeper), Uncertain(Unsure::Opaque));
    // An ACE type nobody knows may allow or deny; an audit ACE never decides access.
    assert_eq!(
        check(&raw(0x42, 0, b"\x01\x02\x03\x04"), Itself),
        Uncertain(Unsure::Opaque)
    );
    assert_eq!(
        check(&raw(0x0D, 0, &body(0x100, None, ME, b"artx")), Itself),
        DoesNotApply
    );
}

#[test]
fn places_reached_by_flags() {
    let flags = |f: u8| Place::reached_by(AceFlags(f));
    assert_eq!(flags(0), vec![Itself]);
    assert_eq!(
        flags(AceFlags::CONTAINER_INHERIT | AceFlags::INHERIT_ONLY),
        vec![Child, Deeper]
    );
    assert_eq!(
        flags(AceFlags::CONTAINER_INHERIT | AceFlags::NO_PROPAGATE_INHERIT),
        vec![Itself, Child]
    );
}
