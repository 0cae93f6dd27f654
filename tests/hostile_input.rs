//! Issue 15, the catalogue: hostile answers, names, secrets, certificates and servers, each through the real
//! binary. Every case must end with its documented exit code, exactly one `writeback-wizard: ...` line that
//! names what is wrong, a `hint:` line, no raw control character and no password on the terminal; and
//! afterwards every watched DACL on the lab DC is byte for byte what it was, and no journal exists.
//!
//! The servers the cases talk to besides the lab DC live in this file: a listener that answers with garbage,
//! one that accepts and never answers, a TLS server with an expired certificate, and a proxy on an address
//! the DC's certificate does not carry.

mod common;
#[path = "support/self_signed.rs"]
mod self_signed;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::*;
use self_signed::self_signed;

/// A wrong admin password, and the password a hostile file holds: never printed.
const CANARY: &str = "Canary#pw-7e1f9";

struct Case {
    name: String,
    /// The answers file's bytes; `None`: there is no answers file.
    answers: Option<Vec<u8>>,
    /// What `env:WBW_TEST_ADMIN_PASSWORD` holds (default: the lab admin's password).
    password: Option<String>,
    exit: i32,
    /// Each must be in the error line.
    says: Vec<String>,
    /// Each must be in the hint line.
    hint_says: Vec<String>,
    /// The run must end within this (a server that never answers must not hang it).
    within: Option<Duration>,
}

fn case(name: &str, answers: impl Into<Vec<u8>>, exit: i32, says: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        answers: Some(answers.into()),
        password: None,
        exit,
        says: says.iter().map(|s| s.to_string()).collect(),
        hint_says: Vec::new(),
        within: None,
    }
}

impl Case {
    fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_string());
        self
    }

    fn hint(mut self, says: &str) -> Self {
        self.hint_says.push(says.to_string());
        self
    }

    fn within(mut self, limit: Duration) -> Self {
        self.within = Some(limit);
        self
    }

    fn no_file(mut self) -> Self {
        self.answers = None;
        self
    }
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from} not in answers");
    text.replacen(from, to, 1)
}

/// The answers with the `key = ...` line of the directory replaced by `line`.
fn with_line(text: &str, key: &str, line: &str) -> String {
    let prefix = format!("{key} = ");
    let old = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {key} in answers"));
    replace(text, old, line)
}

/// A listener on loopback whose every connection `serve` handles on its own thread.
fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
    addr
}

/// Answers every connection with bytes that are neither TLS nor LDAP, then closes it.
fn garbage_server() -> SocketAddr {
    listen(|mut stream| {
        let mut seed: u32 = 0x9e37_79b9;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        let _ = stream.read(&mut [0; 512]);
        let _ = stream.write_all(&noise);
    })
}

/// Accepts every connection and never answers (holding the socket open for a minute).
fn silent_server() -> SocketAddr {
    listen(|stream| {
        std::thread::sleep(Duration::from_secs(60));
        drop(stream);
    })
}

/// A CA (returned) and a server certificate it issued for 127.0.0.1 that expired yesterday, served over TLS on
/// loopback (returned): the handshake goes as far as the client lets it.
fn expired_tls_server(dir: &Path) -> (PathBuf, SocketAddr) {
    use rustls_pki_types::pem::PemObject;
    let (ca, ca_key) = self_signed(dir, "expired-ca", "/CN=catalogue test CA");
    let (key, csr, cert, ext) = (
        dir.join("expired.key"),
        dir.join("expired.csr"),
        dir.join("expired.pem"),
        dir.join("expired.ext"),
    );
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    let openssl = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req".as_ref(),
        "-new".as_ref(),
        "-newkey".as_ref(),
        "rsa:2048".as_ref(),
        "-nodes".as_ref(),
        "-subj".as_ref(),
        "/CN=127.0.0.1".as_ref(),
        "-keyout".as_ref(),
        key.as_os_str(),
        "-out".as_ref(),
        csr.as_os_str(),
    ]);
    // -days -1: valid from now until yesterday, i.e. expired.
    openssl(&[
        "x509".as_ref(),
        "-req".as_ref(),
        "-in".as_ref(),
        csr.as_os_str(),
        "-CA".as_ref(),
        ca.as_os_str(),
        "-CAkey".as_ref(),
        ca_key.as_os_str(),
        "-set_serial".as_ref(),
        "7".as_ref(),
        "-days".as_ref(),
        "-1".as_ref(),
        "-extfile".as_ref(),
        ext.as_os_str(),
        "-out".as_ref(),
        cert.as_os_str(),
    ]);
    let chain: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let addr = listen(move |mut stream| {
        let Ok(mut tls) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        while tls.is_handshaking() {
            if tls.complete_io(&mut stream).is_err() {
                return;
            }
        }
    });
    (ca, addr)
}

fn euid_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_catalogue() {
    let lab = lab();
    let fx = fixture(lab).await;
    let base = lab.get("AD_BASE_DN");
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "",
    );
    let good = std::fs::read_to_string(&path).unwrap();
    let url = lab.get("AD_LDAPS_URL");
    let admin_password = lab.get("AD_ADMIN_PASSWORD");
    let ou = |dn: &str| with_line(&good, "ous", &format!("ous = [\"{dn}\"]"));
    let ou_literal = |dn: &str| with_line(&good, "ous", &format!("ous = ['{dn}']"));
    let connector = |name: &str| with_line(&good, "connector", &format!("connector = {name}"));
    let admin_is = |name: &str| with_line(&good, "admin", &format!("admin = {name}"));
    let secret = |reference: &str| {
        with_line(
            &good,
            "admin_password",
            &format!("admin_password = \"{reference}\""),
        )
    };
    let at_url = |u: &str| with_line(&good, "url", &format!("url = \"{u}\""));
    let ca_file = |p: &Path| with_line(&good, "ca_file", &format!("ca_file = \"{}\"", p.display()));
    let directory_block =
        good[good.find("[[directory]]").unwrap()..good.find("[features]").unwrap()].to_string();

    // Secret files, one per hostile shape.
    let unreadable = dir.join("pw-000");
    write_private(&unreadable, CANARY);
    set_mode(&unreadable, 0o000);
    let world_readable = dir.join("pw-644");
    write_private(&world_readable, admin_password);
    set_mode(&world_readable, 0o644);
    let group_readable = dir.join("pw-640");
    write_private(&group_readable, admin_password);
    set_mode(&group_readable, 0o640);
    let empty_secret = dir.join("pw-empty");
    write_private(&empty_secret, "\n");
    let secret_dir = dir.join("pw-dir");
    std::fs::create_dir(&secret_dir).unwrap();
    set_mode(&secret_dir, 0o700);

    // CA files that are not what ca_file wants.
    let not_pem = dir.join("not-pem.pem");
    std::fs::write(&not_pem, b"\x00\x01this is not PEM at all\xff\xfe").unwrap();
    let key_only = dir.join("key-only.pem");
    std::fs::copy(
        self_signed(&dir, "key-only-source", "/CN=key only").1,
        &key_only,
    )
    .unwrap();
    let wrong_ca = self_signed(&dir, "wrong-ca", "/CN=not the lab CA").0;

    // Servers that are not the lab DC, or the lab DC by a name its certificate does not carry.
    let garbage = garbage_server();
    let silent = silent_server();
    let (expired_ca, expired) = expired_tls_server(&dir);
    let dc: SocketAddr = url
        .trim_start_matches("ldaps://")
        .parse()
        .expect("the lab url is ldaps://ip:port");
    let misnamed = Proxy::start_on("127.0.0.9:0", dc).await;

    let huge_ou = format!("OU={},{}", "a".repeat(100 * 1024), fx.root);
    let plain = |u: &str| {
        replace(
            &replace(&good, url, u),
            "tls = \"ldaps\"",
            "tls = \"none\"\nallow_plaintext = true",
        )
    };
    let starttls = |u: &str| {
        replace(
            &replace(&good, url, u),
            "tls = \"ldaps\"",
            "tls = \"starttls\"",
        )
    };

    let mut cases = vec![
        // The answers file as a file: syntax, types, keys, versions, duplicates.
        case("no answers file", "", 2, &["cannot read the answers file"]).no_file(),
        case(
            "answers file not UTF-8",
            b"version = 1\n\xff\xfe\x00".to_vec(),
            2,
            &["answers.toml"],
        ),
        case("empty answers file", "", 2, &["version"]),
        case(
            "unclosed table header",
            replace(&good, "[[directory]]", "[[directory]"),
            2,
            &["answers.toml:"],
        ),
        case(
            "unterminated string",
            connector("'never closed"),
            2,
            &["answers.toml:", "connector"],
        ),
        case(
            "tls is a number",
            with_line(&good, "tls", "tls = 5"),
            2,
            &["tls"],
        ),
        case(
            "tls is not a mode",
            with_line(&good, "tls", "tls = \"ssl\""),
            2,
            &["tls", "ssl"],
        ),
        case(
            "ous is a string",
            with_line(&good, "ous", &format!("ous = \"{}\"", fx.target_ou)),
            2,
            &["ous"],
        ),
        case(
            "version is a string",
            replace(&good, "version = 1", "version = \"1\""),
            2,
            &["version"],
        ),
        case(
            "max_in_flight negative",
            replace(&good, "scope =", "max_in_flight = -1\nscope ="),
            2,
            &["max_in_flight"],
        ),
        case(
            "max_in_flight zero",
            replace(&good, "scope =", "max_in_flight = 0\nscope ="),
            2,
            &["max_in_flight"],
        ),
        case(
            "unknown key in a directory",
            replace(&good, "scope =", "sever = 1\nscope ="),
            2,
            &["unknown field `sever`"],
        ),
        case(
            "unknown key in features",
            replace(&good, "[features]", "[features]\npassword_writebak = true"),
            2,
            &["unknown field `password_writebak`"],
        ),
        case(
            "unknown section",
            format!("{good}\n[extras]\nx = 1\n"),
            2,
            &["unknown field `extras`"],
        ),
        case(
            "unsupported version 2",
            replace(&good, "version = 1", "version = 2"),
            2,
            &["version", "unsupported"],
        ),
        case(
            "version 0",
            replace(&good, "version = 1", "version = 0"),
            2,
            &["version"],
        ),
        case(
            "a key given twice",
            replace(
                &good,
                "scope =",
                &format!("connector = '{}'\nscope =", fx.connector_sam),
            ),
            2,
            &["connector"],
        ),
        case(
            "one forest listed twice",
            format!("{good}\n{directory_block}"),
            2,
            &["directory[2].forest"],
        ),
        case(
            "one forest twice, spelled differently",
            format!(
                "{good}\n{}",
                directory_block.replace(
                    &lab.get("AD_REALM").to_lowercase(),
                    &format!("{}.", lab.get("AD_REALM"))
                )
            ),
            2,
            &["directory[2].forest"],
        ),
        case(
            "scope with no ous",
            with_line(&good, "ous", "ous = []"),
            2,
            &["ous"],
        ),
        case("empty connector", connector("''"), 2, &["connector"]),
        case(
            "every feature off",
            replace(
                &good,
                "[features]",
                "[features]\npassword_writeback = false\nunexpire_password = false",
            ),
            2,
            &["features"],
        ),
        case(
            "a forest that is not the DC's",
            replace(
                &good,
                &format!("forest = \"{}\"", lab.get("AD_REALM").to_lowercase()),
                "forest = \"other.example.test\"",
            ),
            2,
            &["forest"],
        ),
        // DNs.
        case("malformed DN", ou("Users,Corp"), 2, &["ous[1]"]),
        case("empty DN", ou(""), 2, &["ous[1]"]),
        case(
            "escaped comma, not there",
            ou_literal(&format!("OU=a\\,b,{}", fx.root)),
            2,
            &["ous[1]", "does not exist"],
        ),
        case(
            "unicode, not there",
            ou(&format!("OU=Ünïcødé ☃ 東京,{}", fx.root)),
            2,
            &["ous[1]", "does not exist"],
        ),
        case(
            "NUL in a DN",
            ou(&format!("OU=x\\u0000y,{}", fx.root)),
            2,
            &["ous[1]", "control character"],
        ),
        case(
            "escape sequence in a DN",
            ou(&format!("OU=\\u001b[31mred,{}", fx.root)),
            2,
            &["ous[1]", "control character"],
        ),
        case(
            "line break in a DN",
            ou(&format!("OU=two\\nlines,{}", fx.root)),
            2,
            &["ous[1]", "control character"],
        ),
        case(
            "100 KB DN",
            ou(&huge_ou),
            2,
            &["ous[1]", "characters not shown", "does not exist"],
        ),
        case(
            "filter injection in a DN",
            ou(&format!("OU=*)(objectClass=*,{}", fx.root)),
            2,
            &["ous[1]", "does not exist"],
        ),
        case(
            "DN injection",
            ou(&format!("OU=x)(|(cn=*,{}", fx.root)),
            2,
            &["ous[1]", "does not exist"],
        ),
        case("wildcard as a DN", ou("*"), 2, &["ous[1]"]),
        case(
            "a DN outside the forest",
            ou("OU=x,DC=elsewhere,DC=test"),
            2,
            &["ous[1]"],
        ),
        // Account names with filter metacharacters: never another account.
        case(
            "connector *",
            connector("'*'"),
            2,
            &["connector", "was not found"],
        ),
        case(
            "connector prefix wildcard",
            connector(&format!("'{}*'", &fx.connector_sam[..3])),
            2,
            &["connector", "was not found"],
        ),
        case(
            "connector filter injection",
            connector("'*)(objectClass=*'"),
            2,
            &["connector", "not valid"],
        ),
        case(
            "connector parentheses",
            connector("'x(y)'"),
            2,
            &["connector", "was not found"],
        ),
        case(
            "connector DOMAIN\\*",
            connector(&format!("'{}\\*'", lab.get("AD_DOMAIN"))),
            2,
            &["connector", "was not found"],
        ),
        case(
            "connector NOPE\\name",
            connector("'NOPE\\svc'"),
            2,
            &["connector", "NOPE"],
        ),
        case(
            "connector backslash twice",
            connector("'a\\b\\c'"),
            2,
            &["connector"],
        ),
        case(
            "connector UPN wildcard",
            connector(&format!("'*@{}'", lab.get("AD_REALM").to_lowercase())),
            2,
            &["connector", "was not found"],
        ),
        case(
            "connector with NUL",
            connector("\"x\\u0000y\""),
            2,
            &["connector", "control character"],
        ),
        case(
            "connector DN wildcard",
            connector(&format!("'CN=*,CN=Users,{base}'")),
            2,
            &["connector"],
        ),
        // The DC answers a wrong name as it answers a wrong password (AD's "data 52e"), so this is the directory
        // refusing (exit 1), and the hint names both fields.
        case(
            "admin *",
            admin_is("'*'"),
            1,
            &["as *:", "invalid credentials"],
        )
        .hint("admin (*)"),
        case(
            "admin DOMAIN\\*",
            admin_is(&format!("'{}\\*'", lab.get("AD_DOMAIN"))),
            1,
            &["\\*:", "invalid credentials"],
        )
        .hint("admin ("),
        case(
            "admin filter injection",
            admin_is("'*)(objectClass=*'"),
            2,
            &["admin", "not valid"],
        ),
        case(
            "admin with NUL",
            admin_is("\"Admin\\u0000istrator\""),
            2,
            &["admin", "control character"],
        ),
        // Secrets.
        case(
            "env var not set",
            secret("env:WBW_SURELY_UNSET_VARIABLE_15"),
            2,
            &["admin_password", "WBW_SURELY_UNSET_VARIABLE_15"],
        ),
        case("env: with no name", secret("env:"), 2, &["admin_password"]),
        case(
            "env: name with a space",
            secret("env:A B"),
            2,
            &["admin_password"],
        ),
        case(
            "file: missing",
            secret(&format!("file:{}", dir.join("no-such-file").display())),
            2,
            &["admin_password", "cannot read"],
        ),
        case(
            "file: is a directory",
            secret(&format!("file:{}", secret_dir.display())),
            2,
            &["admin_password", "cannot read"],
        ),
        case(
            "file: empty",
            secret(&format!("file:{}", empty_secret.display())),
            2,
            &["admin_password", "empty"],
        ),
        case(
            "file: world-readable",
            secret(&format!("file:{}", world_readable.display())),
            2,
            &["admin_password", "can be read by others"],
        )
        .hint("chmod 600"),
        case(
            "file: group-readable",
            secret(&format!("file:{}", group_readable.display())),
            2,
            &["admin_password", "can be read by others"],
        )
        .hint("chmod 600"),
        case("a password itself", secret(CANARY), 2, &["admin_password"]),
        case(
            "a password in an unterminated string",
            with_line(
                &good,
                "admin_password",
                &format!("admin_password = \"{CANARY}"),
            ),
            2,
            &["answers.toml:"],
        ),
        case(
            "prompt with no terminal",
            secret("prompt"),
            2,
            &["admin_password", "no terminal"],
        ),
        case(
            "wrong admin password",
            good.clone(),
            1,
            &["invalid credentials"],
        )
        .password(CANARY)
        .hint("admin_password (env:WBW_TEST_ADMIN_PASSWORD)"),
        // TLS.
        case("wrong CA", ca_file(&wrong_ca), 1, &[url, "certificate"]).hint("ca_file"),
        case(
            "certificate for another name",
            at_url(&format!("ldaps://{}", misnamed.addr)),
            1,
            &[
                format!("ldaps://{}", misnamed.addr).as_str(),
                "not valid for name \"127.0.0.9\"",
            ],
        )
        .hint("a name its certificate carries"),
        case(
            "expired certificate",
            replace(&ca_file(&expired_ca), url, &format!("ldaps://{expired}")),
            1,
            &[
                format!("ldaps://{expired}").as_str(),
                "certificate has expired",
            ],
        )
        .hint("renew"),
        case("ca_file not PEM", ca_file(&not_pem), 2, &["ca_file"]),
        case(
            "ca_file a key, no certificate",
            ca_file(&key_only),
            2,
            &["ca_file", "no certificate"],
        ),
        case(
            "ca_file missing",
            ca_file(&dir.join("no-such-ca.pem")),
            2,
            &["ca_file"],
        ),
        case("ca_file a directory", ca_file(&dir), 2, &["ca_file"]),
        // Transport.
        case(
            "plain LDAP without allow_plaintext",
            replace(
                &replace(&good, url, lab.get("AD_LDAP_URL")),
                "tls = \"ldaps\"",
                "tls = \"none\"",
            ),
            2,
            &["clear text"],
        ),
        case(
            "ldap:// with tls = ldaps",
            at_url(lab.get("AD_LDAP_URL")),
            2,
            &["url"],
        ),
        case(
            "ldaps:// with starttls",
            replace(&good, "tls = \"ldaps\"", "tls = \"starttls\""),
            2,
            &["tls"],
        ),
        case(
            "not an LDAP url",
            at_url("https://127.0.0.1:636"),
            2,
            &["url"],
        ),
        case("url with no host", at_url("ldaps://"), 2, &["url"]),
        case(
            "url with a port out of range",
            at_url("ldaps://127.0.0.1:99999"),
            2,
            &["ldaps://127.0.0.1:99999"],
        ),
        case(
            "host that does not resolve",
            at_url("ldaps://no-such-dc.invalid:636"),
            1,
            &["ldaps://no-such-dc.invalid:636"],
        ),
        case(
            "closed port",
            at_url("ldaps://127.0.0.1:1"),
            1,
            &["ldaps://127.0.0.1:1", "cannot connect"],
        ),
        case(
            "garbage over ldaps",
            at_url(&format!("ldaps://{garbage}")),
            1,
            &[&format!("ldaps://{garbage}")],
        ),
        case(
            "garbage over starttls",
            starttls(&format!("ldap://{garbage}")),
            1,
            &[&format!("ldap://{garbage}"), "without an LDAP answer"],
        ),
        case(
            "garbage over plain LDAP",
            plain(&format!("ldap://{garbage}")),
            1,
            &[&format!("ldap://{garbage}"), "without an LDAP answer"],
        ),
        case(
            "silent over ldaps",
            at_url(&format!("ldaps://{silent}")),
            1,
            &[&format!("ldaps://{silent}")],
        )
        .within(Duration::from_secs(30)),
        case(
            "silent over starttls",
            starttls(&format!("ldap://{silent}")),
            1,
            &[&format!("ldap://{silent}")],
        )
        .within(Duration::from_secs(30)),
        case(
            "silent over plain LDAP",
            plain(&format!("ldap://{silent}")),
            1,
            &[&format!("ldap://{silent}"), "timed out"],
        )
        .within(Duration::from_secs(30)),
    ];
    // Root reads a mode-000 file anyway (the kernel lets it), so as root the file's (wrong) password is used
    // and the DC refuses it; anyone else cannot read the file at all.
    cases.push(if euid_is_root() {
        case(
            "file: mode 000 (read by root)",
            secret(&format!("file:{}", unreadable.display())),
            1,
            &["invalid credentials"],
        )
    } else {
        case(
            "file: mode 000",
            secret(&format!("file:{}", unreadable.display())),
            2,
            &["admin_password", "cannot read"],
        )
    });
    assert!(cases.len() >= 40, "the catalogue has {} cases", cases.len());

    let mut ldap = admin(lab).await;
    let watched = [
        fx.target_ou.clone(),
        base.to_string(),
        fx.root.clone(),
        fx.connector_dn.clone(),
    ];
    let mut before = Vec::new();
    for dn in &watched {
        before.push(read_sd(&mut ldap, dn).await);
    }
    let mut failures = Vec::new();
    for case in cases {
        match &case.answers {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        let started = Instant::now();
        let (run_dir, answers) = (dir.clone(), path.to_str().unwrap().to_string());
        let password = case.password.clone().unwrap_or(admin_password.to_string());
        let out = tokio::task::spawn_blocking(move || {
            wbw_with_password(
                &run_dir,
                &["apply", "--answers", &answers, "--yes"],
                &password,
            )
        })
        .await
        .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        // Warnings about lab-only settings are said on every run; they are not the error.
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.starts_with("writeback-wizard: ") && !l.starts_with("writeback-wizard: warning: ")
            })
            .collect();
        let hints: Vec<&str> = stderr.lines().filter(|l| l.starts_with("hint: ")).collect();
        let mut wrong = Vec::new();
        if out.status.code() != Some(case.exit) {
            wrong.push(format!("exit {:?}, not {}", out.status.code(), case.exit));
        }
        if errors.len() != 1 {
            wrong.push(format!("{} error lines, not 1", errors.len()));
        }
        for says in &case.says {
            if !errors.iter().any(|l| l.contains(says.as_str())) {
                wrong.push(format!("the error does not say {says:?}"));
            }
        }
        if hints.len() != 1 {
            wrong.push(format!("{} hint lines, not 1", hints.len()));
        }
        for says in &case.hint_says {
            if !hints.iter().any(|l| l.contains(says.as_str())) {
                wrong.push(format!("the hint does not say {says:?}"));
            }
        }
        if let Some(long) = errors.iter().find(|l| l.chars().count() > 1200) {
            wrong.push(format!(
                "an error line of {} characters",
                long.chars().count()
            ));
        }
        if format!("{stdout}{stderr}")
            .chars()
            .any(|c| c.is_control() && c != '\n')
        {
            wrong.push("a raw control character was printed".into());
        }
        if [CANARY, admin_password]
            .iter()
            .any(|p| stderr.contains(p) || stdout.contains(p))
        {
            wrong.push("a password was printed".into());
        }
        if let Some(limit) = case.within
            && took > limit
        {
            wrong.push(format!("took {took:?}, more than {limit:?}"));
        }
        for (dn, sd) in watched.iter().zip(&before) {
            if &read_sd(&mut ldap, dn).await != sd {
                wrong.push(format!("{dn} changed"));
            }
        }
        if dir.join("state/journal").exists() {
            wrong.push("a journal was written".into());
        }
        if !wrong.is_empty() {
            let shown: String = stderr.chars().take(600).collect();
            failures.push(format!(
                "{}: {}\n    stderr: {shown:?}",
                case.name,
                wrong.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(misnamed);
    let _ = std::fs::remove_dir_all(&dir);
}
