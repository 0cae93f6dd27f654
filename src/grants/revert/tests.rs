//! The journal as a state machine across every crash point: apply is cut short after each record (and, where
//! the last record announced a write, both with and without that write having reached the server), another
//! admin then works on the directory, and revert (itself cut short after each of its records and run again)
//! must leave every target without our rights and every other grant in place.

use std::collections::HashMap;
use std::path::Path;

use super::*;
use crate::grants::dacl::merge;
use crate::grants::journal::Journal;
use crate::grants::journal::{Header, JournalConnection, Record, TargetState, VERSION, line};
use crate::grants::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK};
use crate::security::{Acl, Sid, parse_ace};

const BASE: &[&str] = &[
    "(A;;RPLCLORC;;;S-1-5-11)",
    "(A;CIID;GA;;;S-1-5-21-1-2-3-512)",
];
/// Another admin's grant of the same right to the same account (as ADUC would add it).
const FOREIGN_SAME: &str = "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)";
/// Another admin's unrelated grant.
const FOREIGN_OTHER: &str = "(A;;RP;;;S-1-5-21-1-2-3-4444)";
const TARGETS: [&str; 3] = ["OU=A,DC=x", "OU=B,DC=x", "OU=C,DC=x"];

fn connector() -> Sid {
    "S-1-5-21-1-2-3-1108".parse().unwrap()
}

fn ours() -> Vec<Ace> {
    PASSWORD_WRITEBACK
        .iter()
        .map(|r| {
            Grant {
                right: *r,
                applies_to: AppliesTo::DescendantUsers,
            }
            .ace(&connector())
        })
        .collect()
}

fn original() -> SecurityDescriptor {
    let mut acl = Acl::default();
    acl.revision = 4;
    acl.aces = BASE.iter().map(|a| parse_ace(a).unwrap()).collect();
    SecurityDescriptor::with_dacl(0, acl)
}

fn with_explicit(sd: &SecurityDescriptor, ace: &str) -> SecurityDescriptor {
    let mut sd = sd.clone();
    sd.dacl
        .as_mut()
        .unwrap()
        .aces
        .insert(0, parse_ace(ace).unwrap());
    sd
}

fn header() -> Header {
    Header {
        version: VERSION,
        created_unix: 1,
        forest: "x".into(),
        connection: JournalConnection {
            url: "ldaps://dc".into(),
            tls: crate::answers::TlsMode::Ldaps,
            ca_file: None,
            danger_skip_tls_verify: false,
            allow_plaintext: false,
            tls_name: None,
            auth: crate::answers::Auth::Simple,
            spn_host: None,
        },
        admin: "X\\admin".into(),
        connector: "X\\svc".into(),
        connector_sid: connector().to_string(),
    }
}

/// Each record of a complete apply, with the write (if any) that follows it on the server.
fn apply_records() -> Vec<(Record, Option<(&'static str, SecurityDescriptor)>)> {
    let added: Vec<String> = ours().iter().map(|a| b64(&a.to_bytes().unwrap())).collect();
    let mut out = vec![(Record::Header(header()), None)];
    for dn in TARGETS {
        out.push((
            Record::Planned {
                dn: dn.into(),
                guid: None,
                dc: None,
                original_sd: b64(&original().to_bytes().unwrap()),
                add: added.clone(),
            },
            None,
        ));
    }
    for dn in TARGETS {
        let (after, _) = merge(&original(), &ours());
        out.push((
            Record::Writing {
                dn: dn.into(),
                sd: b64(&after.to_bytes().unwrap()),
            },
            Some((dn, after)),
        ));
        out.push((Record::Written { dn: dn.into() }, None));
        out.push((Record::Verified { dn: dn.into() }, None));
    }
    out
}

fn bytes_of(records: &[Record]) -> Vec<u8> {
    records.iter().flat_map(|r| line(r).unwrap()).collect()
}

fn has_our_right(sd: &SecurityDescriptor, ace: &Ace) -> bool {
    sd.dacl
        .as_ref()
        .is_some_and(|d| d.aces.iter().any(|a| !a.is_inherited() && a.covers(ace)))
}

/// Runs revert decisions to the end on `dir`, cut short after its `crash_after`-th journal record (then run
/// again from what the journal says). When the record that was cut short announced a write,
/// `write_reaches` says whether that write got to the server. After the crash another admin grants our exact
/// Reset Password ACE on every target the journal shows as `reverting`; those are returned in `regranted`.
fn revert_all(
    journal_bytes: &mut Vec<u8>,
    dir: &mut HashMap<&'static str, SecurityDescriptor>,
    crash_after: Option<usize>,
    write_reaches: bool,
    regranted: &mut Vec<&'static str>,
) -> Journal {
    let mut appended = 0;
    let mut crash_pending = crash_after.is_some();
    let mut just_crashed = false;
    for _attempt in 0..3 {
        let journal = Journal::parse(Path::new("j"), journal_bytes).expect("journal parses");
        if just_crashed {
            for t in &journal.targets {
                if t.state == TargetState::Reverting {
                    let dn = TARGETS.iter().find(|d| **d == t.dn).copied().unwrap();
                    dir.insert(dn, with_explicit(&dir[dn], FOREIGN_SAME));
                    regranted.push(dn);
                }
            }
        }
        just_crashed = false;
        // Appends a record; true when the run is cut short right after it.
        let mut emit = |r: Record, bytes: &mut Vec<u8>| -> bool {
            bytes.extend(line(&r).unwrap());
            appended += 1;
            if crash_pending && crash_after == Some(appended) {
                crash_pending = false;
                return true;
            }
            false
        };
        for t in journal.outstanding() {
            let dn = TARGETS.iter().find(|d| **d == t.dn).copied().unwrap();
            match decide(t, &dir[dn]).unwrap() {
                Decision::Leave(r) => {
                    if r.is_done() && emit(Record::Reverted { dn: t.dn.clone() }, journal_bytes) {
                        just_crashed = true;
                        break;
                    }
                }
                Decision::Write { sd, then } => {
                    let reverting = Record::Reverting {
                        dn: t.dn.clone(),
                        sd: b64(&sd.to_bytes().unwrap()),
                    };
                    if emit(reverting, journal_bytes) {
                        if write_reaches {
                            dir.insert(dn, *sd);
                        }
                        just_crashed = true;
                        break;
                    }
                    dir.insert(dn, *sd);
                    if then.is_done() && emit(Record::Reverted { dn: t.dn.clone() }, journal_bytes)
                    {
                        just_crashed = true;
                        break;
                    }
                }
            }
        }
        if !just_crashed {
            return Journal::parse(Path::new("j"), journal_bytes).unwrap();
        }
    }
    panic!("revert did not finish in three runs");
}

#[test]
fn every_crash_point_of_apply_and_of_revert_ends_without_our_rights_and_with_every_other_grant() {
    let records = apply_records();
    let mut cases = 0;
    // Crash after k records of apply (k = 1: only the header; k = len: apply finished).
    for k in 1..=records.len() {
        let last_announced_write = records[k - 1].1.clone();
        for write_reached_server in [false, true] {
            if write_reached_server && last_announced_write.is_none() {
                continue;
            }
            let mut dir: HashMap<&str, SecurityDescriptor> =
                TARGETS.iter().map(|dn| (*dn, original())).collect();
            for (i, (_, write)) in records[..k].iter().enumerate() {
                if let Some((dn, sd)) = write
                    && (i + 1 < k || write_reached_server)
                {
                    dir.insert(dn, sd.clone());
                }
            }
            let prefix: Vec<Record> = records[..k].iter().map(|(r, _)| r.clone()).collect();
            let mut journal_bytes = bytes_of(&prefix);
            // A torn half record at the end is what a crash mid-append leaves; it must be ignored.
            if let Some((next, _)) = records.get(k) {
                let half = line(next).unwrap();
                journal_bytes.extend(&half[..half.len() / 2]);
            }
            if k < 4 {
                // The crash came before the plan was on disk: no write was ever made.
                let parsed = Journal::parse(Path::new("j"), &journal_bytes);
                assert!(parsed.is_err() || parsed.unwrap().outstanding().count() == 0);
                continue;
            }
            let journal = Journal::parse(Path::new("j"), &journal_bytes).unwrap();
            assert_eq!(journal.torn_tail, k < records.len());
            // Another admin at work after the crash: the same right on targets apply never reached, an
            // unrelated grant where apply's write was confirmed.
            let mut expect_foreign_same = Vec::new();
            let mut expect_foreign_other = Vec::new();
            for t in &journal.targets {
                let dn = TARGETS.iter().find(|d| **d == t.dn).copied().unwrap();
                match t.state {
                    TargetState::Planned => {
                        dir.insert(dn, with_explicit(&dir[dn], FOREIGN_SAME));
                        expect_foreign_same.push(dn);
                    }
                    // An unrelated grant, also where the write's outcome is unknown: it must neither make
                    // revert give up nor be lost.
                    TargetState::Writing | TargetState::Written | TargetState::Verified => {
                        dir.insert(dn, with_explicit(&dir[dn], FOREIGN_OTHER));
                        expect_foreign_other.push(dn);
                    }
                    _ => {}
                }
            }
            let apply_records_len = journal_bytes.len();
            // Revert, crashing after each of its own records in turn (with and without the announced write
            // reaching the server), then once without a crash.
            let crash_points = (1..10)
                .flat_map(|c| [(Some(c), false), (Some(c), true)])
                .chain([(None, false)]);
            for (revert_crash, write_reaches) in crash_points {
                let mut dir = dir.clone();
                let mut regranted = Vec::new();
                let mut bytes = journal_bytes[..apply_records_len].to_vec();
                // Drop the torn tail the way the next append would: it is never followed by a record.
                if journal.torn_tail {
                    let cut = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                    bytes.truncate(cut);
                }
                let done = revert_all(
                    &mut bytes,
                    &mut dir,
                    revert_crash,
                    write_reaches,
                    &mut regranted,
                );
                assert_eq!(
                    done.outstanding().count(),
                    0,
                    "k={k} crash={revert_crash:?}"
                );
                for dn in TARGETS {
                    let sd = &dir[dn];
                    let foreign_same = expect_foreign_same.contains(&dn) || regranted.contains(&dn);
                    for (i, ace) in ours().iter().enumerate() {
                        let expected = foreign_same && i == 0;
                        assert_eq!(
                            has_our_right(sd, ace),
                            expected,
                            "k={k} reached={write_reached_server} crash={revert_crash:?} {dn} right {i}: {sd}"
                        );
                    }
                    assert_eq!(
                        sd.to_string().contains(";S-1-5-21-1-2-3-4444)"),
                        expect_foreign_other.contains(&dn),
                        "k={k} {dn}: {sd}"
                    );
                    if !foreign_same && !expect_foreign_other.contains(&dn) {
                        assert_eq!(
                            sd.to_bytes().unwrap(),
                            original().to_bytes().unwrap(),
                            "k={k} reached={write_reached_server} crash={revert_crash:?} {dn}: byte for byte"
                        );
                    }
                }
                cases += 1;
            }
        }
    }
    assert!(cases > 100, "{cases} cases");
}

#[test]
fn an_interrupted_write_whose_dacl_lost_an_ace_since_is_left_alone_and_named() {
    let (after, _) = merge(&original(), &ours());
    let target = JournalTarget {
        dn: TARGETS[0].into(),
        guid: None,
        dc: None,
        original: original().to_bytes().unwrap(),
        added: ours(),
        written_sd: Some(after.to_bytes().unwrap()),
        reverting_sd: None,
        state: TargetState::Writing,
    };
    // Someone removed an unrelated ACE after the interrupted write: ours are there, but is it our write?
    let mut changed = after.clone();
    let gone = parse_ace(BASE[0]).unwrap();
    changed.dacl.as_mut().unwrap().aces.retain(|a| *a != gone);
    match decide(&target, &changed).unwrap() {
        Decision::Leave(Reverted::Uncertain { ours }) => assert_eq!(ours.len(), 4),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_damaged_journal_is_an_error_naming_the_line_and_a_torn_tail_is_not() {
    let records: Vec<Record> = apply_records().into_iter().map(|(r, _)| r).collect();
    let mut bytes = bytes_of(&records[..5]);
    assert!(Journal::parse(Path::new("j"), &bytes).is_ok());
    bytes.extend(b"{\"t\":\"written\"");
    assert!(Journal::parse(Path::new("j"), &bytes).unwrap().torn_tail);
    bytes.extend(b"\n");
    let err = Journal::parse(Path::new("j"), &bytes).unwrap_err();
    assert!(err.message.contains("line 6"), "{}", err.message);
    let unplanned = bytes_of(&[
        Record::Header(header()),
        Record::Written { dn: "OU=Z".into() },
    ]);
    assert!(Journal::parse(Path::new("j"), &unplanned).is_err());
}
