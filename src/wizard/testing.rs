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
        warnings: vec![
            "UPN suffix corp.example.test is not a verified domain of the tenant".into(),
        ],
    }
}

pub fn directory_info() -> DirectoryInfo {
    DirectoryInfo {
        forest: "corp.example.test".into(),
        domains: vec![(
            "DC=corp,DC=example,DC=test".into(),
            "corp.example.test".into(),
        )],
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
