//! Test support: the lab DC (started by tests/lab/samba-dc.sh), per-test fixtures in their own OU, direct LDAP
//! operations that assert on what the server says, and a runner for the real binary.
#![allow(dead_code)]

pub mod proxy;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ldap3::controls::RawControl;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope, SearchEntry};
use rustls_pki_types::pem::PemObject;

/// The environment `tests/lab/samba-dc.sh` prints (AD_LDAPS_URL, AD_BASE_DN, ...).
#[derive(Debug, Clone)]
pub struct Lab(pub HashMap<String, String>);

impl Lab {
    pub fn get(&self, key: &str) -> &str {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("lab env has no {key}"))
    }
}

fn lab_script(command: &str) -> Lab {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/samba-dc.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(command)
        .output()
        .expect("run tests/lab/samba-dc.sh");
    assert!(
        out.status.success(),
        "tests/lab/samba-dc.sh {command} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut env = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            env.insert(k.to_string(), v.trim_matches('\'').replace("\\\\", "\\"));
        }
    }
    Lab(env)
}

/// The shared lab DC on 127.0.0.1 (brought up once per test process; the script serializes processes).
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| lab_script("up"))
}

/// The two-domain forest (root on 127.0.0.3, child on 127.0.0.4): a fresh copy, once per test process.
pub fn forest_lab() -> &'static Lab {
    static FOREST: OnceLock<Lab> = OnceLock::new();
    FOREST.get_or_init(|| lab_script("forest"))
}

/// Runs the real binary with extra environment variables (passwords for `env:` references).
pub fn wbw_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(args)
        .envs(env.iter().copied())
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run writeback-wizard")
}

/// An LDAPS connection to `url` trusting the CA in `ca_file`, bound as `who`.
pub async fn connect_to(
    url: &str,
    ca_file: &str,
    who: &str,
    password: &str,
) -> Result<Ldap, ldap3::LdapError> {
    let ca = std::fs::read(ca_file).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let settings = LdapConnSettings::new().set_config(std::sync::Arc::new(config));
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, url).await?;
    ldap3::drive!(conn);
    ldap.simple_bind(who, password).await?.success()?;
    Ok(ldap)
}

/// A pristine DC on 127.0.0.2, for tests that grant on the domain root.
pub fn fresh_root_lab() -> Lab {
    lab_script("fresh-root")
}

/// Writes a secret file readable by its owner only (the tool refuses one others can read).
pub fn write_private(path: &Path, value: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, value).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}{:05x}{:x}{n}",
        std::process::id() & 0xfffff,
        nanos & 0xfff
    )
}

pub async fn connect(lab: &Lab, who: &str, password: &str) -> Result<Ldap, ldap3::LdapError> {
    let ca = std::fs::read(lab.get("AD_CA_CERT")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let settings = LdapConnSettings::new().set_config(std::sync::Arc::new(config));
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, lab.get("AD_LDAPS_URL")).await?;
    ldap3::drive!(conn);
    ldap.simple_bind(who, password).await?.success()?;
    Ok(ldap)
}

pub async fn admin(lab: &Lab) -> Ldap {
    connect(lab, lab.get("AD_ADMIN_DN"), lab.get("AD_ADMIN_PASSWORD"))
        .await
        .expect("admin bind")
}

fn sd_flags() -> RawControl {
    RawControl {
        ctype: "1.2.840.113556.1.4.801".into(),
        crit: true,
        val: Some(vec![0x30, 0x03, 0x02, 0x01, 0x04]),
    }
}

/// The DACL-only security descriptor, as the server returns it.
/// The DACL-only descriptors of every OU one level below `base`, in one search, by DN.
pub async fn read_sds_below(ldap: &mut Ldap, base: &str) -> HashMap<String, Vec<u8>> {
    let (rs, _) = ldap
        .with_controls(sd_flags())
        .search(
            base,
            Scope::OneLevel,
            "(objectClass=organizationalUnit)",
            vec!["nTSecurityDescriptor"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    rs.into_iter()
        .map(SearchEntry::construct)
        .map(|e| {
            let sd = e.bin_attrs["nTSecurityDescriptor"][0].clone();
            (e.dn, sd)
        })
        .collect()
}

pub async fn read_sd(ldap: &mut Ldap, dn: &str) -> Vec<u8> {
    let (rs, _) = ldap
        .with_controls(sd_flags())
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            vec!["nTSecurityDescriptor"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    let e = SearchEntry::construct(rs.into_iter().next().expect("entry"));
    e.bin_attrs
        .get("nTSecurityDescriptor")
        .and_then(|v| v.first().cloned())
        .expect("nTSecurityDescriptor")
}

/// Replaces the DACL (SD flags = DACL), as another administrator's tool would; returns the result code.
pub async fn write_sd(ldap: &mut Ldap, dn: &str, sd: Vec<u8>) -> u32 {
    ldap.with_controls(sd_flags())
        .modify(
            dn,
            vec![Mod::Replace(
                b"nTSecurityDescriptor".to_vec(),
                HashSet::from([sd]),
            )],
        )
        .await
        .unwrap()
        .rc
}

pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

/// The LDAP result code of a modify (0 = success, 50 = insufficientAccessRights).
pub async fn modify_rc(ldap: &mut Ldap, dn: &str, mods: Vec<Mod<Vec<u8>>>) -> u32 {
    match ldap.modify(dn, mods).await {
        Ok(r) => r.rc,
        Err(e) => panic!("modify {dn}: {e}"),
    }
}

/// Reset Password: replace unicodePwd without knowing the old one.
pub async fn reset_password(ldap: &mut Ldap, dn: &str, new: &str) -> u32 {
    modify_rc(
        ldap,
        dn,
        vec![Mod::Replace(
            b"unicodePwd".to_vec(),
            HashSet::from([unicode_pwd(new)]),
        )],
    )
    .await
}

/// Change Password: delete the old value, add the new one.
pub async fn change_password(ldap: &mut Ldap, dn: &str, old: &str, new: &str) -> u32 {
    modify_rc(
        ldap,
        dn,
        vec![
            Mod::Delete(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(old)])),
            Mod::Add(b"unicodePwd".to_vec(), HashSet::from([unicode_pwd(new)])),
        ],
    )
    .await
}

pub async fn write_attr(ldap: &mut Ldap, dn: &str, attr: &str, value: &str) -> u32 {
    modify_rc(
        ldap,
        dn,
        vec![Mod::Replace(
            attr.as_bytes().to_vec(),
            HashSet::from([value.as_bytes().to_vec()]),
        )],
    )
    .await
}

pub async fn add_ou(ldap: &mut Ldap, dn: &str) {
    ldap.add(
        dn,
        vec![("objectClass", HashSet::from(["organizationalUnit"]))],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
}

/// `OU=<unique>` below the domain root with `n` child OUs; returns (root, children).
pub async fn ou_tree(lab: &Lab, prefix: &str, n: usize) -> (String, Vec<String>) {
    let mut ldap = admin(lab).await;
    let root = format!("OU={},{}", unique(prefix), lab.get("AD_BASE_DN"));
    add_ou(&mut ldap, &root).await;
    let mut children = Vec::new();
    for i in 0..n {
        let ou = format!("OU={prefix}{i},{root}");
        add_ou(&mut ldap, &ou).await;
        children.push(ou);
    }
    (root, children)
}

/// A test's own subtree: `OU=<id>` with `OU=In` (target; users `in_user`, and `deep_user` in `OU=Deep,OU=In`),
/// `OU=Out` (user `out_user`), and its own connector account (a plain user in CN=Users).
pub struct Fixture {
    pub root: String,
    pub target_ou: String,
    pub other_ou: String,
    pub in_user: String,
    pub deep_user: String,
    pub out_user: String,
    pub connector_sam: String,
    pub connector_dn: String,
    pub password: String,
}

/// A new enabled user `sam` in `parent` with `password`; returns its DN.
pub async fn add_user(
    lab: &Lab,
    ldap: &mut Ldap,
    sam: &str,
    parent: &str,
    password: &str,
) -> String {
    let dn = format!("CN={sam},{parent}");
    let upn = format!("{sam}@{}", lab.get("AD_REALM").to_lowercase());
    let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
        (b"objectClass".to_vec(), HashSet::from([b"user".to_vec()])),
        (
            b"sAMAccountName".to_vec(),
            HashSet::from([sam.as_bytes().to_vec()]),
        ),
        (
            b"userPrincipalName".to_vec(),
            HashSet::from([upn.into_bytes()]),
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

/// The objectSid of `dn`, as text.
pub async fn object_sid(ldap: &mut Ldap, dn: &str) -> String {
    let (rs, _) = ldap
        .search(dn, Scope::Base, "(objectClass=*)", vec!["objectSid"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let e = SearchEntry::construct(rs.into_iter().next().expect("entry"));
    writeback_wizard::security::Sid::from_bytes(&e.bin_attrs["objectSid"][0])
        .unwrap()
        .to_string()
}

/// Adds one ACE (SDDL) to the DACL of `dn` in canonical position, as another admin's tool would.
pub async fn grant(ldap: &mut Ldap, dn: &str, ace: &str) {
    use writeback_wizard::security::{SecurityDescriptor, parse_ace};
    let mut sd = SecurityDescriptor::from_bytes(&read_sd(ldap, dn).await).unwrap();
    sd.dacl
        .get_or_insert_with(Default::default)
        .insert_canonical(parse_ace(ace).unwrap());
    assert_eq!(
        write_sd(ldap, dn, sd.to_bytes().unwrap()).await,
        0,
        "grant {ace} on {dn}"
    );
}

/// The explicit ACEs of a DACL-only descriptor whose trustee is `sid`, as SDDL.
pub fn explicit_aces_of(sd: &[u8], sid: &str) -> Vec<String> {
    use writeback_wizard::security::SecurityDescriptor;
    SecurityDescriptor::from_bytes(sd)
        .unwrap()
        .dacl
        .map(|d| d.aces)
        .unwrap_or_default()
        .iter()
        .filter(|a| !a.is_inherited() && a.sid().is_some_and(|s| s.to_string() == sid))
        .map(|a| a.to_string())
        .collect()
}

pub async fn delete(ldap: &mut Ldap, dn: &str) {
    ldap.delete(dn).await.unwrap().success().unwrap();
}

pub async fn fixture(lab: &Lab) -> Fixture {
    let mut ldap = admin(lab).await;
    let base = lab.get("AD_BASE_DN");
    let id = unique("t");
    let root = format!("OU={id},{base}");
    let target_ou = format!("OU=In,{root}");
    let deep_ou = format!("OU=Deep,{target_ou}");
    let other_ou = format!("OU=Out,{root}");
    for ou in [&root, &target_ou, &deep_ou, &other_ou] {
        add_ou(&mut ldap, ou).await;
    }
    let password = lab.get("AD_USER_PASSWORD").to_string();
    let mut add_user = async |sam: String, parent: &str| -> String {
        let dn = format!("CN={sam},{parent}");
        let upn = format!("{sam}@{}", lab.get("AD_REALM").to_lowercase());
        let attrs: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = vec![
            (b"objectClass".to_vec(), HashSet::from([b"user".to_vec()])),
            (
                b"sAMAccountName".to_vec(),
                HashSet::from([sam.clone().into_bytes()]),
            ),
            (
                b"userPrincipalName".to_vec(),
                HashSet::from([upn.into_bytes()]),
            ),
            (
                b"unicodePwd".to_vec(),
                HashSet::from([unicode_pwd(&password)]),
            ),
            (
                b"userAccountControl".to_vec(),
                HashSet::from([b"512".to_vec()]),
            ),
        ];
        ldap.add(&dn, attrs).await.unwrap().success().unwrap();
        dn
    };
    let in_user = add_user(unique("i"), &target_ou).await;
    let deep_user = add_user(unique("d"), &deep_ou).await;
    let out_user = add_user(unique("o"), &other_ou).await;
    let connector_sam = unique("c");
    let connector_dn = add_user(connector_sam.clone(), &format!("CN=Users,{base}")).await;
    Fixture {
        root,
        target_ou,
        other_ou,
        in_user,
        deep_user,
        out_user,
        connector_sam,
        connector_dn,
        password,
    }
}

/// An answers file for `lab` in a fresh temp dir; returns (dir, path).
pub fn answers_file(
    lab: &Lab,
    connector: &str,
    scope_lines: &str,
    features: &str,
) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(unique("wbw-test-"));
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "version = 1\n\n[[directory]]\nforest = \"{}\"\nurl = \"{}\"\ntls = \"ldaps\"\nca_file = \"{}\"\nadmin = '{}'\nadmin_password = \"env:WBW_TEST_ADMIN_PASSWORD\"\nconnector = '{}'\n{}\n\n[features]\n{}\n",
        lab.get("AD_REALM").to_lowercase(),
        lab.get("AD_LDAPS_URL"),
        lab.get("AD_CA_CERT"),
        lab.get("AD_ADMIN"),
        connector,
        scope_lines,
        features
    );
    let path = dir.join("answers.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The answers file at `path` for use inside the test process: the admin password comes from a `file:`
/// beside it (tests never change the environment of their multi-threaded process).
pub fn answers_in_process(
    lab: &Lab,
    dir: &Path,
    path: &Path,
) -> writeback_wizard::answers::Answers {
    let secret = dir.join("admin-password");
    write_private(&secret, lab.get("AD_ADMIN_PASSWORD"));
    let text = std::fs::read_to_string(path).unwrap().replace(
        "env:WBW_TEST_ADMIN_PASSWORD",
        &format!("file:{}", secret.display()),
    );
    writeback_wizard::answers::Answers::from_toml(&text).unwrap()
}

/// Starts the real binary in the background, as [`wbw`] runs it, with its output discarded.
pub fn spawn_wbw(lab: &Lab, dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(args)
        .env("WBW_TEST_ADMIN_PASSWORD", lab.get("AD_ADMIN_PASSWORD"))
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start writeback-wizard")
}

/// Waits (up to a minute) until the newest journal below `dir` holds `n` records of type `t`, while `child`
/// is still running.
pub fn wait_for_journal_records(dir: &Path, t: &str, n: usize, child: &mut std::process::Child) {
    let needle = format!("\"t\":\"{t}\"");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("state/journal"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        let count = files
            .last()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |text| text.matches(&needle).count());
        if count >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "apply never got going"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the journal had {n} {t} records"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Runs the real binary with the admin password in WBW_TEST_ADMIN_PASSWORD and the state dir inside `dir`.
pub fn wbw(lab: &Lab, dir: &Path, args: &[&str]) -> Output {
    wbw_with_password(dir, args, lab.get("AD_ADMIN_PASSWORD"))
}

pub fn wbw_with_password(dir: &Path, args: &[&str], password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args(args)
        .env("WBW_TEST_ADMIN_PASSWORD", password)
        .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run writeback-wizard")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
