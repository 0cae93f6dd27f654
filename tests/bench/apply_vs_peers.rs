//! Benchmark: granting the four writeback rights on N OUs of the lab DC, writeback-wizard against its peers.
//!
//!   cargo bench --bench apply_vs_peers            (N = 25; WBW_BENCH_OUS=N to change)
//!
//! - writeback-wizard `apply --yes` (whole run: connect, discover, schema check, plan, journal, write, verify)
//!   and `plan` alone;
//! - samba-tool dsacl set, one call per ACE (the documented way with Samba's tools);
//! - one ldapmodify over LDAPS replacing precomputed descriptors (the floor: raw LDAP writes, no planning).
//!
//! Each tool works on its own fresh OUs. Wall-clock times of whole processes, as an administrator sees them.

#[path = "../common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use writeback_wizard::grants::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK};
use writeback_wizard::security::{SecurityDescriptor, Sid};

async fn make_ous(lab: &common::Lab, n: usize) -> (String, Vec<String>) {
    common::ou_tree(lab, "o", n).await
}

fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("WBW_BENCH_OUS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let lab = common::lab();
    let sid: Sid = lab.get("AD_CONNECTOR_SID").parse().unwrap();
    let aces: Vec<String> = PASSWORD_WRITEBACK
        .iter()
        .map(|r| {
            Grant {
                right: *r,
                applies_to: AppliesTo::DescendantUsers,
            }
            .ace(&sid)
            .to_string()
        })
        .collect();
    let mut rows: Vec<(String, f64)> = Vec::new();

    // writeback-wizard
    let (_, ours) = make_ous(lab, n).await;
    let list = ours
        .iter()
        .map(|o| format!("\"{o}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (dir, answers) = common::answers_file(
        lab,
        lab.get("AD_CONNECTOR"),
        &format!("scope = \"selected\"\nous = [{list}]"),
        "unexpire_password = false",
    );
    let answers = answers.to_str().unwrap().to_string();
    let start = Instant::now();
    let out = common::wbw(lab, &dir, &["plan", "--answers", &answers, "--json"]);
    assert!(out.status.success(), "{}", common::text(&out));
    rows.push(("writeback-wizard plan (reads only)".into(), seconds(start)));
    let start = Instant::now();
    let out = common::wbw(lab, &dir, &["apply", "--answers", &answers, "--yes"]);
    assert!(out.status.success(), "{}", common::text(&out));
    rows.push((
        "writeback-wizard apply (plan+journal+write+verify)".into(),
        seconds(start),
    ));

    // samba-tool dsacl set, one ACE per call
    let (_, theirs) = make_ous(lab, n).await;
    let smb_conf = std::path::Path::new(lab.get("AD_PID_FILE"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("etc/smb.conf");
    let start = Instant::now();
    for ou in &theirs {
        for ace in &aces {
            let out = Command::new("samba-tool")
                .args([
                    "dsacl",
                    "set",
                    "-s",
                    smb_conf.to_str().unwrap(),
                    "-H",
                    &format!("ldap://{}", lab.get("AD_HOST")),
                ])
                .arg(format!("-UAdministrator%{}", lab.get("AD_ADMIN_PASSWORD")))
                .arg(format!("--objectdn={ou}"))
                .arg(format!("--sddl={ace}"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "samba-tool: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    rows.push((
        "samba-tool dsacl set (4 calls per OU)".into(),
        seconds(start),
    ));

    // One ldapmodify with precomputed descriptors: the floor.
    let (_, raw) = make_ous(lab, n).await;
    let mut admin = common::admin(lab).await;
    let mut ldif = String::new();
    use base64::Engine;
    for ou in &raw {
        let mut sd =
            SecurityDescriptor::from_bytes(&common::read_sd(&mut admin, ou).await).unwrap();
        for ace in &aces {
            sd.dacl
                .as_mut()
                .unwrap()
                .insert_canonical(writeback_wizard::security::parse_ace(ace).unwrap());
        }
        ldif.push_str(&format!(
            "dn: {ou}\ncontrol: 1.2.840.113556.1.4.801 true:: MAMCAQQ=\nchangetype: modify\nreplace: nTSecurityDescriptor\nnTSecurityDescriptor:: {}\n-\n\n",
            base64::engine::general_purpose::STANDARD.encode(sd.to_bytes().expect("DACL fits"))
        ));
    }
    let ldif_path = dir.join("raw.ldif");
    std::fs::write(&ldif_path, ldif).unwrap();
    let start = Instant::now();
    let out = Command::new("ldapmodify")
        .args([
            "-x",
            "-H",
            lab.get("AD_LDAPS_URL"),
            "-D",
            lab.get("AD_ADMIN_DN"),
            "-w",
            lab.get("AD_ADMIN_PASSWORD"),
            "-f",
            ldif_path.to_str().unwrap(),
        ])
        .env("LDAPTLS_CACERT", lab.get("AD_CA_CERT"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ldapmodify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    rows.push((
        "ldapmodify, precomputed SDs (write only)".into(),
        seconds(start),
    ));

    println!("\n{n} OUs, 4 ACEs each, Samba AD DC on loopback\n");
    println!("{:<52} {:>9} {:>12}", "tool", "seconds", "ms per OU");
    for (tool, s) in rows {
        println!("{tool:<52} {s:>9.2} {:>12.1}", s * 1000.0 / n as f64);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
