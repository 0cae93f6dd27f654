//! Test support shared by the model and view tests: a fixed set of paths, lab-like answers, key helpers and
//! canned back-end results.

use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::data::*;
use super::{Effect, Message, Model, Paths, update};
use crate::answers::Answers;

pub const CANARY: &str = "Canary#Secret-42";

pub fn paths() -> Paths {
    Paths {
        config_answers: PathBuf::from("/home/admin/.config/writeback-wizard/answers.toml"),
        state_dir: PathBuf::from("/home/admin/.local/state/writeback-wizard"),
        log_file: PathBuf::from("/home/admin/.local/state/writeback-wizard/wizard.log"),
        home: Some(PathBuf::from("/home/admin")),
        cwd: Some(PathBuf::from("/home/admin/work")),
    }
}

pub const LAB_ANSWERS: &str = r#"version = 1

[[directory]]
forest = "corp.example.test"
url = "ldaps://127.0.0.1:636"
tls = "ldaps"
ca_file = "/lab/ca.pem"
admin = 'CORP\Administrator'
admin_password = "prompt"
connector = 'CORP\svc-aadc'
scope = "selected"
ous = ["OU=In,OU=Lab,DC=corp,DC=example,DC=test"]

[features]
password_writeback = true
unexpire_password = true
admin_sd_holder = false

[cloud]
environment = "global"
tenant = "contoso.onmicrosoft.com"
sign_in = "device-code"
username = "admin@contoso.onmicrosoft.com"
authority_url = "http://127.0.0.1:8400"
graph_url = "http://127.0.0.1:8400"
"#;

pub fn preloaded() -> Model {
    let a = Answers::from_toml(LAB_ANSWERS).ok();
    Model::new(a, Some(PathBuf::from("/lab/lab-answers.toml")), paths())
}

pub fn empty() -> Model {
    Model::new(None, None, paths())
}

pub fn key(code: KeyCode) -> Message {
    Message::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Message {
    Message::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Sends `msg`, returning the effects.
pub fn send(m: &mut Model, msg: Message) -> Vec<Effect> {
    update(m, msg)
}

pub fn enter(m: &mut Model) -> Vec<Effect> {
    send(m, key(KeyCode::Enter))
}

pub fn type_text(m: &mut Model, text: &str) {
    for c in text.chars() {
        send(m, key(KeyCode::Char(c)));
    }
}

pub fn cloud_ok() -> CloudSummary {
    CloudSummary {
        signed_in: "admin@contoso.onmicrosoft.com".into(),
        tenant: "Contoso (contoso.onmicrosoft.com)".into(),
        verdict: Verdict::Pass,
        message: "admin@contoso.onmicrosoft.com is a Global Administrator.".into(),
        warnings: Vec::new(),
        verified_domains: vec!["contoso.onmicrosoft.com".into(), "contoso.com".into()],
    }
}

pub fn directory_info() -> DirectoryInfo {
    DirectoryInfo {
        forest: "corp.example.test".into(),
        domains: vec![(
            "DC=corp,DC=example,DC=test".into(),
            "corp.example.test".into(),
        )],
        upn_suffixes: vec!["corp.example.test".into(), "contoso.com".into()],
        connector_dn: "CN=svc-aadc,CN=Users,DC=corp,DC=example,DC=test".into(),
        connector_sid: "S-1-5-21-1-2-3-1105".into(),
    }
}

pub fn ou(dn: &str) -> OuEntry {
    OuEntry {
        dn: dn.into(),
        name: dn
            .split(',')
            .next()
            .unwrap_or_default()
            .split_once('=')
            .map_or("", |(_, v)| v)
            .into(),
        is_ou: true,
    }
}

pub fn plan() -> Vec<PlanSummary> {
    vec![PlanSummary {
        forest: "corp.example.test".into(),
        connector_sid: "S-1-5-21-1-2-3-1105".into(),
        targets: vec![
            TargetSummary {
                dn: "OU=In,OU=Lab,DC=corp,DC=example,DC=test".into(),
                kind: "OU/container".into(),
                aces_to_add: 4,
                writable: true,
                sddl_before: "D:(A;;RPLCLORC;;;AU)".into(),
                sddl_after: "D:(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)(A;;RPLCLORC;;;AU)".into(),
            },
            TargetSummary {
                dn: "DC=corp,DC=example,DC=test".into(),
                kind: "domain root".into(),
                aces_to_add: 0,
                writable: true,
                sddl_before: "D:(A;;RP;;;AU)".into(),
                sddl_after: "D:(A;;RP;;;AU)".into(),
            },
        ],
        warnings: Vec::new(),
        refusal: None,
    }]
}

/// The id of the sign-in running (0 when none).
pub fn sign_in_id(m: &Model) -> u64 {
    match &m.azure.status {
        super::pages::azure::Status::SigningIn { id, .. } => *id,
        _ => 0,
    }
}

/// The id of the task running or shown (0 when none).
pub fn task_id(m: &Model) -> u64 {
    m.tasks.run.as_ref().map_or(0, |r| r.id)
}

/// The id of directory `i`'s validation running (0 when none).
pub fn check_id(m: &Model, i: usize) -> u64 {
    match m.dirs.status.get(i) {
        Some(super::pages::directories::DirStatus::Checking { id }) => *id,
        _ => 0,
    }
}

/// A DACL the size of a real domain root's (about 60 ACEs, many of them object ACEs), and the same with the
/// four writeback ACEs added: (before, after).
pub fn domain_root_sddl() -> (String, String) {
    let guids = [
        "4c164200-20c0-11d0-a768-00aa006e0529",
        "5f202010-79a5-11d0-9020-00c04fc2d4cf",
        "bc0ac240-79a9-11d0-9020-00c04fc2d4cf",
        "037088f8-0ae1-11d2-b422-00a0c968f939",
        "59ba2f42-79a2-11d0-9020-00c04fc2d3cf",
        "e48d0154-bcf8-11d1-8702-00c04fb96050",
    ];
    let mut aces = vec![
        "(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)".to_string(),
        "(A;;RPWPCRCCDCLCLORCWOWDSWSDDT;;;DA)".to_string(),
        "(A;;RPLCLORC;;;AU)".to_string(),
        "(A;CI;RPWPCRCCDCLCLORCWOWDSDDTSW;;;EA)".to_string(),
        "(A;CI;LC;;;RU)".to_string(),
        "(A;CIIO;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;CO)".to_string(),
    ];
    for i in 0..54 {
        let g = guids[i % guids.len()];
        let c = guids[(i / guids.len()) % guids.len()];
        aces.push(format!(
            "(OA;CIIO;RP;{g};{c};S-1-5-21-3623811015-3361044348-30300820-{})",
            1100 + i
        ));
    }
    let before = format!("O:DAG:DAD:PAI{}S:AI(AU;SA;WDWO;;;WD)", aces.concat());
    let added = [
        "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)",
        "(OA;CIIO;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)",
        "(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)",
        "(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1105)",
    ];
    let mut after_aces: Vec<String> = added.iter().map(|s| s.to_string()).collect();
    after_aces.extend(aces);
    let after = format!("O:DAG:DAD:PAI{}S:AI(AU;SA;WDWO;;;WD)", after_aces.concat());
    (before, after)
}
