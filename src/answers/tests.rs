//! The answers model: the example loads, round trips, and every mistake names its field.
use super::*;

const EXAMPLE: &str = include_str!("../../assets/answers.example.toml");

#[test]
fn the_commented_example_loads() {
    let a = Answers::from_toml(EXAMPLE).unwrap();
    assert_eq!(a.directories.len(), 1);
    assert_eq!(a.directories[0].scope, Scope::Selected);
    assert_eq!(
        a.directories[0].admin_password,
        SecretRef::Env("AD_ADMIN_PASSWORD".into())
    );
}

#[test]
fn save_and_load_give_the_same_model() {
    let a = Answers::from_toml(EXAMPLE).unwrap();
    let b = Answers::from_toml(&a.to_toml()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn save_writes_a_file_that_loads_back_and_holds_no_typed_secret() {
    use secrecy::SecretString;
    let mut a = Answers::from_toml(EXAMPLE).unwrap();
    a.directories[0].admin_password = SecretRef::Typed(crate::secret::TypedSecret::new(
        SecretString::from("Canary#Typed-1".to_string()),
    ));
    let dir = std::env::temp_dir().join(format!("wbw-answers-save-{}", std::process::id()));
    let path = dir.join("sub").join("answers.toml");
    a.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("Canary"), "{text}");
    let b = Answers::load(&path).unwrap();
    assert_eq!(b.directories[0].admin_password, SecretRef::Prompt);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn minimal(extra_directory: &str) -> String {
    format!(
        "version = 1\n[[directory]]\nforest = \"corp.example.test\"\nurl = \"ldaps://127.0.0.1:636\"\nadmin = 'CORP\\Administrator'\nadmin_password = \"env:X\"\nconnector = 'CORP\\svc-aadc'\n{extra_directory}"
    )
}

#[test]
fn defaults_are_domain_roots_writeback_and_unexpire() {
    let a = Answers::from_toml(&minimal("")).unwrap();
    assert_eq!(a.directories[0].scope, Scope::Domains);
    assert_eq!(a.directories[0].tls, TlsMode::Ldaps);
    assert_eq!(
        a.features,
        Features {
            password_writeback: true,
            unexpire_password: true,
            admin_sd_holder: false
        }
    );
}

#[test]
fn unknown_keys_are_errors_with_line_and_column() {
    let err = Answers::from_toml(&minimal("sever = \"x\"\n")).unwrap_err();
    assert!(
        err.message.starts_with("8:1: unknown field `sever`"),
        "{}",
        err.message
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn each_mistake_names_its_field() {
    let cases = [
        (
            minimal("").replace("ldaps://127.0.0.1:636", "ldap://127.0.0.1"),
            "directory[1]: url:",
        ),
        (
            minimal("tls = \"none\"").replace("ldaps://", "ldap://"),
            "directory[1]: tls:",
        ),
        (minimal("scope = \"selected\""), "directory[1]: ous:"),
        (minimal("max_in_flight = 0"), "directory[1]: max_in_flight:"),
        (
            minimal("max_in_flight = 500"),
            "directory[1]: max_in_flight:",
        ),
        (
            minimal("scope = \"selected\"\nous = [\"Users\"]"),
            "directory[1]: ous[1]:",
        ),
        (minimal("ous = [\"OU=A,DC=x\"]"), "directory[1]: ous:"),
        (
            minimal("").replace("env:X", "Secret#canary1"),
            "admin_password",
        ),
        (
            minimal("").replace("version = 1", "version = 2"),
            "version:",
        ),
        (
            minimal("").replace("'CORP\\svc-aadc'", "'CORP\\'"),
            "directory[1]: connector:",
        ),
        ("version = 1\n".to_string(), "no [[directory]]"),
        (
            format!(
                "{}\n[cloud]\ntenant = \"t\"\nsign_in = \"password\"\n",
                minimal("")
            ),
            "cloud.username",
        ),
        (
            format!(
                "{}\n[cloud]\ntenant = \"t\"\nsign_in = \"client-credentials\"\nclient_id = \"x\"\n",
                minimal("")
            ),
            "cloud.client_secret",
        ),
        (
            format!(
                "{}\n[cloud]\ntenant = \"t\"\ngraph_url = \"http://graph.example.com\"\n",
                minimal("")
            ),
            "cloud.graph_url",
        ),
        (
            format!(
                "{}\n[cloud]\ntenant = \"t\"\nusername = \"a@b\"\npassword = \"Hunter2#canary\"\n",
                minimal("")
            ),
            "password",
        ),
    ];
    for (text, expected) in cases {
        match Answers::from_toml(&text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => {
                assert!(
                    e.message.contains(expected),
                    "{expected:?} not in {:?}",
                    e.message
                );
                assert!(!e.to_string().contains("Secret#canary1"));
            }
        }
    }
}

#[test]
fn a_control_character_anywhere_is_refused_naming_the_key_and_never_printed_raw() {
    for (text, at) in [
        (
            minimal("scope = \"selected\"\nous = [\"OU=A,DC=x\", \"OU=B\\u0000,DC=x\"]"),
            "directory[1].ous[2]: ",
        ),
        (
            minimal("").replace("'CORP\\svc-aadc'", "\"CORP\\\\svc\\u001b[2J\""),
            "directory[1].connector: ",
        ),
        (
            minimal("").replace("corp.example.test", "corp\\texample.test"),
            "directory[1].forest: ",
        ),
        (
            format!(
                "{}\n[cloud]\ntenant = \"t\\u0007\"\nsign_in = \"device-code\"\n",
                minimal("")
            ),
            "cloud.tenant: ",
        ),
    ] {
        let err = Answers::from_toml(&text).unwrap_err();
        assert!(err.message.starts_with(at), "{at}: {}", err.message);
        assert!(err.message.contains("control character"), "{}", err.message);
        assert!(
            !err.message.chars().any(char::is_control),
            "printed raw: {:?}",
            err.message
        );
        assert_eq!(err.exit_code(), 2);
    }
}

#[test]
fn one_forest_listed_twice_is_an_answers_error() {
    let twice = format!(
        "{}\n[[directory]]\nforest = \"CORP.example.test.\"\nurl = \"ldaps://127.0.0.2:636\"\nadmin = 'CORP\\Administrator'\nadmin_password = \"env:X\"\nconnector = 'CORP\\svc-other'\n",
        minimal("")
    );
    let err = Answers::from_toml(&twice).unwrap_err();
    assert!(
        err.message.starts_with(
            "directory[2].forest: \"CORP.example.test.\" is directory[1]'s forest too"
        ),
        "{}",
        err.message
    );
    assert_eq!(err.exit_code(), 2);
}
