//! The access check rule by rule, on hand-built descriptors.

use super::*;
use crate::security::{Acl, Unsure, parse_ace};

const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";
const INET_ORG_PERSON: &str = "4828cc14-1437-45bc-9b07-ad6f015e5f28";
const RESET: &str = "00299570-246d-11d0-a768-00aa006e0529";
const CHANGE: &str = "ab721a53-1e2f-11d0-9819-00aa0040529b";
const PWD_LAST_SET: &str = "bf967a0a-0de6-11d0-a285-00aa003049e2";
const ACCOUNT_RESTRICTIONS: &str = "4c164200-20c0-11d0-a768-00aa006e0529";
const LOCKOUT_TIME: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
const CONNECTOR: &str = "S-1-5-21-1-2-3-1108";
const GROUP: &str = "S-1-5-21-1-2-3-2001";
const NESTED: &str = "S-1-5-21-1-2-3-2002";
const OTHER: &str = "S-1-5-21-1-2-3-3000";

fn g(text: &str) -> Guid {
    text.parse().unwrap()
}

fn token() -> Token {
    Token::new(
        CONNECTOR.parse().unwrap(),
        [GROUP.parse().unwrap(), NESTED.parse().unwrap()],
    )
}

fn sd(aces: &[&str]) -> SecurityDescriptor {
    let mut acl = Acl::default();
    acl.aces = aces.iter().map(|a| parse_ace(a).unwrap()).collect();
    SecurityDescriptor::with_dacl(0, acl)
}

fn reset() -> Request {
    Request::control_access(g(USER_CLASS), g(RESET))
}

fn change() -> Request {
    Request::control_access(g(USER_CLASS), g(CHANGE))
}

fn pwd_last_set() -> Request {
    Request::write_property(
        g(USER_CLASS),
        Some(g(ACCOUNT_RESTRICTIONS)),
        g(PWD_LAST_SET),
    )
}

fn lockout_time() -> Request {
    Request::write_property(g(USER_CLASS), None, g(LOCKOUT_TIME))
}

fn run(aces: &[&str], request: &Request) -> Verdict {
    check(&token(), &sd(aces), None, request)
}

fn allowed(aces: &[&str], request: &Request) -> bool {
    run(aces, request).granted()
}

#[test]
fn the_connector_its_groups_and_the_logon_sids_are_in_the_token() {
    let grant = |sid: &str| format!("(OA;;CR;{RESET};;{sid})");
    for sid in [
        CONNECTOR, GROUP, NESTED, "S-1-1-0", "S-1-5-11", "S-1-5-2", "S-1-5-15",
    ] {
        assert!(allowed(&[&grant(sid)], &reset()), "{sid}");
    }
    assert!(!allowed(&[&grant(OTHER)], &reset()));
}

#[test]
fn self_matches_only_on_the_connectors_own_object() {
    let aces = [format!("(OA;;CR;{CHANGE};;PS)")];
    let aces: Vec<&str> = aces.iter().map(String::as_str).collect();
    let own: Sid = CONNECTOR.parse().unwrap();
    let someone: Sid = OTHER.parse().unwrap();
    assert!(check(&token(), &sd(&aces), Some(&own), &change()).granted());
    assert!(!check(&token(), &sd(&aces), Some(&someone), &change()).granted());
    assert!(!check(&token(), &sd(&aces), None, &change()).granted());
}

#[test]
fn stored_order_decides_and_is_never_re_sorted() {
    let allow = format!("(OA;;CR;{RESET};;{CONNECTOR})");
    let deny = format!("(OD;;CR;{RESET};;{GROUP})");
    let inherited_deny = format!("(OD;ID;CR;{RESET};;{GROUP})");
    assert!(!allowed(&[&deny, &allow], &reset()), "deny first wins");
    assert!(
        allowed(&[&allow, &deny], &reset()),
        "a non-canonical allow first wins, as on Windows"
    );
    assert!(
        allowed(&[&allow, &inherited_deny], &reset()),
        "explicit allow before inherited deny"
    );
    match run(&[&deny, &allow], &reset()) {
        Verdict::Denied { index, ace } => {
            assert_eq!(index, 0);
            assert_eq!(ace.to_string(), deny);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn inherit_only_aces_are_skipped() {
    let io = format!("(OA;CIIO;CR;{RESET};{USER_CLASS};{CONNECTOR})");
    let io_deny = format!("(OD;CIIO;CR;{RESET};;{CONNECTOR})");
    let allow = format!("(OA;;CR;{RESET};;{CONNECTOR})");
    assert!(!allowed(&[&io], &reset()));
    assert!(allowed(&[&io_deny, &allow], &reset()));
}

#[test]
fn an_inherited_object_type_on_an_effective_ace_is_not_filtered_at_check_time() {
    // The DC already marked non-matching inherited ACEs inherit-only; what is left applies.
    let ace = format!("(OA;ID;CR;{RESET};{INET_ORG_PERSON};{CONNECTOR})");
    assert!(allowed(&[&ace], &reset()));
}

#[test]
fn a_missing_dacl_grants_everything_and_an_empty_one_nothing() {
    let mut none = sd(&[]);
    none.dacl = None;
    none.control = Control(Control::SELF_RELATIVE);
    assert_eq!(check(&token(), &none, None, &reset()), Verdict::NullDacl);
    assert!(check(&token(), &none, None, &reset()).granted());
    assert_eq!(run(&[], &reset()), Verdict::NotGranted);
}

#[test]
fn generic_rights_are_mapped() {
    assert!(allowed(&[&format!("(A;;GA;;;{GROUP})")], &reset()));
    assert!(allowed(&[&format!("(A;;GA;;;{GROUP})")], &lockout_time()));
    assert!(allowed(&[&format!("(A;;GW;;;{GROUP})")], &lockout_time()));
    assert!(
        !allowed(&[&format!("(A;;GW;;;{GROUP})")], &reset()),
        "generic write has no CR"
    );
    assert!(!allowed(&[&format!("(A;;GR;;;{GROUP})")], &pwd_last_set()));
    // Full control written out, without object type: every control access right.
    assert!(allowed(
        &[&format!("(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;{GROUP})")],
        &change()
    ));
}

#[test]
fn control_access_takes_the_right_the_class_or_no_object_type() {
    assert!(allowed(
        &[&format!("(OA;;CR;{RESET};;{CONNECTOR})")],
        &reset()
    ));
    assert!(!allowed(
        &[&format!("(OA;;CR;{CHANGE};;{CONNECTOR})")],
        &reset()
    ));
    assert!(allowed(
        &[&format!("(OA;;CR;{USER_CLASS};;{CONNECTOR})")],
        &reset()
    ));
    assert!(
        allowed(&[&format!("(A;;CR;;;{CONNECTOR})")], &reset()),
        "all extended rights"
    );
    assert!(
        !allowed(&[&format!("(OA;;WP;{RESET};;{CONNECTOR})")], &reset()),
        "WP is not CR"
    );
}

#[test]
fn write_property_walks_class_property_set_attribute() {
    let set = format!("(OA;;WP;{ACCOUNT_RESTRICTIONS};;{CONNECTOR})");
    assert!(
        allowed(&[&set], &pwd_last_set()),
        "pwdLastSet is in User-Account-Restrictions"
    );
    assert!(
        !allowed(&[&set], &lockout_time()),
        "lockoutTime is in no property set"
    );
    assert!(allowed(
        &[&format!("(OA;;WP;{LOCKOUT_TIME};;{CONNECTOR})")],
        &lockout_time()
    ));
    assert!(allowed(
        &[&format!("(OA;;WP;{USER_CLASS};;{CONNECTOR})")],
        &lockout_time()
    ));
    assert!(!allowed(
        &[&format!("(OA;;WP;{PWD_LAST_SET};;{CONNECTOR})")],
        &lockout_time()
    ));
}

#[test]
fn a_deny_counts_only_while_the_right_is_not_yet_granted() {
    let set_allow = format!("(OA;;WP;{ACCOUNT_RESTRICTIONS};;{CONNECTOR})");
    let attr_deny = format!("(OD;;WP;{PWD_LAST_SET};;S-1-1-0)");
    assert!(allowed(&[&set_allow, &attr_deny], &pwd_last_set()));
    assert!(!allowed(&[&attr_deny, &set_allow], &pwd_last_set()));
    // A deny on the property set blocks the attribute below it.
    let set_deny = format!("(OD;;WP;{ACCOUNT_RESTRICTIONS};;{GROUP})");
    let attr_allow = format!("(OA;;WP;{PWD_LAST_SET};;{CONNECTOR})");
    assert!(!allowed(&[&set_deny, &attr_allow], &pwd_last_set()));
    assert!(!allowed(&[&set_deny, &attr_allow], &lockout_time()));
}

#[test]
fn user_cannot_change_password_denies_everyone_and_self() {
    let aces = [
        format!("(OD;;CR;{CHANGE};;WD)"),
        format!("(OD;;CR;{CHANGE};;PS)"),
        format!("(OA;;CR;{CHANGE};;{CONNECTOR})"),
        format!("(OA;;CR;{RESET};;{CONNECTOR})"),
    ];
    let aces: Vec<&str> = aces.iter().map(String::as_str).collect();
    assert!(!allowed(&aces, &change()));
    assert!(allowed(&aces, &reset()), "reset is another right");
}

/// A callback (conditional) deny ACE for `sid` on Reset Password: its body is kept opaque by the codec.
fn callback_deny(sid: &str) -> Ace {
    let mut body = 0x100u32.to_le_bytes().to_vec();
    body.extend_from_slice(&sid.parse::<Sid>().unwrap().to_bytes());
    body.extend_from_slice(b"artx\x01\x00\x00\x00");
    let mut bytes = vec![0x0A, 0, u8::try_from(body.len() + 4).unwrap(), 0];
    bytes.extend_from_slice(&body);
    Ace::from_bytes(&bytes).unwrap()
}

#[test]
fn an_opaque_deny_before_the_allow_makes_the_verdict_uncertain_naming_it() {
    let allow = parse_ace(&format!("(OA;;CR;{RESET};;{CONNECTOR})")).unwrap();
    let deny = callback_deny(GROUP);
    let mut acl = Acl::default();
    acl.aces = vec![deny.clone(), allow.clone()];
    let verdict = check(
        &token(),
        &SecurityDescriptor::with_dacl(0, acl),
        None,
        &reset(),
    );
    match &verdict {
        Verdict::Uncertain {
            index,
            ace,
            why,
            otherwise,
        } => {
            assert_eq!((*index, ace, *why), (0, &deny, Unsure::Opaque));
            assert!(matches!(**otherwise, Verdict::Allowed { index: 1, .. }));
        }
        other => panic!("never ALLOWED: {other:?}"),
    }
    assert!(!verdict.granted());
    // After the allow it changes nothing; for someone else it does not apply.
    let mut acl = Acl::default();
    acl.aces = vec![allow.clone(), deny];
    let sd = SecurityDescriptor::with_dacl(0, acl);
    assert!(matches!(
        check(&token(), &sd, None, &reset()),
        Verdict::Allowed { index: 0, .. }
    ));
    let mut acl = Acl::default();
    acl.aces = vec![callback_deny(OTHER), allow];
    let sd = SecurityDescriptor::with_dacl(0, acl);
    assert!(check(&token(), &sd, None, &reset()).granted());
}

#[test]
fn a_token_built_in_another_domain_is_uncertain_about_that_domains_local_groups() {
    // The connector is in S-1-5-21-1-2-3; the object is in S-1-5-21-7-8-9, whose domain-local groups the
    // token (global and universal groups only) does not list.
    let elsewhere =
        Token::without_domain_local_groups(CONNECTOR.parse().unwrap(), [GROUP.parse().unwrap()]);
    let user: Sid = "S-1-5-21-7-8-9-1500".parse().unwrap();
    let local_group = "S-1-5-21-7-8-9-1200";
    let allow = format!("(OA;;CR;{RESET};;{CONNECTOR})");
    let deny_local = format!("(OD;;CR;{RESET};;{local_group})");
    let run_as = |t: &Token, aces: &[&str]| check(t, &sd(aces), Some(&user), &reset());
    match run_as(&elsewhere, &[&deny_local, &allow]) {
        Verdict::Uncertain { index: 0, why, .. } => assert_eq!(why, Unsure::Trustee),
        other => panic!("{other:?}"),
    }
    // A BUILTIN group (Account Operators) of that domain is one too.
    let builtin = format!("(OD;;CR;{RESET};;S-1-5-32-548)");
    assert!(matches!(
        run_as(&elsewhere, &[&builtin, &allow]),
        Verdict::Uncertain { .. }
    ));
    // A grant only through such a group: maybe, not "not granted".
    let allow_local = format!("(OA;;CR;{RESET};;{local_group})");
    assert!(matches!(
        run_as(&elsewhere, &[&allow_local]),
        Verdict::Uncertain { .. }
    ));
    // Groups of the connector's own domain are all listed (global) or mean nothing there (local); a token
    // built in the object's domain is complete.
    let own_domain = format!("(OD;;CR;{RESET};;S-1-5-21-1-2-3-4000)");
    assert!(run_as(&elsewhere, &[&own_domain, &allow]).granted());
    assert!(run_as(&token(), &[&deny_local, &allow]).granted());
    assert!(!elsewhere.matches(&local_group.parse().unwrap(), Some(&user)));
}
