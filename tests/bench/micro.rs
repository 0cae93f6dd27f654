//! Issue 11 micro-benchmarks (criterion), no lab needed:
//!
//!   cargo bench --bench micro                  (criterion's usual filters work: cargo bench --bench micro -- frame)
//!
//! - the SD codec on a 100-ACE DACL: decode, merge of our four ACEs (`grants::dacl::merge`, what apply does per
//!   target), encode; each step alone and the three together; SDDL rendering (plan and check print it);
//! - one frame of the Domain and OU filtering page (ratatui `TestBackend`, 120x40) with 10,000 OUs loaded below
//!   one OU: with the cursor at the top of the big level, and in the middle of it (P3's goal: <= 2 ms).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use writeback_wizard::answers::Answers;
use writeback_wizard::grants::dacl::merge;
use writeback_wizard::grants::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK};
use writeback_wizard::security::{Ace, Acl, Control, SecurityDescriptor, Sid, parse_ace};
use writeback_wizard::wizard::data::{DirectoryInfo, OuEntry};
use writeback_wizard::wizard::pages::directories::DirStatus;
use writeback_wizard::wizard::{Effect, Message, Model, Page, Paths, Target, goto, update};

const DOMAIN: &str = "S-1-5-21-1004336348-1177238915-682003330";
const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";

/// A DACL-only descriptor of an OU with 100 ACEs in canonical order, like a busy production OU: 2 explicit
/// denies, 28 explicit allows (plain and object ACEs for delegated groups), 70 inherited (plain and object).
fn hundred_ace_sd() -> Vec<u8> {
    let guids = [
        "00299570-246d-11d0-a768-00aa006e0529",
        "ab721a53-1e2f-11d0-9819-00aa0040529b",
        "28630ebf-41d5-11d1-a9c1-0000f80367c1",
        "bf967a0a-0de6-11d0-a285-00aa003049e2",
        "4c164200-20c0-11d0-a768-00aa006e0529",
        "5f202010-79a5-11d0-9020-00c04fc2d4cf",
        "bc0ac240-79a9-11d0-9020-00c04fc2d4cf",
        "e45795b3-9455-11d1-aebd-0000f80367c1",
    ];
    let mut sddl = Vec::new();
    for i in 0..2 {
        sddl.push(format!("(OD;;CR;{};;{DOMAIN}-{})", guids[1], 3000 + i));
    }
    for i in 0..28 {
        if i % 2 == 0 {
            sddl.push(format!("(A;CI;RPWPLCLORC;;;{DOMAIN}-{})", 2000 + i));
        } else {
            sddl.push(format!(
                "(OA;CIIO;WP;{};{USER_CLASS};{DOMAIN}-{})",
                guids[i % guids.len()],
                2000 + i
            ));
        }
    }
    for i in 0..70 {
        if i % 3 == 0 {
            sddl.push(format!("(A;CIID;RPLCLORC;;;{DOMAIN}-{})", 1000 + i));
        } else {
            sddl.push(format!(
                "(OA;CIIOID;RPWP;{};{USER_CLASS};{DOMAIN}-{})",
                guids[i % guids.len()],
                1000 + i
            ));
        }
    }
    let mut dacl = Acl::default();
    dacl.revision = 4;
    dacl.aces = sddl.iter().map(|s| parse_ace(s).unwrap()).collect();
    assert_eq!(dacl.aces.len(), 100);
    assert!(dacl.is_canonical());
    SecurityDescriptor::with_dacl(Control::DACL_PRESENT | Control::DACL_AUTO_INHERITED, dacl)
        .to_bytes()
        .unwrap()
}

fn our_aces() -> Vec<Ace> {
    let sid: Sid = format!("{DOMAIN}-1109").parse().unwrap();
    PASSWORD_WRITEBACK
        .iter()
        .map(|r| {
            Grant {
                right: *r,
                applies_to: AppliesTo::DescendantUsers,
            }
            .ace(&sid)
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let bytes = hundred_ace_sd();
    let add = our_aces();
    let sd = SecurityDescriptor::from_bytes(&bytes).unwrap();
    let (after, n) = merge(&sd, &add);
    assert_eq!(n, 4);
    let mut g = c.benchmark_group("sd codec, 100-ACE DACL");
    g.bench_function("decode", |b| {
        b.iter(|| SecurityDescriptor::from_bytes(black_box(&bytes)).unwrap())
    });
    g.bench_function("merge our 4 ACEs", |b| {
        b.iter(|| merge(black_box(&sd), black_box(&add)))
    });
    g.bench_function("encode", |b| {
        b.iter(|| black_box(&after).to_bytes().unwrap())
    });
    g.bench_function("decode + merge + encode", |b| {
        b.iter(|| {
            let sd = SecurityDescriptor::from_bytes(black_box(&bytes)).unwrap();
            let (after, _) = merge(&sd, &add);
            after.to_bytes().unwrap()
        })
    });
    g.bench_function("SDDL text", |b| b.iter(|| black_box(&after).to_string()));
    g.finish();
}

const N: usize = 10_000;
const BASE: &str = "DC=corp,DC=example,DC=test";

const ANSWERS: &str = r#"version = 1

[[directory]]
forest = "corp.example.test"
url = "ldaps://127.0.0.5:636"
tls = "ldaps"
ca_file = "/lab/ca.pem"
admin = 'CORP\Administrator'
admin_password = "prompt"
connector = 'CORP\svc-aadc'
scope = "selected"
ous = ["OU=ou05000,OU=Scale10k,DC=corp,DC=example,DC=test"]

[features]
password_writeback = true
"#;

fn key(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn loaded(m: &mut Model, effects: Vec<Effect>, entries: Vec<OuEntry>) {
    let Some(Effect::LoadChildren {
        dir,
        node,
        generation,
        ..
    }) = effects
        .into_iter()
        .find(|e| matches!(e, Effect::LoadChildren { .. }))
    else {
        panic!("no LoadChildren effect");
    };
    // As the wizard receives them: batches of 200, then done.
    for batch in entries.chunks(200) {
        update(
            m,
            Message::ChildrenLoaded {
                dir,
                node,
                generation,
                entries: batch.to_vec(),
                done: false,
                error: None,
            },
        );
    }
    update(
        m,
        Message::ChildrenLoaded {
            dir,
            node,
            generation,
            entries: Vec::new(),
            done: true,
            error: None,
        },
    );
}

fn ou(dn: String) -> OuEntry {
    let name = dn.split(',').next().unwrap()[3..].to_string();
    OuEntry {
        dn,
        name,
        is_ou: true,
    }
}

/// The wizard on the OU page, the domain level read, and OU=Scale10k opened with its 10,000 children loaded.
fn ou_page_with_10k() -> Model {
    let answers = Answers::from_toml(ANSWERS).unwrap();
    let mut m = Model::new(
        Some(answers.clone()),
        Some(PathBuf::from("/lab/answers.toml")),
        Paths {
            config_answers: PathBuf::from("/tmp/wbw-bench/config.toml"),
            state_dir: PathBuf::from("/tmp/wbw-bench/state"),
            log_file: PathBuf::from("/tmp/wbw-bench/state/wizard.log"),
            home: None,
            cwd: None,
        },
    );
    m.dirs.status[0] = DirStatus::Ok {
        key: answers.directories[0].clone(),
        info: DirectoryInfo {
            forest: "corp.example.test".into(),
            domains: vec![(BASE.into(), "corp.example.test".into())],
            upn_suffixes: vec!["corp.example.test".into()],
            connector_dn: format!("CN=svc-aadc,CN=Users,{BASE}"),
            connector_sid: format!("{DOMAIN}-1109"),
        },
    };
    update(&mut m, Message::Resize(120, 40));
    let effects = goto(&mut m, Page::OuFilter);
    let level: Vec<OuEntry> = ["Domain Controllers", "Scale10k", "Scale1k", "ScaleUsers"]
        .iter()
        .map(|n| ou(format!("OU={n},{BASE}")))
        .collect();
    loaded(&mut m, effects, level);
    m.focus = Target::Tree;
    let rows = m.tree_rows();
    assert!(m.ous.tree_mut().unwrap().search("Scale10k", rows));
    let effects = key(&mut m, KeyCode::Right);
    let big = (0..N)
        .map(|i| ou(format!("OU=ou{i:05},OU=Scale10k,{BASE}")))
        .collect();
    loaded(&mut m, effects, big);
    assert!(m.ous.tree().unwrap().len() > N);
    key(&mut m, KeyCode::Down);
    m
}

fn frame(c: &mut Criterion) {
    let mut m = ou_page_with_10k();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut g = c.benchmark_group("OU page frame, 10,000 OUs loaded, 120x40");
    g.bench_function("cursor at the top of the level", |b| {
        b.iter(|| {
            term.draw(|f| {
                writeback_wizard::ui::view(&m, f);
            })
            .unwrap();
        })
    });
    for _ in 0..N / 2 / 30 {
        key(&mut m, KeyCode::PageDown);
    }
    g.bench_function("cursor in the middle of the level", |b| {
        b.iter(|| {
            term.draw(|f| {
                writeback_wizard::ui::view(&m, f);
            })
            .unwrap();
        })
    });
    g.bench_function("PageDown + frame", |b| {
        b.iter(|| {
            key(&mut m, KeyCode::PageDown);
            key(&mut m, KeyCode::PageUp);
            term.draw(|f| {
                writeback_wizard::ui::view(&m, f);
            })
            .unwrap();
        })
    });
    g.finish();
    let mut g = c.benchmark_group("OU page model");
    g.sample_size(10);
    g.bench_function("load 10,000 OUs into the tree (50 batches)", |b| {
        b.iter(ou_page_with_10k)
    });
    g.finish();
}

criterion_group!(benches, codec, frame);
criterion_main!(benches);
