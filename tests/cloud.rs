//! Issue 4 against the in-repo Entra ID stand-in: every sign-in path and its documented errors (including
//! slow_down, expiry, decline and cancel), the role decision end to end, tenant warnings, and
//! `writeback-wizard check` on a cloud-only answers file with its exit codes; no password or token leaks.

#[path = "support/self_signed.rs"]
mod self_signed;
#[path = "entra_standin/server.rs"]
mod standin;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use self_signed::self_signed;
use standin::{
    Config, DeviceOutcome, DeviceScript, GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR,
    StandIn, USER_ADMINISTRATOR, User,
};
use writeback_wizard::answers::Answers;
use writeback_wizard::cloud::endpoints::{Endpoints, Environment};
use writeback_wizard::cloud::roles::RoleDecision;
use writeback_wizard::cloud::{check, signin};

const TENANT: &str = "contoso.onmicrosoft.com";
const PASSWORD: &str = "Canary#Cloud-9f3a";

fn config() -> Config {
    let mut c = Config::default();
    c.users.push(User::new(
        "ga@contoso.onmicrosoft.com",
        PASSWORD,
        &[GLOBAL_ADMINISTRATOR],
    ));
    c.users.push(User::new(
        "hia@contoso.onmicrosoft.com",
        PASSWORD,
        &[HYBRID_IDENTITY_ADMINISTRATOR, USER_ADMINISTRATOR],
    ));
    c.users.push(User::new(
        "plain@contoso.onmicrosoft.com",
        PASSWORD,
        &[USER_ADMINISTRATOR],
    ));
    let mut pim = User::new("pim@contoso.onmicrosoft.com", PASSWORD, &[]);
    pim.eligible_roles.push(GLOBAL_ADMINISTRATOR.into());
    c.users.push(pim);
    let mut mfa = User::new(
        "mfa@contoso.onmicrosoft.com",
        PASSWORD,
        &[GLOBAL_ADMINISTRATOR],
    );
    mfa.mfa_required = true;
    c.users.push(mfa);
    let mut expired = User::new(
        "expired@contoso.onmicrosoft.com",
        PASSWORD,
        &[GLOBAL_ADMINISTRATOR],
    );
    expired.password_expired = true;
    c.users.push(expired);
    c.apps.push((
        "11112222-3333-4444-5555-666677778888".into(),
        "Canary#Secret-77".into(),
    ));
    c
}

fn endpoints(standin: &StandIn, tenant: &str) -> Endpoints {
    Endpoints::new(
        Environment::Global,
        tenant,
        Some(&standin.url),
        Some(&standin.url),
    )
    .unwrap()
}

/// A sleep that records the requested intervals and returns at once.
fn recording_sleep() -> (
    Arc<Mutex<Vec<Duration>>>,
    impl Fn(Duration) -> std::future::Ready<()>,
) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (log, move |d| {
        let mut l = l.lock().unwrap();
        assert!(l.len() < 50, "runaway polling: {l:?}");
        l.push(d);
        std::future::ready(())
    })
}

fn device(script: DeviceScript) -> Config {
    let mut c = config();
    c.device = script;
    c
}

#[tokio::test]
async fn device_code_honours_interval_and_slow_down_then_signs_in() {
    let standin = StandIn::start(
        device(DeviceScript {
            interval: 5,
            expires_in: 900,
            pending_polls: 3,
            slow_down_on_poll: Some(2),
            outcome: DeviceOutcome::ApproveAs("ga@contoso.onmicrosoft.com".into()),
        }),
        0,
    )
    .await
    .unwrap();
    let (slept, sleep) = recording_sleep();
    let shown = Arc::new(Mutex::new(None));
    let s = shown.clone();
    let token = signin::device_code(
        &endpoints(&standin, TENANT),
        "client-1",
        |p| *s.lock().unwrap() = Some(p.clone()),
        sleep,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(!token.app_only);
    let prompt = shown.lock().unwrap().clone().unwrap();
    assert_eq!(prompt.verification_uri, "https://microsoft.com/devicelogin");
    assert!(prompt.message.contains(&prompt.user_code));
    // poll 1 pending (wait 5), poll 2 slow_down (wait 5+5 from now on), poll 3 pending (10), poll 4 token.
    assert_eq!(
        *slept.lock().unwrap(),
        vec![
            Duration::from_secs(5),
            Duration::from_secs(10),
            Duration::from_secs(10)
        ]
    );
    assert_eq!(standin.seen(|s| s.polls.len()), 4);
}

#[tokio::test]
async fn device_code_declined_and_expired_stop_with_clear_messages() {
    for (outcome, words) in [
        (DeviceOutcome::Decline, "declined"),
        (DeviceOutcome::Expire, "expired before the sign-in finished"),
    ] {
        let standin = StandIn::start(
            device(DeviceScript {
                interval: 1,
                expires_in: 900,
                pending_polls: 1,
                slow_down_on_poll: None,
                outcome,
            }),
            0,
        )
        .await
        .unwrap();
        let (_, sleep) = recording_sleep();
        let err = match signin::device_code(
            &endpoints(&standin, TENANT),
            "client-1",
            |_| {},
            sleep,
            std::future::pending(),
        )
        .await
        {
            Ok(_) => panic!("signed in"),
            Err(e) => e,
        };
        assert!(err.message.contains(words), "{}", err.message);
        assert!(err.hint.is_some());
    }
}

#[tokio::test]
async fn device_code_can_be_cancelled_while_waiting() {
    let standin = StandIn::start(
        device(DeviceScript {
            interval: 1,
            expires_in: 900,
            pending_polls: 10_000,
            slow_down_on_poll: None,
            outcome: DeviceOutcome::Decline,
        }),
        0,
    )
    .await
    .unwrap();
    let err = match signin::device_code(
        &endpoints(&standin, TENANT),
        "client-1",
        |_| {},
        tokio::time::sleep,
        tokio::time::sleep(Duration::from_millis(1500)),
    )
    .await
    {
        Ok(_) => panic!("signed in"),
        Err(e) => e,
    };
    assert_eq!(err.message, "sign-in cancelled");
    // A poll already on the wire when cancel fired may still land; after that, silence.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let polls = standin.seen(|s| s.polls.len());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        standin.seen(|s| s.polls.len()),
        polls,
        "no polling after cancel"
    );
}

#[tokio::test]
async fn password_sign_in_and_its_errors() {
    let standin = StandIn::start(config(), 0).await.unwrap();
    let e = endpoints(&standin, TENANT);
    let pw = |p: &str| SecretString::from(p.to_string());
    assert!(
        signin::password(
            &e,
            TENANT,
            "client-1",
            "ga@contoso.onmicrosoft.com",
            &pw(PASSWORD)
        )
        .await
        .is_ok()
    );
    let cases = [
        (
            "mfa@contoso.onmicrosoft.com",
            PASSWORD,
            "multi-factor authentication is required",
            "device-code",
        ),
        (
            "ga@contoso.onmicrosoft.com",
            "Wr0ng-canary-7f3a",
            "invalid username or password",
            "cloud.username",
        ),
        (
            "expired@contoso.onmicrosoft.com",
            PASSWORD,
            "the password has expired",
            "change it",
        ),
        (
            "nobody@contoso.onmicrosoft.com",
            PASSWORD,
            "no such user",
            "cloud.username",
        ),
    ];
    for (user, password, message, hint) in cases {
        let err = signin::password(&e, TENANT, "client-1", user, &pw(password))
            .await
            .err()
            .unwrap();
        assert!(err.message.contains(message), "{user}: {}", err.message);
        assert!(
            err.hint.as_deref().unwrap_or("").contains(hint),
            "{user}: {:?}",
            err.hint
        );
        assert!(
            !err.to_string().contains(password),
            "{user}: the password is in the error"
        );
    }
    // Refused before anything is sent on the common and consumers authorities.
    let before = standin.seen(|s| s.requests.len());
    for tenant in ["common", "consumers"] {
        let err = signin::password(
            &endpoints(&standin, tenant),
            tenant,
            "client-1",
            "ga@contoso.onmicrosoft.com",
            &pw(PASSWORD),
        )
        .await
        .err()
        .unwrap();
        assert!(
            err.message.contains("does not work with the"),
            "{}",
            err.message
        );
    }
    assert_eq!(standin.seen(|s| s.requests.len()), before);
    // The service's own answer for an unknown tenant.
    let err = signin::password(
        &endpoints(&standin, "fabrikam.onmicrosoft.com"),
        "fabrikam.onmicrosoft.com",
        "client-1",
        "ga@contoso.onmicrosoft.com",
        &pw(PASSWORD),
    )
    .await
    .err()
    .unwrap();
    assert!(err.message.contains("no such tenant"), "{}", err.message);
}

#[tokio::test]
async fn client_credentials_and_its_errors() {
    let standin = StandIn::start(config(), 0).await.unwrap();
    let e = endpoints(&standin, TENANT);
    let token = signin::client_credentials(
        &e,
        "11112222-3333-4444-5555-666677778888",
        &SecretString::from("Canary#Secret-77".to_string()),
    )
    .await
    .unwrap();
    assert!(token.app_only);
    let cases = [
        (
            "11112222-3333-4444-5555-666677778888",
            "nope",
            "invalid or expired client secret",
        ),
        (
            "99999999-0000-0000-0000-000000000000",
            "x",
            "no such application",
        ),
    ];
    for (client_id, secret, message) in cases {
        let err =
            signin::client_credentials(&e, client_id, &SecretString::from(secret.to_string()))
                .await
                .err()
                .unwrap();
        assert!(
            err.message.contains(message),
            "{client_id}: {}",
            err.message
        );
    }
}

/// An RSA key and a self-signed certificate made with openssl; registered on an app in `config`.
fn certificate(
    dir: &std::path::Path,
    config: &mut Config,
    client_id: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = self_signed(dir, "app", "/CN=writeback-wizard test app");
    let (der, public) = (dir.join("app.der"), dir.join("app.pub.der"));
    let run = |args: &[&str]| {
        let ok = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "openssl {args:?}")
    };
    let p = |p: &std::path::Path| p.to_str().unwrap().to_string();
    run(&[
        "x509",
        "-in",
        &p(&cert),
        "-outform",
        "DER",
        "-out",
        &p(&der),
    ]);
    run(&[
        "rsa",
        "-in",
        &p(&key),
        "-RSAPublicKey_out",
        "-outform",
        "DER",
        "-out",
        &p(&public),
    ]);
    use base64::Engine;
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        &std::fs::read(&der).unwrap(),
    ));
    config.cert_apps.push(standin::CertApp {
        client_id: client_id.into(),
        thumbprint_s256: thumbprint,
        public_key_pkcs1: std::fs::read(&public).unwrap(),
    });
    private(&key);
    (cert, key)
}

/// Readable by its owner only, as the tool wants a secret file.
fn private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test]
async fn client_credentials_with_a_certificate_assertion() {
    let dir = std::env::temp_dir().join(format!("wbw-cert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = config();
    let (cert, key) = certificate(&dir, &mut c, "aaaabbbb-0000-0000-0000-000000000001");
    let standin = StandIn::start(c, 0).await.unwrap();
    let e = endpoints(&standin, TENANT);
    let key_pem = SecretString::from(std::fs::read_to_string(&key).unwrap());
    let token =
        signin::client_certificate(&e, "aaaabbbb-0000-0000-0000-000000000001", &cert, &key_pem)
            .await
            .unwrap();
    assert!(token.app_only);
    // Another key for the same certificate: the signature does not verify.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, other_key) = certificate(&other, &mut Config::default(), "unused");
    let err = signin::client_certificate(
        &e,
        "aaaabbbb-0000-0000-0000-000000000001",
        &cert,
        &SecretString::from(std::fs::read_to_string(other_key).unwrap()),
    )
    .await
    .err()
    .unwrap();
    assert!(
        err.message.contains("client assertion was refused"),
        "{}",
        err.message
    );
    // Through the answers file and the role check: app-only, with what was checked instead.
    let answers = cloud_answers(
        &standin,
        &format!(
            "sign_in = \"client-credentials\"\nclient_id = \"aaaabbbb-0000-0000-0000-000000000001\"\nclient_certificate = \"{}\"\nclient_certificate_key = \"file:{}\"",
            cert.display(),
            key.display()
        ),
    );
    let report = check::check(answers.cloud.as_ref().unwrap(), &[])
        .await
        .unwrap();
    assert!(
        matches!(report.role, RoleDecision::PassWithWarning(ref m) if m.contains("checked instead")),
        "{:?}",
        report.role
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `file:` secret reference; tests never change the process environment (they run in parallel threads).
fn secret_file(value: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("wbw-secret-{}-{n}", std::process::id()));
    std::fs::write(&path, value).unwrap();
    private(&path);
    format!("file:{}", path.display())
}

fn cloud_answers(standin: &StandIn, lines: &str) -> Answers {
    Answers::from_toml(&format!(
        "version = 1\n[cloud]\ntenant = \"{TENANT}\"\nauthority_url = \"{url}\"\ngraph_url = \"{url}\"\n{lines}\n",
        url = standin.url
    ))
    .unwrap()
}

#[tokio::test]
async fn role_checks_end_to_end_for_each_kind_of_account() {
    let standin = StandIn::start(config(), 0).await.unwrap();
    let (pw, secret) = (secret_file(PASSWORD), secret_file("Canary#Secret-77"));
    let user = |u: &str| {
        format!(
            "sign_in = \"password\"\nusername = \"{u}@contoso.onmicrosoft.com\"\npassword = \"{pw}\""
        )
    };
    let app = format!(
        "sign_in = \"client-credentials\"\nclient_id = \"11112222-3333-4444-5555-666677778888\"\nclient_secret = \"{secret}\""
    );
    let table = [
        (user("ga"), "pass"),
        (user("hia"), "warn"),
        (user("pim"), "refuse"),
        (user("plain"), "refuse"),
        (app, "warn"),
    ];
    for (lines, expected) in table {
        let answers = cloud_answers(&standin, &lines);
        let report = check::check(
            answers.cloud.as_ref().unwrap(),
            &["corp.example.test".into(), "other.example".into()],
        )
        .await
        .unwrap();
        let got = match report.role {
            RoleDecision::Pass(_) => "pass",
            RoleDecision::PassWithWarning(_) => "warn",
            RoleDecision::Refuse(_) => "refuse",
        };
        assert_eq!(got, expected, "{lines}: {:?}", report.role);
        assert_eq!(report.tenant_id, "7d0b2e53-6a0c-4f3e-9a51-2f6f6f0e1c11");
        assert_eq!(
            report.warnings.len(),
            1,
            "only other.example is unverified: {:?}",
            report.warnings
        );
        assert!(report.warnings[0].contains("other.example"));
    }
}

#[tokio::test]
async fn an_unsynchronized_tenant_is_reported() {
    let mut c = config();
    c.sync_enabled = None;
    let standin = StandIn::start(c, 0).await.unwrap();
    let pw = secret_file(PASSWORD);
    let answers = cloud_answers(
        &standin,
        &format!(
            "sign_in = \"password\"\nusername = \"ga@contoso.onmicrosoft.com\"\npassword = \"{pw}\""
        ),
    );
    let report = check::check(answers.cloud.as_ref().unwrap(), &[])
        .await
        .unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("never been synchronized")),
        "{:?}",
        report.warnings
    );
}

/// `writeback-wizard check` on a file with only a [cloud] section: 0 when the role check passes, 3 when the
/// account lacks the role, 1 on a sign-in error; no password or token in any output or file.
#[test]
fn check_command_exit_codes_with_a_cloud_only_answers_file() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let standin = runtime.block_on(StandIn::start(config(), 0)).unwrap();
    let dir = std::env::temp_dir().join(format!("wbw-cloud-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("answers.toml");
    let mut outputs = Vec::new();
    for (user, password, exit, words) in [
        ("ga", PASSWORD, 0, "is a Global Administrator"),
        (
            "hia",
            PASSWORD,
            0,
            "still requires a user with the Global Administrator role",
        ),
        (
            "plain",
            PASSWORD,
            3,
            "isn't assigned the Global Administrator role",
        ),
        ("pim", PASSWORD, 3, "Privileged Identity Management enabled"),
        ("ga", "Canary#Wrong-pw1", 1, "invalid username or password"),
        ("mfa", PASSWORD, 1, "device-code"),
    ] {
        std::fs::write(
            &path,
            format!(
                "version = 1\n[cloud]\ntenant = \"{TENANT}\"\nsign_in = \"password\"\nusername = \"{user}@contoso.onmicrosoft.com\"\npassword = \"env:WBW_CLOUD_PW\"\nauthority_url = \"{url}\"\ngraph_url = \"{url}\"\n",
                url = standin.url
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
            .args(["check", "--answers", path.to_str().unwrap()])
            .env("WBW_CLOUD_PW", password)
            .env("WRITEBACK_WIZARD_STATE_DIR", dir.join("state"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(exit), "{user}: {text}");
        assert!(text.contains(words), "{user}: {words:?} not in {text}");
        assert!(!text.contains(password), "{user}: password in output");
        outputs.push(text);
    }
    let tokens = standin.seen(|s| s.tokens.clone());
    assert!(!tokens.is_empty());
    for text in &outputs {
        assert!(
            tokens.iter().all(|t| !text.contains(t.as_str())),
            "a token appeared in the output"
        );
    }
    assert!(!dir.join("state").exists(), "check writes no file");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default sign-in of the answers file (device code) through the real binary: the code is shown, the
/// stand-in approves after a pending poll, and the role check runs.
#[test]
fn check_command_signs_in_with_device_code() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let script = DeviceScript {
        interval: 1,
        expires_in: 900,
        pending_polls: 1,
        slow_down_on_poll: None,
        outcome: DeviceOutcome::ApproveAs("ga@contoso.onmicrosoft.com".into()),
    };
    let standin = runtime.block_on(StandIn::start(device(script), 0)).unwrap();
    let dir = std::env::temp_dir().join(format!("wbw-cloud-dc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("answers.toml");
    std::fs::write(
        &path,
        format!("version = 1\n[cloud]\ntenant = \"{TENANT}\"\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_writeback-wizard"))
        .args([
            "check",
            "--answers",
            path.to_str().unwrap(),
            "--json",
            "--authority-url",
            &standin.url,
            "--graph-url",
            &standin.url,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("https://microsoft.com/devicelogin") && stderr.contains("enter the code"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cloud"]["role"]["decision"], "pass");
    assert_eq!(report["cloud"]["signed_in"], "ga@contoso.onmicrosoft.com");
    let _ = std::fs::remove_dir_all(&dir);
}
