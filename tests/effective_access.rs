//! Issue 9's proof: for 60+ users covering every case (and combinations), our verdict for each right equals
//! what the DC does when the connector tries it: reset over LDAPS, change with the old password, write
//! lockoutTime, write pwdLastSet. The test prints the agreement as a count and fails on any disagreement.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use ldap3::{Ldap, Mod};
use writeback_wizard::security::{Control, SecurityDescriptor};

const RESET: &str = "00299570-246d-11d0-a768-00aa006e0529";
const CHANGE: &str = "ab721a53-1e2f-11d0-9819-00aa0040529b";
const LOCKOUT: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
const PWD_LAST_SET: &str = "bf967a0a-0de6-11d0-a285-00aa003049e2";
const ACCOUNT_RESTRICTIONS: &str = "4c164200-20c0-11d0-a768-00aa006e0529";
const USER: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";
const INET_ORG_PERSON: &str = "4828cc14-1437-45bc-9b07-ad6f015e5f28";
const PER_OU: usize = 6;

/// The four writeback grants for `sid` on descendant objects of `class`.
fn writeback(sid: &str, class: &str) -> Vec<String> {
    vec![
        format!("(OA;CIIO;CR;{RESET};{class};{sid})"),
        format!("(OA;CIIO;CR;{CHANGE};{class};{sid})"),
        format!("(OA;CIIO;WP;{LOCKOUT};{class};{sid})"),
        format!("(OA;CIIO;WP;{PWD_LAST_SET};{class};{sid})"),
    ]
}

async fn add_group(ldap: &mut Ldap, parent: &str, name: &str) -> String {
    let dn = format!("CN={name},{parent}");
    ldap.add(
        &dn,
        vec![
            ("objectClass", HashSet::from(["group"])),
            ("sAMAccountName", HashSet::from([name])),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    dn
}

async fn add_member(ldap: &mut Ldap, group: &str, member: &str) {
    ldap.modify(group, vec![Mod::Add("member", HashSet::from([member]))])
        .await
        .unwrap()
        .success()
        .unwrap();
}

async fn add_inet_org_person(ldap: &mut Ldap, sam: &str, parent: &str, password: &str) -> String {
    let dn = format!("CN={sam},{parent}");
    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (
            b"objectClass".to_vec(),
            HashSet::from([b"inetOrgPerson".to_vec()]),
        ),
        (
            b"sAMAccountName".to_vec(),
            HashSet::from([sam.as_bytes().to_vec()]),
        ),
        (
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(password)]),
        ),
        (
            b"userAccountControl".to_vec(),
            HashSet::from([b"512".to_vec()]),
        ),
    ];
    ldap.add(&dn, attrs).await.unwrap().success().unwrap();
    dn
}

/// Replaces the DACL of `dn` with its explicit ACEs plus `extra` and inheritance switched off.
async fn protect(ldap: &mut Ldap, dn: &str, from: Option<&str>, extra: &[String]) {
    let source = from.unwrap_or(dn);
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(ldap, source).await).unwrap();
    let dacl = sd.dacl.get_or_insert_with(Default::default);
    dacl.aces.retain(|a| !a.is_inherited());
    for ace in extra {
        dacl.insert_canonical(writeback_wizard::security::parse_ace(ace).unwrap());
    }
    sd.control = Control(sd.control.0 | Control::DACL_PROTECTED);
    assert_eq!(
        write_sd(ldap, dn, sd.to_bytes().unwrap()).await,
        0,
        "protect {dn}"
    );
}

/// What the DC lets the connector do to `user` (whose password is `password`), right by right.
async fn dc_verdicts(connector: &mut Ldap, user: &str, password: &str, n: usize) -> [bool; 4] {
    let rc_ok = |rc: u32, what: &str| {
        assert!(
            rc == 0 || rc == 50,
            "{what} on {user}: unexpected result {rc}"
        );
        rc == 0
    };
    // A refused change comes back as constraintViolation (19), not 50, on Windows and Samba alike (Samba's
    // acl.c: "Very strange, but we get constraint violation in this case"); the lab's password policy is off,
    // so 19 means refused here.
    let change_rc = change_password(connector, user, password, &format!("Changed#{n}x")).await;
    let change = rc_ok(if change_rc == 19 { 50 } else { change_rc }, "change");
    let reset = rc_ok(
        reset_password(connector, user, &format!("Reset#{n}y")).await,
        "reset",
    );
    let lockout = rc_ok(
        write_attr(connector, user, "lockoutTime", "0").await,
        "lockoutTime",
    );
    let pwd = rc_ok(
        write_attr(connector, user, "pwdLastSet", "0").await,
        "pwdLastSet",
    );
    [reset, change, lockout, pwd]
}

#[tokio::test(flavor = "multi_thread")]
async fn our_verdict_for_every_user_and_right_is_what_the_dc_does() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let base = lab.get("AD_BASE_DN");
    let pw = fx.password.clone();
    let connector_sid = object_sid(&mut admin, &fx.connector_dn).await;

    // Groups: the connector in G1 directly, and in G3 through G2.
    let users_cn = format!("CN=Users,{base}");
    let g1 = add_group(&mut admin, &users_cn, &unique("g1")).await;
    let g2 = add_group(&mut admin, &users_cn, &unique("g2")).await;
    let g3 = add_group(&mut admin, &users_cn, &unique("g3")).await;
    add_member(&mut admin, &g1, &fx.connector_dn).await;
    add_member(&mut admin, &g2, &fx.connector_dn).await;
    add_member(&mut admin, &g3, &g2).await;
    let (g1_sid, g3_sid) = (
        object_sid(&mut admin, &g1).await,
        object_sid(&mut admin, &g3).await,
    );

    let root = fx.root.clone();
    let ou = |name: &str| format!("OU={name},{root}");
    let mut users: Vec<(String, &'static str)> = Vec::new();
    let make_ou = async |admin: &mut Ldap, name: &str, grants: &[String]| -> String {
        let dn = ou(name);
        add_ou(admin, &dn).await;
        for g in grants {
            grant(admin, &dn, g).await;
        }
        dn
    };
    let fill = async |admin: &mut Ldap,
                      parent: &str,
                      case: &'static str,
                      users: &mut Vec<(String, &'static str)>| {
        for _ in 0..PER_OU {
            let dn = add_user(lab, admin, &unique("u"), parent, &pw).await;
            users.push((dn, case));
        }
    };

    // 1. Granted to the connector itself, as apply would.
    let direct = make_ou(&mut admin, "Direct", &writeback(&connector_sid, USER)).await;
    fill(&mut admin, &direct, "direct grant", &mut users).await;
    // 2. Granted to a group the connector is in; 3. to a group it is in through another group.
    let group_ou = make_ou(&mut admin, "Group", &writeback(&g1_sid, USER)).await;
    fill(&mut admin, &group_ou, "group grant", &mut users).await;
    let nested_ou = make_ou(&mut admin, "Nested", &writeback(&g3_sid, USER)).await;
    fill(&mut admin, &nested_ou, "nested group grant", &mut users).await;
    // 4. Nothing granted.
    let none_ou = make_ou(&mut admin, "None", &[]).await;
    fill(&mut admin, &none_ou, "no grant", &mut users).await;
    // 5. A property-set grant: WP on User-Account-Restrictions (covers pwdLastSet, not lockoutTime) + reset.
    let set_ou = make_ou(
        &mut admin,
        "PropertySet",
        &[
            format!("(OA;CIIO;WP;{ACCOUNT_RESTRICTIONS};{USER};{connector_sid})"),
            format!("(OA;CIIO;CR;{RESET};{USER};{connector_sid})"),
        ],
    )
    .await;
    fill(&mut admin, &set_ou, "property-set grant", &mut users).await;
    // 6. Generic All on descendant users, through the group.
    let ga_ou = make_ou(
        &mut admin,
        "GenericAll",
        &[format!("(OA;CIIO;GA;;{USER};{g1_sid})")],
    )
    .await;
    fill(&mut admin, &ga_ou, "generic-all grant", &mut users).await;
    // 7. A grant whose inherited object type is another class: user objects below do not get it.
    let wrong_ou = make_ou(
        &mut admin,
        "WrongType",
        &writeback(&connector_sid, INET_ORG_PERSON),
    )
    .await;
    fill(
        &mut admin,
        &wrong_ou,
        "grant for inetOrgPerson, user objects",
        &mut users,
    )
    .await;
    // ... and inetOrgPerson users below a grant for user objects.
    for _ in 0..PER_OU {
        let dn = add_inet_org_person(&mut admin, &unique("p"), &direct, &pw).await;
        users.push((dn, "inetOrgPerson below a user grant"));
    }
    // 8. A deny for the group on lockoutTime, before the connector's own grants.
    let deny_ou = make_ou(
        &mut admin,
        "GroupDeny",
        &[
            writeback(&connector_sid, USER),
            vec![format!("(OD;CIIO;WP;{LOCKOUT};{USER};{g1_sid})")],
        ]
        .concat(),
    )
    .await;
    fill(
        &mut admin,
        &deny_ou,
        "group deny on lockoutTime",
        &mut users,
    )
    .await;
    // 9. Inheritance disabled at an OU below a granted one.
    let blocked_ou = format!("OU=Blocked,{direct}");
    add_ou(&mut admin, &blocked_ou).await;
    protect(&mut admin, &blocked_ou, None, &[]).await;
    fill(
        &mut admin,
        &blocked_ou,
        "inheritance disabled at the OU",
        &mut users,
    )
    .await;

    // Per-user cases inside granted OUs.
    let one = async |admin: &mut Ldap,
                     parent: &str,
                     case: &'static str,
                     users: &mut Vec<(String, &'static str)>|
           -> String {
        let dn = add_user(lab, admin, &unique("s"), parent, &pw).await;
        users.push((dn.clone(), case));
        dn
    };
    // "User cannot change password": Everyone and SELF denied Change Password (twice: direct and group grant).
    for parent in [&direct, &group_ou] {
        let u = one(
            &mut admin,
            parent,
            "user cannot change password",
            &mut users,
        )
        .await;
        grant(&mut admin, &u, &format!("(OD;;CR;{CHANGE};;WD)")).await;
        grant(&mut admin, &u, &format!("(OD;;CR;{CHANGE};;PS)")).await;
    }
    // A deny on one user for the connector.
    let u = one(&mut admin, &direct, "deny on the user", &mut users).await;
    grant(
        &mut admin,
        &u,
        &format!("(OD;;CR;{RESET};;{connector_sid})"),
    )
    .await;
    // A deny for the nested group on pwdLastSet, on one user below the nested-group grant.
    let u = one(
        &mut admin,
        &nested_ou,
        "nested group deny on the user",
        &mut users,
    )
    .await;
    grant(
        &mut admin,
        &u,
        &format!("(OD;;WP;{PWD_LAST_SET};;{g3_sid})"),
    )
    .await;
    // An explicit deny stored after an inherited allow: Windows and Samba walk the stored order.
    let u = one(
        &mut admin,
        &direct,
        "explicit deny after inherited allow",
        &mut users,
    )
    .await;
    {
        let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &u).await).unwrap();
        let deny =
            writeback_wizard::security::parse_ace(&format!("(OD;;CR;{RESET};;{connector_sid})"))
                .unwrap();
        sd.dacl.as_mut().unwrap().aces.push(deny);
        assert_eq!(write_sd(&mut admin, &u, sd.to_bytes().unwrap()).await, 0);
    }
    // Inheritance disabled on a user (twice).
    for _ in 0..2 {
        let u = one(
            &mut admin,
            &group_ou,
            "inheritance disabled on the user",
            &mut users,
        )
        .await;
        protect(&mut admin, &u, None, &[]).await;
    }
    // adminCount=1, the DACL as SDProp leaves it (AdminSDHolder's, protected): without and with our grant there.
    let holder = format!("CN=AdminSDHolder,CN=System,{base}");
    let sdprop_grants: Vec<String> = [
        format!("(OA;CI;CR;{RESET};;{connector_sid})"),
        format!("(OA;CI;CR;{CHANGE};;{connector_sid})"),
        format!("(OA;CI;WP;{LOCKOUT};;{connector_sid})"),
        format!("(OA;CI;WP;{PWD_LAST_SET};;{connector_sid})"),
    ]
    .to_vec();
    for (case, extra) in [
        ("adminCount without an AdminSDHolder grant", Vec::new()),
        ("adminCount with an AdminSDHolder grant", sdprop_grants),
    ] {
        for _ in 0..2 {
            let u = one(&mut admin, &direct, case, &mut users).await;
            assert_eq!(write_attr(&mut admin, &u, "adminCount", "1").await, 0);
            protect(&mut admin, &u, Some(&holder), &extra).await;
        }
    }
    assert!(users.len() >= 60, "{} users", users.len());

    // Our verdicts: check --users over the fixture's root.
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{root}\"]"),
        "unexpire_password = false",
    );
    let out = wbw(
        lab,
        &dir,
        &[
            "check",
            "--answers",
            answers.to_str().unwrap(),
            "--users",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ours: HashMap<String, [bool; 4]> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let b = |k: &str| u[k].as_bool().unwrap();
            (
                u["dn"].as_str().unwrap().to_ascii_lowercase(),
                [
                    b("reset"),
                    b("change"),
                    b("lockout_time"),
                    b("pwd_last_set"),
                ],
            )
        })
        .collect();

    // What the DC does, as the connector.
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    let (mut agree, mut total) = (0, 0);
    let mut disagreements = Vec::new();
    let mut cases_seen: HashMap<&str, [usize; 4]> = HashMap::new();
    for (n, (dn, case)) in users.iter().enumerate() {
        let Some(verdict) = ours.get(&dn.to_ascii_lowercase()) else {
            disagreements.push(format!("{dn} ({case}): not in our report"));
            continue;
        };
        let dc = dc_verdicts(&mut connector, dn, &pw, n).await;
        let seen = cases_seen.entry(case).or_default();
        for (i, right) in ["reset", "change", "lockoutTime", "pwdLastSet"]
            .iter()
            .enumerate()
        {
            total += 1;
            seen[i] += usize::from(dc[i]);
            if dc[i] == verdict[i] {
                agree += 1;
            } else {
                disagreements.push(format!(
                    "{dn} ({case}) {right}: DC {} / ours {}",
                    dc[i], verdict[i]
                ));
            }
        }
    }
    println!(
        "agreement with the DC: {agree}/{total} verdicts over {} users",
        users.len()
    );
    let mut cases: Vec<_> = cases_seen.into_iter().collect();
    cases.sort();
    for (case, granted) in cases {
        println!(
            "  {case}: the DC granted reset/change/lockoutTime/pwdLastSet to {granted:?} users"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );

    // The reasons name the cases.
    let reasons: Vec<String> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| {
            u["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["kind"].as_str().unwrap().to_string())
        })
        .collect();
    for kind in [
        "no-grant",
        "deny",
        "user-cannot-change-password",
        "inheritance-disabled-user",
        "inheritance-disabled-ou",
        "protected-account",
        "wrong-object-type",
    ] {
        assert!(
            reasons.iter().any(|r| r == kind),
            "no reason {kind}: {reasons:?}"
        );
    }
    let summary = &report["directories"][0]["summary"];
    // The fixture's own three users are in scope too.
    assert_eq!(summary["users"].as_u64().unwrap() as usize, ours.len());
    assert_eq!(ours.len(), users.len() + 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A right held through a group counts as present in `check` ("via GROUP"), `apply` adds no duplicate for it
/// (unless --explicit), and `explain` names the deciding ACE, where it sits, and the fix.
#[tokio::test(flavor = "multi_thread")]
async fn a_right_held_through_a_group_is_present_and_not_added_again() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let users_cn = format!("CN=Users,{}", lab.get("AD_BASE_DN"));
    let group_name = unique("wb");
    let group = add_group(&mut admin, &users_cn, &group_name).await;
    add_member(&mut admin, &group, &fx.connector_dn).await;
    let group_sid = object_sid(&mut admin, &group).await;
    for ace in writeback(&group_sid, USER) {
        grant(&mut admin, &fx.target_ou, &ace).await;
    }
    // "User cannot change password" on the user in scope.
    grant(&mut admin, &fx.in_user, &format!("(OD;;CR;{CHANGE};;WD)")).await;
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();

    let out = wbw(lab, &dir, &["check", "--answers", answers]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "[ok] Reset Password (Descendant User objects) via CORP\\{group_name}"
        )),
        "{}",
        text(&out)
    );

    let before = read_sd(&mut admin, &fx.target_ou).await;
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("nothing written"), "{}", text(&out));
    assert_eq!(
        read_sd(&mut admin, &fx.target_ou).await,
        before,
        "no duplicate for the group's right"
    );

    // explain: Reset through the group's inherited ACE; Change refused by the explicit Everyone deny.
    let out = wbw(
        lab,
        &dir,
        &["explain", "--answers", answers, &fx.in_user, "--json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let right = |name: &str| {
        view["rights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["right"] == name)
            .unwrap()
            .clone()
    };
    let reset = right("Reset Password");
    assert_eq!(reset["granted"], true);
    assert_eq!(
        reset["source"],
        format!("inherited from {}", fx.target_ou).as_str()
    );
    assert!(
        reset["ace"].as_str().unwrap().contains(&group_sid),
        "{reset}"
    );
    let change = right("Change Password");
    assert_eq!(change["granted"], false);
    assert_eq!(change["source"], "explicit on the user");
    assert!(
        change["reason"]
            .as_str()
            .unwrap()
            .contains("User cannot change password"),
        "{change}"
    );
    assert!(
        change["fix"].as_str().unwrap().contains("clear"),
        "{change}"
    );
    assert!(
        view["token"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == format!("CORP\\{group_name}").as_str()),
        "the token names the group: {}",
        view["token"]
    );

    // --explicit adds the connector's own ACEs anyway.
    let out = wbw(
        lab,
        &dir,
        &["apply", "--answers", answers, "--yes", "--explicit"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    assert_eq!(
        explicit_aces_of(&read_sd(&mut admin, &fx.target_ou).await, &sid).len(),
        4
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Many sibling OUs in scope are walked with one search of their parent: every user in them is reported once,
/// a user beside them (under the same parent, not in scope) is not, and inheritance disabled on an OU inside
/// one of them is still found.
#[tokio::test(flavor = "multi_thread")]
async fn many_sibling_ous_are_walked_together_and_only_what_is_in_scope_counts() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let pw = fx.password.clone();
    let mut ous = Vec::new();
    let mut inside = Vec::new();
    for i in 0..10 {
        let ou = format!("OU=S{i},{}", fx.root);
        add_ou(&mut admin, &ou).await;
        inside.push(add_user(lab, &mut admin, &unique("w"), &ou, &pw).await);
        ous.push(ou);
    }
    let blocked = format!("OU=Blocked,{}", ous[3]);
    add_ou(&mut admin, &blocked).await;
    protect(&mut admin, &blocked, None, &[]).await;
    let blocked_user = add_user(lab, &mut admin, &unique("w"), &blocked, &pw).await;
    let beside = add_user(lab, &mut admin, &unique("w"), &fx.root, &pw).await;
    let list: Vec<String> = ous.iter().map(|o| format!("\"{o}\"")).collect();
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [{}]", list.join(", ")),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();
    let out = wbw(lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = wbw(
        lab,
        &dir,
        &["check", "--answers", answers, "--users", "--json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = report["users"].as_array().unwrap();
    let dns: Vec<String> = users
        .iter()
        .map(|u| u["dn"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(dns.len(), 11, "{dns:?}");
    for u in inside.iter().chain([&blocked_user]) {
        assert_eq!(
            dns.iter().filter(|d| **d == u.to_ascii_lowercase()).count(),
            1,
            "{u}"
        );
    }
    assert!(
        !dns.contains(&beside.to_ascii_lowercase()),
        "a user beside the OUs is not in scope"
    );
    let blocked_record = users
        .iter()
        .find(|u| {
            u["dn"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&blocked_user)
        })
        .unwrap();
    assert_eq!(
        blocked_record["reasons"][0]["kind"], "inheritance-disabled-ou",
        "{blocked_record}"
    );
    let covered = users
        .iter()
        .filter(|u| u["reasons"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(covered, 10);
    // Plain check names the OU with inheritance disabled, once.
    let out = wbw(lab, &dir, &["check", "--answers", answers, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let risks: Vec<&str> = report["directories"][0]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "inheritance-disabled")
        .map(|r| r["dn"].as_str().unwrap())
        .collect();
    assert_eq!(risks.len(), 1, "{risks:?}");
    assert!(risks[0].eq_ignore_ascii_case(&blocked));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finding 9: an ACE this tool cannot evaluate (here a callback, i.e. conditional, deny of extended rights for
/// the connector, stored first on the user) is never read past as if it were not there: `check --users` and
/// `explain` say "uncertain" and name it, and exit 3, where they said ALLOWED before.
#[tokio::test(flavor = "multi_thread")]
async fn a_conditional_deny_before_the_grant_makes_the_verdict_uncertain() {
    let lab = lab();
    let fx = fixture(lab).await;
    let mut admin = admin(lab).await;
    let sid = object_sid(&mut admin, &fx.connector_dn).await;
    for ace in writeback(&sid, USER) {
        grant(&mut admin, &fx.target_ou, &ace).await;
    }
    // ACCESS_DENIED_CALLBACK_ACE: mask CR, the connector's SID, then the condition (kept opaque).
    let mut body = 0x100u32.to_le_bytes().to_vec();
    body.extend_from_slice(
        &sid.parse::<writeback_wizard::security::Sid>()
            .unwrap()
            .to_bytes(),
    );
    body.extend_from_slice(b"artx\x00\x00\x00\x00");
    let mut raw = vec![0x0A, 0, u8::try_from(body.len() + 4).unwrap(), 0];
    raw.extend_from_slice(&body);
    let callback = writeback_wizard::security::Ace::from_bytes(&raw).unwrap();
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.in_user).await).unwrap();
    sd.dacl.as_mut().unwrap().aces.insert(0, callback.clone());
    assert_eq!(
        write_sd(&mut admin, &fx.in_user, sd.to_bytes().unwrap()).await,
        0
    );
    // Samba keeps the callback ACE (it drops the condition bytes it does not parse).
    let stored = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.in_user).await).unwrap();
    let callback = stored.dacl.as_ref().unwrap().aces[0].clone();
    assert_eq!(
        u8::from(callback.ace_type),
        0x0A,
        "the DC keeps the callback ACE first: {stored}"
    );
    let (dir, answers) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap();

    let out = wbw(
        lab,
        &dir,
        &["check", "--answers", answers, "--users", "--json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let record = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["dn"].as_str().unwrap().eq_ignore_ascii_case(&fx.in_user))
        .unwrap()
        .clone();
    assert_eq!(record["reset"], false, "{record}");
    let reasons = record["reasons"].as_array().unwrap();
    assert!(
        reasons.iter().all(|r| r["kind"] == "uncertain"
            && r["detail"]
                .as_str()
                .unwrap()
                .contains(&callback.to_string())),
        "{record}"
    );
    assert_eq!(
        report["directories"][0]["summary"]["uncertain"], 1,
        "{report}"
    );
    assert_eq!(
        report["directories"][0]["summary"]["blocked"], 0,
        "{report}"
    );

    let out = wbw(lab, &dir, &["explain", "--answers", answers, &fx.in_user]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("Reset Password: UNCERTAIN")
            && !text(&out).contains("Reset Password: ALLOWED"),
        "{}",
        text(&out)
    );

    // The same ACE on the OU, handed down (CI|IO), first: plain `check` cannot call the rights present.
    let mut on_ou = raw.clone();
    on_ou[1] = 0x0A; // CONTAINER_INHERIT | INHERIT_ONLY
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(&mut admin, &fx.target_ou).await).unwrap();
    sd.dacl.as_mut().unwrap().aces.insert(
        0,
        writeback_wizard::security::Ace::from_bytes(&on_ou).unwrap(),
    );
    assert_eq!(
        write_sd(&mut admin, &fx.target_ou, sd.to_bytes().unwrap()).await,
        0
    );
    let out = wbw(lab, &dir, &["check", "--answers", answers]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("[UNCERTAIN] Reset Password (Descendant User objects)")
            && text(&out).contains("[UNCERTAIN] Change Password (Descendant User objects)")
            && text(&out).contains("[ok] Write lockoutTime (Descendant User objects)"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
