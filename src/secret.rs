//! Secrets by reference: the answers file says where a password comes from (`env:NAME`, `file:PATH`, `prompt`),
//! never the password itself. Resolved values live in [`SecretString`]s, which zeroize on drop and never print.

use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
    Prompt,
    /// Typed into the wizard's masked field: held in memory only. It resolves to what was typed, and it prints
    /// and saves as `prompt`, so a typed secret can never reach an answers file, a log or the screen.
    Typed(TypedSecret),
}

/// A secret typed into the wizard. `Debug` is redacted; two are equal when they hold the same text.
#[derive(Clone)]
pub struct TypedSecret(Arc<SecretString>);

impl TypedSecret {
    pub fn new(secret: SecretString) -> Self {
        Self(Arc::new(secret))
    }
}

impl fmt::Debug for TypedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedSecret([REDACTED])")
    }
}

impl PartialEq for TypedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for TypedSecret {}

impl SecretRef {
    /// `prompt`, the default where a secret may be left out.
    pub fn prompt() -> Self {
        Self::Prompt
    }

    /// Parses a reference; the error never repeats the text, which may be a password typed in by mistake.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if text == "prompt" {
            return Ok(Self::Prompt);
        }
        if let Some(name) = text.strip_prefix("env:") {
            let valid =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            return if valid {
                Ok(Self::Env(name.to_string()))
            } else {
                Err("env: needs a variable name, e.g. env:AD_ADMIN_PASSWORD".into())
            };
        }
        if let Some(path) = text.strip_prefix("file:") {
            return if path.is_empty() {
                Err("file: needs a path, e.g. file:/run/secrets/ad-admin".into())
            } else {
                Ok(Self::File(path.into()))
            };
        }
        Err("expected env:NAME, file:PATH or prompt; a password itself is never accepted here (the value is not shown)".into())
    }

    /// Fetches the secret. `what` names it in prompts and errors, e.g. `directory[1].admin_password`.
    pub fn resolve(&self, what: &str) -> Result<SecretString> {
        let value = match self {
            Self::Typed(secret) => {
                if secret.0.expose_secret().is_empty() {
                    return Err(Error::usage(format!("{what}: the password typed is empty"))
                        .hint("type the password into the field"));
                }
                return Ok(SecretString::from(secret.0.expose_secret().to_string()));
            }
            Self::Env(name) => std::env::var(name).map_err(|_| {
                Error::usage(format!("{what}: environment variable {name} is not set")).hint(
                    format!("export {name}=..., or point {what} at file:PATH or prompt"),
                )
            })?,
            Self::File(path) => {
                refuse_if_others_can_read(path, what)?;
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::usage(format!("{what}: cannot read {}: {e}", path.display()))
                        .hint("check the path in file:PATH and its permissions")
                })?;
                text.trim_end_matches(['\r', '\n']).to_string()
            }
            Self::Prompt => {
                if !std::io::stdin().is_terminal() {
                    return Err(Error::usage(format!(
                        "{what} is set to prompt, but there is no terminal to ask on"
                    ))
                    .hint("use env:NAME or file:PATH for unattended runs"));
                }
                rpassword::prompt_password(format!("{what}: "))
                    .map_err(|e| Error::runtime(format!("{what}: cannot read the password: {e}")))?
            }
        };
        if value.is_empty() {
            return Err(
                Error::usage(format!("{what} resolved to an empty password"))
                    .hint("check the variable, file or what you typed"),
            );
        }
        Ok(SecretString::from(value))
    }
}

/// A password file others may read is refused before it is used, as ssh refuses such a key: whoever else
/// can read it has the password.
#[cfg(unix)]
fn refuse_if_others_can_read(path: &std::path::Path, what: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Missing or unreadable: reading it says so, with the path.
        return Ok(());
    };
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::usage(format!(
            "{what}: {} can be read by others (mode {mode:04o}); the password was not used",
            path.display()
        ))
        .hint(format!("chmod 600 {}", path.display())));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_can_read(_path: &std::path::Path, _what: &str) -> Result<()> {
    Ok(())
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
            Self::Prompt | Self::Typed(_) => f.write_str("prompt"),
        }
    }
}

impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            SecretRef::parse("env:AD_PW"),
            Ok(SecretRef::Env("AD_PW".into()))
        );
        assert_eq!(
            SecretRef::parse("file:/run/pw"),
            Ok(SecretRef::File("/run/pw".into()))
        );
        assert_eq!(SecretRef::parse("prompt"), Ok(SecretRef::Prompt));
    }

    #[test]
    fn a_literal_password_is_refused_without_being_repeated() {
        let err = SecretRef::parse("Hunter2!canary").unwrap_err();
        assert!(!err.contains("Hunter2"), "{err}");
        assert!(SecretRef::parse("env:").is_err());
        assert!(SecretRef::parse("env:A B").is_err());
        assert!(SecretRef::parse("file:").is_err());
    }

    #[test]
    fn a_typed_secret_resolves_but_prints_and_saves_as_prompt() {
        let typed = SecretRef::Typed(TypedSecret::new(SecretString::from(
            "Hunter2!canary".to_string(),
        )));
        assert_eq!(typed.to_string(), "prompt");
        assert!(!format!("{typed:?}").contains("Hunter2"));
        assert_eq!(
            typed.resolve("admin_password").unwrap().expose_secret(),
            "Hunter2!canary"
        );
        #[derive(Serialize)]
        struct S {
            p: SecretRef,
        }
        assert_eq!(
            toml::to_string(&S { p: typed }).unwrap().trim(),
            "p = \"prompt\""
        );
    }

    #[test]
    fn missing_env_var_names_the_field_and_the_fix() {
        let err = SecretRef::Env("WBW_SURELY_UNSET_VAR".into())
            .resolve("directory[1].admin_password")
            .unwrap_err();
        assert!(err.message.contains("directory[1].admin_password"));
        assert!(err.hint.unwrap().contains("export WBW_SURELY_UNSET_VAR"));
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_others_can_read_is_refused_and_a_private_one_is_used() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("wbw-secret-mode-{}", std::process::id()));
        std::fs::write(&path, "Pa55word\n").unwrap();
        let reference = SecretRef::File(path.clone());
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = reference
                .resolve("directory[1].admin_password")
                .unwrap_err();
            assert_eq!(err.kind, crate::error::ErrorKind::Usage);
            assert!(
                err.message.starts_with("directory[1].admin_password: "),
                "{}",
                err.message
            );
            assert!(
                err.message.contains("can be read by others"),
                "{}",
                err.message
            );
            assert!(!err.message.contains("Pa55word"));
            assert!(err.hint.unwrap().contains("chmod 600"));
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(reference.resolve("x").unwrap().expose_secret(), "Pa55word");
        let _ = std::fs::remove_file(&path);
    }
}
