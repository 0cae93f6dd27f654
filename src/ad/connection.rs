//! Connect (LDAPS, or StartTLS; plain LDAP only when explicitly allowed), bind, and the few LDAP operations
//! the rest of the program needs, each with the SD flags control where a security descriptor is involved.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::RawControl;
use ldap3::{LdapConnAsync, LdapConnSettings, Mod, Scope, SearchEntry};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};

use super::errors::ldap_error;
use crate::answers::{Directory, TlsMode};
use crate::error::{Error, Result};

/// LDAP_SERVER_SD_FLAGS_OID with DACL_SECURITY_INFORMATION (4): read and write the DACL only, so owner, group
/// and SACL are never rewritten and no SeSecurityPrivilege is needed.
pub const SD_FLAGS_OID: &str = "1.2.840.113556.1.4.801";
const SD_FLAGS_DACL: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x04];
/// AD returns at most 1000 entries per page (MaxPageSize).
const PAGE_SIZE: i32 = 500;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

fn sd_flags_control() -> RawControl {
    RawControl {
        ctype: SD_FLAGS_OID.to_string(),
        crit: true,
        val: Some(SD_FLAGS_DACL.to_vec()),
    }
}

/// How to reach a DC, taken from a `[[directory]]` of the answers file.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub url: String,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub danger_skip_tls_verify: bool,
    pub allow_plaintext: bool,
}

impl From<&Directory> for ConnectionSettings {
    fn from(d: &Directory) -> Self {
        Self {
            url: d.url.clone(),
            tls: d.tls,
            ca_file: d.ca_file.clone(),
            danger_skip_tls_verify: d.danger_skip_tls_verify,
            allow_plaintext: d.allow_plaintext,
        }
    }
}

impl ConnectionSettings {
    fn ldap_settings(&self) -> Result<LdapConnSettings> {
        let mut settings = LdapConnSettings::new().set_conn_timeout(CONNECT_TIMEOUT);
        match self.tls {
            TlsMode::Ldaps => {}
            TlsMode::Starttls => settings = settings.set_starttls(true),
            TlsMode::None if self.allow_plaintext => return Ok(settings),
            TlsMode::None => {
                return Err(Error::usage(format!(
                    "refusing plain LDAP to {}: the password would cross the network in clear text",
                    self.url
                ))
                .hint(
                    "use ldaps:// or tls = \"starttls\"; allow_plaintext = true only for a lab",
                ));
            }
        }
        if self.danger_skip_tls_verify {
            return Ok(settings.set_no_tls_verify(true));
        }
        if let Some(path) = &self.ca_file {
            settings = settings.set_config(Arc::new(client_config(path)?));
        }
        Ok(settings)
    }
}

fn client_config(ca_file: &std::path::Path) -> Result<rustls::ClientConfig> {
    let bad = |what: String| {
        Error::usage(format!("ca_file {}: {what}", ca_file.display())).hint(
            "ca_file must be a PEM file with the CA certificate that issued the DC's certificate",
        )
    };
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert.map_err(|e| bad(e.to_string()))?)
            .map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate found".into()));
    }
    Ok(rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// One connection to one DC. Cloning shares the connection; ldap3 multiplexes concurrent operations on it.
#[derive(Clone)]
pub struct Session {
    ldap: ldap3::Ldap,
    pub url: String,
}

impl Session {
    /// Opens the connection and completes TLS; nothing is sent in clear unless plain LDAP was allowed.
    pub async fn connect(settings: &ConnectionSettings) -> Result<Self> {
        let ldap_settings = settings.ldap_settings()?;
        let (conn, mut ldap) = LdapConnAsync::with_settings(ldap_settings, &settings.url)
            .await
            .map_err(|e| ldap_error(&format!("cannot connect to {}", settings.url), e))?;
        ldap3::drive!(conn);
        ldap.with_timeout(OPERATION_TIMEOUT);
        Ok(Self {
            ldap,
            url: settings.url.clone(),
        })
    }

    /// Simple bind with `DOMAIN\name`, a UPN or a DN. An empty password would be an unauthenticated bind,
    /// which AD accepts and which proves nothing, so it is refused.
    pub async fn bind(&mut self, who: &str, password: &SecretString) -> Result<()> {
        let action = format!("cannot bind to {} as {who}", self.url);
        if password.expose_secret().is_empty() {
            return Err(Error::usage(format!("{action}: empty password")));
        }
        self.ldap
            .simple_bind(who, password.expose_secret())
            .await
            .and_then(|r| r.success())
            .map_err(|e| ldap_error(&action, e))?;
        Ok(())
    }

    /// A handle for one operation: ldap3 timeouts apply to the next operation only, so every operation gets
    /// its own (a DC that stops answering mid-run becomes an error, not a hang).
    fn handle(&self) -> ldap3::Ldap {
        let mut ldap = self.ldap.clone();
        ldap.with_timeout(OPERATION_TIMEOUT);
        ldap
    }

    /// A base-object read; `None` when the object does not exist.
    pub async fn read_entry(&self, dn: &str, attrs: &[&str]) -> Result<Option<SearchEntry>> {
        self.read(dn, attrs, false).await
    }

    async fn read(&self, dn: &str, attrs: &[&str], sd_flags: bool) -> Result<Option<SearchEntry>> {
        let mut ldap = self.handle();
        if sd_flags {
            ldap.with_controls(sd_flags_control());
        }
        let result = ldap
            .search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
            .await;
        match result.and_then(|r| r.success()) {
            Ok((entries, _)) => Ok(entries.into_iter().next().map(SearchEntry::construct)),
            Err(ldap3::LdapError::LdapResult { result }) if result.rc == 32 => Ok(None),
            Err(e) => Err(ldap_error(&format!("cannot read {dn}"), e)),
        }
    }

    /// A paged search that skips search references, so it works at a domain root on real AD.
    pub async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
    ) -> Result<Vec<SearchEntry>> {
        let mut entries = Vec::new();
        self.search_each(base, scope, filter, attrs, sd_flags, |e| entries.push(e))
            .await?;
        Ok(entries)
    }

    /// Like [`Session::search`], handing each entry to `each` as it arrives, page by page, so a subtree of
    /// any size is walked in constant memory. Returns how many entries there were.
    pub async fn search_each(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
        mut each: impl FnMut(SearchEntry),
    ) -> Result<usize> {
        let action = format!("cannot search {base} for {filter}");
        let mut ldap = self.handle();
        if sd_flags {
            ldap.with_controls(sd_flags_control());
        }
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let mut stream = ldap
            .streaming_search_with(adapters, base, scope, filter, attrs.to_vec())
            .await
            .map_err(|e| ldap_error(&action, e))?;
        let mut count = 0;
        while let Some(entry) = stream.next().await.map_err(|e| ldap_error(&action, e))? {
            each(SearchEntry::construct(entry));
            count += 1;
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|e| ldap_error(&action, e))?;
        Ok(count)
    }

    /// The DACL-only security descriptor of `dn`, and whether the bound account may write it: the server
    /// lists nTSecurityDescriptor in allowedAttributesEffective when it holds WRITE_DAC there.
    pub async fn read_dacl(&self, dn: &str) -> Result<(Vec<u8>, bool)> {
        let entry = self
            .read(
                dn,
                &["nTSecurityDescriptor", "allowedAttributesEffective"],
                true,
            )
            .await?
            .ok_or_else(|| {
                Error::runtime(format!("{dn} does not exist"))
                    .hint("check the DN's spelling in the answers file")
            })?;
        let sd = binary_attr(&entry, "nTSecurityDescriptor").ok_or_else(|| {
            Error::runtime(format!(
                "cannot read the security descriptor of {dn}: the server returned none"
            ))
            .hint("the admin account needs Read permissions on this object")
        })?;
        let writable = text_attrs(&entry, "allowedAttributesEffective")
            .iter()
            .any(|a| a.eq_ignore_ascii_case("nTSecurityDescriptor"));
        Ok((sd, writable))
    }

    /// Replaces the DACL of `dn` (SD flags = DACL: owner, group and SACL stay as they are).
    pub async fn write_dacl(&self, dn: &str, sd: Vec<u8>) -> Result<()> {
        let mut ldap = self.handle();
        let attr = b"nTSecurityDescriptor".to_vec();
        ldap.with_controls(sd_flags_control())
            .modify(dn, vec![Mod::Replace(attr, HashSet::from([sd]))])
            .await
            .and_then(|r| r.success())
            .map_err(|e| ldap_error(&format!("cannot write the security descriptor of {dn}"), e))?;
        Ok(())
    }

    pub async fn unbind(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

/// A binary attribute (objectSid, nTSecurityDescriptor); ldap3 files values that happen to be UTF-8 under `attrs`.
pub fn binary_attr(entry: &SearchEntry, name: &str) -> Option<Vec<u8>> {
    let find = |key: &String| key.eq_ignore_ascii_case(name);
    if let Some((_, v)) = entry.bin_attrs.iter().find(|(k, _)| find(k)) {
        return v.first().cloned();
    }
    entry
        .attrs
        .iter()
        .find(|(k, _)| find(k))
        .and_then(|(_, v)| v.first())
        .map(|s| s.as_bytes().to_vec())
}

/// The first value of a text attribute, matched case-insensitively.
pub fn text_attr<'a>(entry: &'a SearchEntry, name: &str) -> Option<&'a str> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

/// Every value of a text attribute, matched case-insensitively.
pub fn text_attrs(entry: &SearchEntry, name: &str) -> Vec<String> {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}
