//! The answers file: everything the wizard asks, as versioned TOML. The TUI saves it, `plan`/`apply`/`check`/
//! `revert` replay it, and both go through [`Answers::from_toml`], the one validation path.
//!
//! Secrets are references only ([`SecretRef`]); the file never holds a password or a token.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ad::dn::Dn;
use crate::error::{Error, Result};
use crate::secret::SecretRef;

mod cloud;

pub use cloud::Cloud;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub version: u32,
    #[serde(default, rename = "directory", skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<Directory>,
    #[serde(default)]
    pub features: Features,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
}

/// One forest and how to reach and change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// The forest's DNS name, e.g. `corp.example.test`.
    pub forest: String,
    /// `ldaps://host:636`, or `ldap://host:389` with `tls = "starttls"`. Without it, the forest's DCs are found
    /// through DNS (`_ldap._tcp.dc._msdcs.<forest>` SRV records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub tls: TlsMode,
    /// The DNS server that answers for the forest (`ip` or `ip:port`); the system's resolver when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_server: Option<String>,
    /// How the admin signs in: a simple bind with a password, or Kerberos with the ticket in the admin's
    /// credential cache (`KRB5CCNAME`; TLS only).
    #[serde(default, skip_serializing_if = "Auth::is_simple")]
    pub auth: Auth,
    /// The DC host name for Kerberos' service principal `ldap/<host>` (default: the DC's `dnsHostName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spn_host: Option<String>,
    /// PEM file with the CA that issued the DC's certificate; the system's roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate. Only for a lab you own: anyone on the path can read the admin password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub danger_skip_tls_verify: bool,
    /// Allow `tls = "none"`: the admin password crosses the network in clear text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plaintext: bool,
    /// The account that changes ACLs: `DOMAIN\name`, UPN or DN (with Kerberos, the ticket's principal).
    #[serde(default)]
    pub admin: String,
    #[serde(default = "SecretRef::prompt")]
    pub admin_password: SecretRef,
    /// The AD DS connector account that receives the rights: `DOMAIN\name`, `name`, UPN or DN.
    pub connector: String,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ous: Vec<String>,
    /// LDAP operations in flight at once on the connection (1..=64). Few enough that none waits on the DC
    /// long enough to time out; AD also allows only 10 open paged searches per connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u16>,
    /// Seconds to wait for a DC to accept the connection and complete TLS (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<u32>,
    /// Seconds to wait for the DC's answer to any one operation (default 60). A DC that stops answering
    /// fails the run within this bound: every operation still waiting is given up, none is sent after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_timeout: Option<u32>,
    /// Per domain of the forest (by DNS or NetBIOS name): the DC to use there (wins over DNS) and, where the
    /// forest's admin is not an admin there, the account for that domain.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub domains: BTreeMap<String, DomainSettings>,
}

/// `[directory.domains."child.corp.example.test"]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSettings {
    /// This domain's DC, e.g. `ldaps://dc1.child.corp.example.test:636`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The admin for this domain (default: the directory's admin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<SecretRef>,
    /// This domain's DC host name for Kerberos (default: the name it was found by, else its dnsHostName).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spn_host: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    #[default]
    Simple,
    Kerberos,
}

impl Auth {
    fn is_simple(&self) -> bool {
        *self == Self::Simple
    }
}

/// Default for [`Directory::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: u16 = 8;
/// Defaults for [`Directory::connect_timeout`] and [`Directory::operation_timeout`], in seconds.
pub const DEFAULT_CONNECT_TIMEOUT: u32 = 10;
pub const DEFAULT_OPERATION_TIMEOUT: u32 = 60;
/// The longest timeout the answers may ask for, in seconds.
pub const MAX_TIMEOUT: u32 = 3600;
const MAX_IN_FLIGHT_LIMIT: u16 = 64;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Ldaps,
    Starttls,
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every domain root of the forest (like ADSyncConfig without -ADobjectDN).
    #[default]
    Domains,
    /// The OUs or containers listed in `ous`.
    Selected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Features {
    /// Reset Password, Change Password, Write lockoutTime, Write pwdLastSet on descendant user objects.
    pub password_writeback: bool,
    /// Unexpire Password on the root of each domain in scope (current Microsoft guidance).
    pub unexpire_password: bool,
    /// The writeback rights on CN=AdminSDHolder too, so protected accounts get them (ADSyncConfig 2.x opt-in).
    pub admin_sd_holder: bool,
}

impl Default for Features {
    fn default() -> Self {
        Self {
            password_writeback: true,
            unexpire_password: true,
            admin_sd_holder: false,
        }
    }
}

impl Answers {
    /// Reads and validates an answers file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::InvalidData {
                "the answers file is TOML text in UTF-8; see assets/answers.example.toml"
            } else {
                "check the path given to --answers (the wizard saves one with Ctrl-S)"
            };
            Error::usage(format!(
                "cannot read the answers file {}: {e}",
                path.display()
            ))
            .hint(hint)
        })?;
        Self::from_toml(&text).map_err(|e| e.context(path.display()))
    }

    /// Parses and validates; errors carry `line:column` for syntax and the field path for meaning.
    pub fn from_toml(text: &str) -> Result<Self> {
        let answers: Self = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end();
            let at = match e.span() {
                Some(span) => {
                    let (line, column) = line_column(text, span.start);
                    // Name the key when the error points into `key = value`.
                    let key = text
                        .lines()
                        .nth(line - 1)
                        .and_then(|l| l.split_once('='))
                        .map(|(k, _)| k.trim())
                        .filter(|k| {
                            !k.is_empty()
                                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                                && !message.contains(&format!("`{k}`"))
                        });
                    format!(
                        "{line}:{column}: {}",
                        key.map(|k| format!("{k}: ")).unwrap_or_default()
                    )
                }
                None => String::new(),
            };
            Error::usage(format!("{at}{message}"))
                .hint("see assets/answers.example.toml for every key")
        })?;
        answers.validate()?;
        Ok(answers)
    }

    pub fn to_toml(&self) -> String {
        // Serializing plain data into TOML cannot fail: no maps with non-string keys, no bare values.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Validates, then writes the answers as TOML: temp file, fsync, rename, with mode 0600 on Unix. Secrets are
    /// references only (a secret typed in the wizard is saved as `prompt`), so the file can be shared and replayed
    /// with `writeback-wizard apply --answers FILE --yes`.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        let fail = |e: std::io::Error| {
            Error::runtime(format!(
                "cannot save the answers to {}: {e}",
                path.display()
            ))
            .hint("choose a path in a directory you can write to")
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = format!(
            "# Saved by writeback-wizard. Replay with: writeback-wizard apply --answers {} --yes\n# Secrets are references only (env:NAME, file:PATH or prompt); see assets/answers.example.toml.\n{}",
            path.display(),
            self.to_toml()
        );
        let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp).map_err(fail)?;
            file.write_all(text.as_bytes()).map_err(fail)?;
            file.sync_all().map_err(fail)?;
        }
        std::fs::rename(&tmp, path).map_err(fail)
    }

    pub fn validate(&self) -> Result<()> {
        // Before anything else, and before any contact: a control character in a value (a NUL in a DN, an
        // escape sequence in a name) is never sent to a DC or printed.
        if let Ok(value) = toml::Value::try_from(self)
            && let Some((at, text)) = with_control_character(&value, String::new())
        {
            return Err(Error::usage(format!(
                "{at}: {} holds a control character",
                crate::error::printable(&text)
            ))
            .hint("remove it (a DN, account or URL never contains one)"));
        }
        if self.version != VERSION {
            return Err(Error::usage(format!(
                "version: unsupported answers version {}; this build reads version {VERSION}",
                self.version
            ))
            .hint(format!(
                "write version = {VERSION}, or use the writeback-wizard that wrote this file"
            )));
        }
        if self.directories.is_empty() && self.cloud.is_none() {
            return Err(
                Error::usage("no [[directory]] and no [cloud] section: nothing to do")
                    .hint("add a [[directory]] with url, admin, connector"),
            );
        }
        if let Some(cloud) = &self.cloud {
            cloud.validate()?;
        }
        let f = &self.features;
        if !f.password_writeback && !f.unexpire_password {
            return Err(
                Error::usage("features: every permission is switched off: nothing to do")
                    .hint("set features.password_writeback = true"),
            );
        }
        if f.admin_sd_holder && !f.password_writeback {
            return Err(Error::usage(
                "features.admin_sd_holder needs features.password_writeback = true",
            ));
        }
        for (i, d) in self.directories.iter().enumerate() {
            d.validate()
                .map_err(|e| e.context(format!("directory[{}]", i + 1)))?;
        }
        let forest_key = |d: &Directory| d.forest.trim().trim_end_matches('.').to_lowercase();
        for (i, d) in self.directories.iter().enumerate() {
            if let Some(j) = self.directories[..i]
                .iter()
                .position(|e| forest_key(e) == forest_key(d))
            {
                return Err(Error::usage(format!(
                    "directory[{}].forest: {:?} is directory[{}]'s forest too",
                    i + 1,
                    d.forest,
                    j + 1
                ))
                .hint("list each forest once; its domains go in [directory.domains.\"name\"] of that one entry"));
            }
        }
        Ok(())
    }
}

/// The key path and value of the first string in `value` that holds a control character.
fn with_control_character(value: &toml::Value, at: String) -> Option<(String, String)> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        toml::Value::String(text) => text
            .chars()
            .any(char::is_control)
            .then(|| (at, text.clone())),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| with_control_character(v, format!("{at}[{}]", i + 1))),
        toml::Value::Table(table) => table
            .iter()
            .find_map(|(k, v)| with_control_character(v, join(k))),
        _ => None,
    }
}

impl Directory {
    /// A directory with every optional setting at its default and the required ones empty (to fill in).
    pub fn minimal() -> Self {
        Self {
            forest: String::new(),
            url: None,
            tls: TlsMode::default(),
            dns_server: None,
            auth: Auth::default(),
            spn_host: None,
            ca_file: None,
            danger_skip_tls_verify: false,
            allow_plaintext: false,
            admin: String::new(),
            admin_password: SecretRef::Prompt,
            connector: String::new(),
            scope: Scope::default(),
            ous: Vec::new(),
            max_in_flight: None,
            connect_timeout: None,
            operation_timeout: None,
            domains: BTreeMap::new(),
        }
    }

    fn validate(&self) -> Result<()> {
        let field = |name: &str, msg: String| Error::usage(format!("{name}: {msg}"));
        if self.forest.trim().is_empty() {
            return Err(field("forest", "is empty".into())
                .hint("the forest's DNS name, e.g. corp.example.com"));
        }
        if let Some(url) = &self.url {
            check_url("url", url, self.tls, self.allow_plaintext)?;
        }
        for (name, d) in &self.domains {
            let at = format!("domains.{name:?}");
            if let Some(url) = &d.url {
                check_url(&format!("{at}.url"), url, self.tls, self.allow_plaintext)?;
            }
            if let Some(admin) = &d.admin {
                account_syntax(admin)
                    .map_err(|m| field(&format!("{at}.admin"), m).hint(ACCOUNT_FORMS))?;
            }
            if self.auth == Auth::Kerberos && (d.admin.is_some() || d.admin_password.is_some()) {
                return Err(field(
                    &at,
                    "admin and admin_password are not used with auth = \"kerberos\"".into(),
                )
                .hint("the ticket in KRB5CCNAME signs in everywhere; remove them"));
            }
            if d.admin.is_some() != d.admin_password.is_some() && self.auth == Auth::Simple {
                return Err(field(&at, "admin and admin_password go together".into())
                    .hint("give both, or neither to use the directory's admin there"));
            }
            if d.spn_host.is_some() && self.auth == Auth::Simple {
                return Err(field(
                    &format!("{at}.spn_host"),
                    "is for auth = \"kerberos\" only".into(),
                )
                .hint("remove it, or set auth = \"kerberos\""));
            }
        }
        if let Some(server) = &self.dns_server {
            parse_dns_server(server).map_err(|m| field("dns_server", m))?;
        }
        if self.spn_host.is_some() && self.auth == Auth::Simple {
            return Err(field("spn_host", "is for auth = \"kerberos\" only".into())
                .hint("remove it, or set auth = \"kerberos\""));
        }
        if self.auth == Auth::Kerberos && self.tls == TlsMode::None {
            return Err(field("auth", "Kerberos is allowed over TLS only".into())
                .hint("use ldaps:// or tls = \"starttls\" (ldap3 breaks on large sealed replies over plain LDAP)"));
        }
        if self.auth == Auth::Simple && self.admin.trim().is_empty() {
            return Err(field("admin", "is empty".into())
                .hint("an account that may change ACLs, e.g. CORP\\\\Administrator"));
        }
        if !self.admin.trim().is_empty() {
            account_syntax(&self.admin).map_err(|m| field("admin", m).hint(ACCOUNT_FORMS))?;
        }
        if self.connector.trim().is_empty() {
            return Err(field("connector", "is empty".into())
                .hint("the AD DS connector account, e.g. CORP\\\\MSOL_1234abcd"));
        }
        account_syntax(&self.connector).map_err(|m| field("connector", m).hint(ACCOUNT_FORMS))?;
        match self.scope {
            Scope::Domains if !self.ous.is_empty() => {
                return Err(
                    field("ous", "is set but scope = \"domains\" ignores it".into())
                        .hint("set scope = \"selected\", or remove ous"),
                );
            }
            Scope::Selected if self.ous.is_empty() => {
                return Err(field("ous", "is empty but scope = \"selected\"".into())
                    .hint("list OU DNs, or set scope = \"domains\""));
            }
            _ => {}
        }
        if let Some(n) = self.max_in_flight
            && !(1..=MAX_IN_FLIGHT_LIMIT).contains(&n)
        {
            return Err(field(
                "max_in_flight",
                format!("{n} is outside 1..={MAX_IN_FLIGHT_LIMIT}"),
            )
            .hint(format!(
                "leave it out for the default of {DEFAULT_MAX_IN_FLIGHT}"
            )));
        }
        for (name, value) in [
            ("connect_timeout", self.connect_timeout),
            ("operation_timeout", self.operation_timeout),
        ] {
            if let Some(n) = value
                && !(1..=MAX_TIMEOUT).contains(&n)
            {
                return Err(
                    field(name, format!("{n} is outside 1..={MAX_TIMEOUT} seconds"))
                        .hint("leave it out for the default"),
                );
            }
        }
        for (i, ou) in self.ous.iter().enumerate() {
            Dn::parse(ou).map_err(|m| {
                field(
                    &format!("ous[{}]", i + 1),
                    format!("{ou:?} is not a valid DN: {m}"),
                )
                .hint("write e.g. OU=Users,DC=corp,DC=example,DC=com")
            })?;
        }
        Ok(())
    }

    /// What is unsafe about this directory's settings, said on every run (they are fine only in a lab).
    pub fn security_warnings(&self) -> Vec<String> {
        crate::ad::ConnectionSettings::from(self).security_warnings()
    }

    pub fn ous(&self) -> Vec<Dn> {
        self.ous.iter().filter_map(|o| Dn::parse(o).ok()).collect()
    }
}

/// A DC URL that agrees with the TLS mode.
pub fn check_url(name: &str, url: &str, tls: TlsMode, allow_plaintext: bool) -> Result<()> {
    let field = |msg: String| Error::usage(format!("{name}: {msg}"));
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match (scheme.as_deref(), tls) {
        (Some("ldaps"), TlsMode::Ldaps) | (Some("ldap"), TlsMode::Starttls) => {}
        (Some("ldap"), TlsMode::None) if allow_plaintext => {}
        (Some("ldap"), TlsMode::None) => {
            return Err(Error::usage("tls: \"none\" sends the admin password in clear text")
                .hint("use url = \"ldaps://host:636\", or tls = \"starttls\"; allow_plaintext = true only for a lab"));
        }
        (Some("ldap"), TlsMode::Ldaps) => {
            return Err(
                field(format!("{url} is plain LDAP but tls = \"ldaps\"")).hint(
                    "use ldaps://host:636, or set tls = \"starttls\" to upgrade ldap://host:389",
                ),
            );
        }
        (Some("ldaps"), _) => {
            return Err(Error::usage(format!("tls: {url} already uses TLS"))
                .hint("set tls = \"ldaps\", or use ldap://host:389 with tls = \"starttls\""));
        }
        _ => {
            return Err(field(format!("{url:?} is not an LDAP URL"))
                .hint("write ldaps://dc.example.com:636"));
        }
    }
    if url
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_matches('/').is_empty())
    {
        return Err(field(format!("{url:?} has no host")).hint("write ldaps://dc.example.com:636"));
    }
    Ok(())
}

/// `ip` or `ip:port` (port 53 by default).
pub fn parse_dns_server(text: &str) -> std::result::Result<std::net::SocketAddr, String> {
    let t = text.trim();
    if let Ok(addr) = t.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    t.parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| format!("{t:?} is not an IP address (with an optional :port)"))
}

/// The hint for an account name [`account_syntax`] refuses.
const ACCOUNT_FORMS: &str = "write the account as DOMAIN\\name, name, name@upn.suffix or a DN (CN=Name,CN=Users,DC=corp,DC=example,DC=com)";

/// `DOMAIN\name`, `name`, `name@upn.suffix` or a DN.
fn account_syntax(text: &str) -> std::result::Result<(), String> {
    let t = text.trim();
    if t.contains('=') {
        return Dn::parse(t)
            .map(|_| ())
            .map_err(|m| format!("{t:?} looks like a DN but is not valid: {m}"));
    }
    if let Some((domain, name)) = t.split_once('\\')
        && (domain.is_empty() || name.is_empty() || name.contains('\\'))
    {
        return Err(format!("{t:?} is not DOMAIN\\name"));
    }
    if t.matches('@').count() > 1 || t.starts_with('@') || t.ends_with('@') {
        return Err(format!("{t:?} is not a UPN (name@suffix)"));
    }
    Ok(())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
