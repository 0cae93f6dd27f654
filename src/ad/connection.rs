//! Connect (LDAPS, or StartTLS; plain LDAP only when explicitly allowed), bind, and the few LDAP operations
//! the rest of the program needs, each with the SD flags control where a security descriptor is involved.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ldap3::controls::{ControlType, PagedResults, RawControl};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::errors::ldap_error;
use crate::answers::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_OPERATION_TIMEOUT, Directory, TlsMode,
};
use crate::error::{Error, Result};
use crate::security::Guid;

mod dacl;
pub use dacl::DaclRead;

/// LDAP_SERVER_SD_FLAGS_OID with DACL_SECURITY_INFORMATION (4): read and write the DACL only, so owner, group
/// and SACL are never rewritten and no SeSecurityPrivilege is needed.
pub const SD_FLAGS_OID: &str = "1.2.840.113556.1.4.801";
const SD_FLAGS_DACL: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x04];
/// AD returns at most 1000 entries per page (MaxPageSize).
pub const DEFAULT_PAGE_SIZE: u16 = 500;
/// AD keeps at most 10 paged searches open per connection (MaxResultSetsPerConn); we keep well below.
const MAX_OPEN_SEARCHES: usize = 3;

/// How many times a read that failed for a passing reason is asked again, and how long to wait before each.
const RETRIES: u32 = 3;

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 4u64.pow(attempt.saturating_sub(1)))
}

/// A failure after which the same read may simply be asked again: the DC was busy (51), unavailable (52) or
/// ran out of time (3), or the connection went away before the answer (the next try opens it again). A
/// write is never retried this way: its outcome is unknown until it is read.
fn worth_retrying(e: &ldap3::LdapError) -> bool {
    use ldap3::LdapError as E;
    match e {
        E::LdapResult { result } => matches!(result.rc, 3 | 51 | 52),
        E::OpSend { .. } | E::ResultRecv { .. } | E::EndOfStream | E::Io { .. } => true,
        _ => false,
    }
}

/// A connection to the DC the settings name, TLS completed.
async fn open_connection(settings: &ConnectionSettings) -> Result<ldap3::Ldap> {
    let ldap_settings = settings.ldap_settings()?;
    let (conn, mut ldap) = LdapConnAsync::with_settings(ldap_settings, &settings.url)
        .await
        .map_err(|e| ldap_error(&format!("cannot connect to {}", settings.url), e))?;
    ldap3::drive!(conn);
    ldap.with_timeout(settings.operation_timeout);
    Ok(ldap)
}

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
    /// Operations in flight at once on the connection.
    pub max_in_flight: u16,
    /// Entries per page of a paged search (AD caps it at 1000).
    pub page_size: u16,
    /// The name the DC's certificate must carry when `url` names it by address (a DC found through DNS is
    /// reached at the address DNS gave, and its certificate checked against the host name DNS gave).
    pub tls_name: Option<String>,
    /// How long to wait for the connection and TLS, and for the answer to any one operation.
    pub connect_timeout: Duration,
    pub operation_timeout: Duration,
}

impl ConnectionSettings {
    /// Settings for `url` with TLS as given and the default limits.
    pub fn new(url: impl Into<String>, tls: TlsMode, ca_file: Option<PathBuf>) -> Self {
        Self {
            url: url.into(),
            tls,
            ca_file,
            danger_skip_tls_verify: false,
            allow_plaintext: false,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            page_size: DEFAULT_PAGE_SIZE,
            tls_name: None,
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT.into()),
            operation_timeout: Duration::from_secs(DEFAULT_OPERATION_TIMEOUT.into()),
        }
    }
}

impl ConnectionSettings {
    /// What is unsafe about these settings, said on every run (they are fine only in a lab).
    pub fn security_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.danger_skip_tls_verify {
            out.push(format!("warning: {}: danger_skip_tls_verify = true: the DC's certificate is not checked, so anyone on the network path can pose as the DC and read the admin password", self.url));
        }
        if self.allow_plaintext && self.tls == TlsMode::None {
            out.push(format!("warning: {}: allow_plaintext = true: the admin password and every security descriptor cross the network in clear text", self.url));
        }
        out
    }
}

impl From<&Directory> for ConnectionSettings {
    fn from(d: &Directory) -> Self {
        Self {
            danger_skip_tls_verify: d.danger_skip_tls_verify,
            allow_plaintext: d.allow_plaintext,
            max_in_flight: d.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            connect_timeout: Duration::from_secs(
                d.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT).into(),
            ),
            operation_timeout: Duration::from_secs(
                d.operation_timeout
                    .unwrap_or(DEFAULT_OPERATION_TIMEOUT)
                    .into(),
            ),
            ..Self::new(d.url.clone().unwrap_or_default(), d.tls, d.ca_file.clone())
        }
    }
}

impl ConnectionSettings {
    fn ldap_settings(&self) -> Result<LdapConnSettings> {
        // ldap3 takes TLS from the URL's scheme: an ldap:// URL must come with StartTLS (or be allowed plain).
        let plain_url = self.url.to_ascii_lowercase().starts_with("ldap://");
        if plain_url && self.tls == TlsMode::Ldaps {
            return Err(Error::usage(format!(
                "refusing {}: an ldap:// URL with tls = \"ldaps\" would send the password in clear text",
                self.url
            ))
            .hint("use ldaps://host:636, or tls = \"starttls\""));
        }
        let mut settings = LdapConnSettings::new().set_conn_timeout(self.connect_timeout);
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
        if self.ca_file.is_some() || self.tls_name.is_some() {
            let roots = match &self.ca_file {
                Some(path) => roots_from(path)?,
                None => system_roots()?,
            };
            let config = match &self.tls_name {
                Some(name) => named_config(roots, name)?,
                None => rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            };
            settings = settings.set_config(Arc::new(config));
        }
        Ok(settings)
    }
}

fn system_roots() -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(
            Error::usage("no trusted CA certificates found on this machine")
                .hint("set ca_file to the PEM of the CA that issued the DCs' certificates"),
        );
    }
    Ok(roots)
}

/// A client config that checks the server's certificate against `name`, whatever address was dialled.
fn named_config(roots: rustls::RootCertStore, name: &str) -> Result<rustls::ClientConfig> {
    let expected = rustls_pki_types::ServerName::try_from(name.to_string()).map_err(|_| {
        Error::runtime(format!(
            "{name:?} is not a host name a certificate can carry"
        ))
    })?;
    let inner = rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| Error::runtime(format!("cannot set up certificate checks: {e}")))?;
    Ok(rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NamedVerifier { inner, expected }))
        .with_no_client_auth())
}

/// Verifies the chain and the name as WebPKI does, for the expected host name instead of the dialled address.
#[derive(Debug)]
struct NamedVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    expected: rustls_pki_types::ServerName<'static>,
}

impl rustls::client::danger::ServerCertVerifier for NamedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _dialled: &rustls_pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(
            end_entity,
            intermediates,
            &self.expected,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn roots_from(ca_file: &std::path::Path) -> Result<rustls::RootCertStore> {
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
    Ok(roots)
}

/// One connection to one DC. Cloning shares the connection; ldap3 multiplexes concurrent operations on it, and
/// the session bounds how many are in flight at once (and how many paged searches are open), so a run over
/// thousands of objects neither floods the DC nor lets queued operations run into their timeout.
#[derive(Clone)]
pub struct Session {
    link: Arc<Link>,
    pub url: String,
    /// How this DC was reached and who signed in: what a journal records to reach it again.
    dc: DcRef,
    limits: Arc<Limits>,
}

/// How one DC was reached, as a journal records it (no secret): its URL, the TLS mode, the name its
/// certificate was checked against when dialled by address, and the account that signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DcRef {
    pub url: String,
    pub tls: TlsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub admin: String,
}

/// The connection under a session, and what it takes to open it again. AD closes a connection that has been
/// idle for MaxConnIdleTime (900 s by default): an admin who reads the plan for longer before saying yes
/// must not see every write fail, so an operation that finds the connection closed opens a new one and signs
/// in again first. Only a connection already known to be closed is replaced: an operation whose answer was
/// lost is never sent again.
struct Link {
    ldap: std::sync::Mutex<ldap3::Ldap>,
    settings: ConnectionSettings,
    /// How the session signed in (the password stays in memory only), to sign in again the same way.
    signed_in: std::sync::Mutex<Option<SignedIn>>,
    reconnecting: tokio::sync::Mutex<()>,
    reconnects: AtomicUsize,
    /// An operation went unanswered for the operation timeout: the DC (or the path to it) has stalled.
    /// Nothing more is sent on this session, so a stall ends a run within one timeout, not one per
    /// operation still queued.
    stalled: std::sync::atomic::AtomicBool,
}

#[derive(Clone)]
enum SignedIn {
    Simple {
        who: String,
        password: SecretString,
    },
    #[cfg_attr(not(feature = "kerberos"), allow(dead_code))]
    Kerberos {
        spn_host: String,
    },
}

struct Limits {
    operations: Semaphore,
    searches: Semaphore,
    page_size: i32,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    pages: AtomicUsize,
}

/// Counts an operation as in flight while alive.
struct InFlight<'a> {
    limits: &'a Limits,
    _permit: SemaphorePermit<'a>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.limits.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A DC's own account of itself (rootDSE).
#[derive(Debug, Clone)]
pub struct DcAbout {
    pub default_nc: Option<String>,
    pub dns_host_name: Option<String>,
    pub read_only: bool,
}

/// What a session has done, for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    /// The most operations that were in flight at once.
    pub peak_in_flight: usize,
    /// Pages requested by paged searches.
    pub pages: usize,
    /// Times the connection was found closed and opened again.
    pub reconnects: usize,
}

impl Session {
    /// Opens the connection and completes TLS; nothing is sent in clear unless plain LDAP was allowed.
    pub async fn connect(settings: &ConnectionSettings) -> Result<Self> {
        let ldap = open_connection(settings).await?;
        let max = usize::from(settings.max_in_flight.max(1));
        Ok(Self {
            link: Arc::new(Link {
                ldap: std::sync::Mutex::new(ldap),
                settings: settings.clone(),
                signed_in: std::sync::Mutex::new(None),
                reconnecting: tokio::sync::Mutex::new(()),
                reconnects: AtomicUsize::new(0),
                stalled: std::sync::atomic::AtomicBool::new(false),
            }),
            url: settings.url.clone(),
            dc: DcRef {
                url: settings.url.clone(),
                tls: settings.tls,
                tls_name: settings.tls_name.clone(),
                admin: String::new(),
            },
            limits: Arc::new(Limits {
                operations: Semaphore::new(max),
                searches: Semaphore::new(MAX_OPEN_SEARCHES.min(max)),
                page_size: i32::from(settings.page_size.clamp(1, 1000)),
                in_flight: AtomicUsize::new(0),
                peak_in_flight: AtomicUsize::new(0),
                pages: AtomicUsize::new(0),
            }),
        })
    }

    /// How this DC was reached and who signed in.
    pub fn dc(&self) -> &DcRef {
        &self.dc
    }

    pub fn stats(&self) -> SessionStats {
        SessionStats {
            peak_in_flight: self.limits.peak_in_flight.load(Ordering::SeqCst),
            pages: self.limits.pages.load(Ordering::SeqCst),
            reconnects: self.link.reconnects.load(Ordering::SeqCst),
        }
    }

    /// Waits for a free slot on an open connection (a closed one is opened again first, see [`Link`]); the
    /// operation's timeout starts only once it has one.
    async fn slot(&self) -> Result<InFlight<'_>> {
        let slot = self.slot_as_is().await?;
        if self.current().is_closed() {
            self.reconnect().await?;
        }
        Ok(slot)
    }

    /// Fails at once when an earlier operation went unanswered (see [`Link::stalled`]).
    fn refuse_if_stalled(&self) -> Result<()> {
        if self.link.stalled.load(Ordering::SeqCst) {
            return Err(Error::runtime(format!(
                "{} stopped answering: an operation had no answer within {} s, so nothing more was sent to it",
                self.url,
                self.link.settings.operation_timeout.as_secs()
            ))
            .hint("check the DC and the network path to it, then run the same command again; the journal says what was written"));
        }
        Ok(())
    }

    /// Passes an operation's result on, noting a timeout as a stall of the whole session.
    pub(crate) fn watch<T>(
        &self,
        result: std::result::Result<T, ldap3::LdapError>,
    ) -> std::result::Result<T, ldap3::LdapError> {
        if let Err(ldap3::LdapError::Timeout { .. }) = &result {
            self.link.stalled.store(true, Ordering::SeqCst);
        }
        result
    }

    /// Whether an operation went unanswered on this session.
    pub fn stalled(&self) -> bool {
        self.link.stalled.load(Ordering::SeqCst)
    }

    /// The connection as it is now.
    fn current(&self) -> ldap3::Ldap {
        match self.link.ldap.lock() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Opens the connection again and signs in as before, once for every clone of the session.
    async fn reconnect(&self) -> Result<()> {
        let _one_at_a_time = self.link.reconnecting.lock().await;
        if !self.current().is_closed() {
            return Ok(());
        }
        let mut ldap = open_connection(&self.link.settings)
            .await
            .map_err(|e| e.context(format!("the connection to {} was closed (idle?)", self.url)))?;
        let signed_in = self.link.signed_in.lock().ok().and_then(|s| s.clone());
        match signed_in {
            Some(SignedIn::Simple { who, password }) => ldap
                .simple_bind(&who, password.expose_secret())
                .await
                .and_then(|r| r.success())
                .map(drop)
                .map_err(|e| {
                    ldap_error(&format!("cannot bind to {} as {who} again", self.url), e)
                })?,
            #[cfg(feature = "kerberos")]
            Some(SignedIn::Kerberos { spn_host }) => ldap
                .sasl_gssapi_bind(&spn_host)
                .await
                .and_then(|r| r.success())
                .map(drop)
                .map_err(|e| super::errors::kerberos_error(&self.url, &spn_host, e))?,
            #[cfg(not(feature = "kerberos"))]
            Some(SignedIn::Kerberos { .. }) => {}
            None => {}
        }
        match self.link.ldap.lock() {
            Ok(mut l) => *l = ldap,
            Err(poisoned) => *poisoned.into_inner() = ldap,
        }
        self.link.reconnects.fetch_add(1, Ordering::SeqCst);
        tracing::info!(url = %self.url, "the DC had closed the connection: opened it again and signed in");
        Ok(())
    }

    /// A slot on the connection as it is (for the next page of a paged search, whose cookie is only good on
    /// the connection that started it).
    async fn slot_as_is(&self) -> Result<InFlight<'_>> {
        self.refuse_if_stalled()?;
        let permit = self
            .limits
            .operations
            .acquire()
            .await
            .map_err(|_| Error::runtime(format!("the connection to {} is closed", self.url)))?;
        // Checked again once a slot is free: the operation that had it may have stalled meanwhile.
        self.refuse_if_stalled()?;
        let now = self.limits.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.limits.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        Ok(InFlight {
            limits: &self.limits,
            _permit: permit,
        })
    }

    /// Simple bind with `DOMAIN\name`, a UPN or a DN. An empty password would be an unauthenticated bind,
    /// which AD accepts and which proves nothing, so it is refused.
    pub async fn bind(&mut self, who: &str, password: &SecretString) -> Result<()> {
        let action = format!("cannot bind to {} as {who}", self.url);
        if password.expose_secret().is_empty() {
            return Err(Error::usage(format!("{action}: empty password")));
        }
        self.dc.admin = who.to_string();
        let _slot = self.slot().await?;
        let mut ldap = self.handle();
        self.watch(ldap.simple_bind(who, password.expose_secret()).await)
            .and_then(|r| r.success())
            .map_err(|e| ldap_error(&action, e))?;
        if let Ok(mut s) = self.link.signed_in.lock() {
            *s = Some(SignedIn::Simple {
                who: who.to_string(),
                password: password.clone(),
            });
        }
        Ok(())
    }

    /// What the DC says of itself before anyone signs in (the rootDSE): its domain, host name, and whether
    /// it is read-only.
    pub async fn about(&self) -> Result<DcAbout> {
        const RODC: &str = "1.2.840.113556.1.4.1920";
        // The first exchange on a new connection (over plain LDAP, the first sign of what listens there): a
        // server that does not answer it within the connect timeout is not a DC to wait for.
        let entry = self
            .read_within(
                "",
                &[
                    "defaultNamingContext",
                    "dnsHostName",
                    "supportedCapabilities",
                ],
                false,
                self.link.settings.connect_timeout,
            )
            .await?
            .ok_or_else(|| Error::runtime(format!("{} returned no rootDSE", self.url)))?;
        Ok(DcAbout {
            default_nc: text_attr(&entry, "defaultNamingContext").map(str::to_string),
            dns_host_name: text_attr(&entry, "dnsHostName").map(str::to_ascii_lowercase),
            read_only: text_attrs(&entry, "supportedCapabilities")
                .iter()
                .any(|c| c == RODC),
        })
    }

    /// Kerberos (SASL GSSAPI) bind with the ticket in the caller's credential cache (`KRB5CCNAME`), for the
    /// service principal `ldap/<spn_host>`. Inside TLS, as AD expects: no GSSAPI sign/seal, channel binding.
    #[cfg(feature = "kerberos")]
    pub async fn bind_kerberos(&mut self, spn_host: &str) -> Result<()> {
        let _slot = self.slot().await?;
        let mut ldap = self.handle();
        ldap.sasl_gssapi_bind(spn_host)
            .await
            .and_then(|r| r.success())
            .map_err(|e| super::errors::kerberos_error(&self.url, spn_host, e))?;
        if let Ok(mut s) = self.link.signed_in.lock() {
            *s = Some(SignedIn::Kerberos {
                spn_host: spn_host.to_string(),
            });
        }
        Ok(())
    }

    #[cfg(not(feature = "kerberos"))]
    pub async fn bind_kerberos(&mut self, _spn_host: &str) -> Result<()> {
        Err(Error::usage(
            "auth = \"kerberos\": this build of writeback-wizard has no Kerberos support",
        )
        .hint("build it with `cargo build --release --features kerberos` (needs the packages libkrb5-dev and libclang-dev), or use a simple bind"))
    }

    /// A handle for one operation: ldap3 timeouts apply to the next operation only, so every operation gets
    /// its own (a DC that stops answering mid-run becomes an error, not a hang).
    fn handle(&self) -> ldap3::Ldap {
        let mut ldap = self.current();
        ldap.with_timeout(self.link.settings.operation_timeout);
        ldap
    }

    /// A base-object read; `None` when the object does not exist.
    pub async fn read_entry(&self, dn: &str, attrs: &[&str]) -> Result<Option<SearchEntry>> {
        self.read(dn, attrs, false).await
    }

    async fn read(&self, dn: &str, attrs: &[&str], sd_flags: bool) -> Result<Option<SearchEntry>> {
        self.read_within(dn, attrs, sd_flags, self.link.settings.operation_timeout)
            .await
    }

    async fn read_within(
        &self,
        dn: &str,
        attrs: &[&str],
        sd_flags: bool,
        timeout: Duration,
    ) -> Result<Option<SearchEntry>> {
        let mut tries = 0;
        loop {
            let slot = self.slot().await?;
            let mut ldap = self.handle();
            ldap.with_timeout(timeout);
            if sd_flags {
                ldap.with_controls(sd_flags_control());
            }
            let result = self.watch(
                ldap.search(dn, Scope::Base, "(objectClass=*)", attrs.to_vec())
                    .await,
            );
            match result.and_then(|r| r.success()) {
                Ok((entries, _)) => {
                    return Ok(entries.into_iter().next().map(SearchEntry::construct));
                }
                Err(ldap3::LdapError::LdapResult { result })
                    if super::errors::names_no_object(result.rc) =>
                {
                    return Ok(None);
                }
                Err(e) if tries < RETRIES && worth_retrying(&e) => {
                    tries += 1;
                    drop(slot);
                    tokio::time::sleep(backoff(tries)).await;
                }
                Err(e) if dn.is_empty() => {
                    return Err(ldap_error(
                        &format!("cannot read the rootDSE of {}", self.url),
                        e,
                    ));
                }
                Err(e) => return Err(ldap_error(&format!("cannot read {dn}"), e)),
            }
        }
    }

    /// Whether the object with `guid` was deleted, asked with the Show Deleted control
    /// (LDAP_SERVER_SHOW_DELETED_OID): `Some(true)` its tombstone is here, `Some(false)` it is here alive,
    /// `None` neither is visible to this account on this DC. AD answers "no such object" alike for an object
    /// the caller may not see, one moved to another domain and one deleted, so a missing object is taken
    /// for deleted only when its tombstone says so.
    pub async fn deleted(&self, guid: &Guid) -> Result<Option<bool>> {
        const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";
        let _slot = self.slot().await?;
        let mut ldap = self.handle();
        ldap.with_controls(RawControl {
            ctype: SHOW_DELETED_OID.to_string(),
            crit: true,
            val: None,
        });
        let dn = format!("<GUID={guid}>");
        let result = self.watch(
            ldap.search(&dn, Scope::Base, "(objectClass=*)", vec!["isDeleted"])
                .await,
        );
        match result.and_then(|r| r.success()) {
            Ok((entries, _)) => Ok(entries.into_iter().next().map(|e| {
                let entry = SearchEntry::construct(e);
                text_attr(&entry, "isDeleted").is_some_and(|v| v.eq_ignore_ascii_case("TRUE"))
            })),
            Err(ldap3::LdapError::LdapResult { result }) if result.rc == 32 => Ok(None),
            Err(e) => Err(ldap_error(
                &format!("cannot look for the tombstone of {dn}"),
                e,
            )),
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
    ///
    /// Paging is done here rather than by ldap3's adapter so that every page request goes through the
    /// session's limits and is counted. Search references (other domains' naming contexts under a domain
    /// root on real AD) are skipped (ldap3 issue #156).
    pub async fn search_each(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
        each: impl FnMut(SearchEntry),
    ) -> Result<usize> {
        let action = format!("cannot search {base} for {filter}");
        self.search_pages(&action, base, scope, filter, attrs, sd_flags, true, each)
            .await
    }

    /// [`Session::search_each`] without the paged-results control, for a search that cannot return more
    /// than a few hundred entries (far below MaxPageSize, 1,000 on AD). Samba serves a paged search by
    /// collecting the matches and fetching each one again, which doubles the cost of a small read.
    #[allow(clippy::too_many_arguments)]
    async fn search_unpaged(
        &self,
        action: &str,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
        each: impl FnMut(SearchEntry),
    ) -> Result<usize> {
        self.search_pages(action, base, scope, filter, attrs, sd_flags, false, each)
            .await
    }

    /// [`Session::search_pages_once`], asked again after a transient failure (see [`worth_retrying`]) as long
    /// as no entry has been handed to `each` yet, so nothing is seen twice.
    #[allow(clippy::too_many_arguments)]
    async fn search_pages(
        &self,
        action: &str,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
        paged: bool,
        mut each: impl FnMut(SearchEntry),
    ) -> Result<usize> {
        let mut tries = 0;
        loop {
            let mut seen = 0usize;
            let result = self
                .search_pages_once(action, base, scope, filter, attrs, sd_flags, paged, |e| {
                    seen += 1;
                    each(e)
                })
                .await;
            match result {
                Err((e, true)) if seen == 0 && tries < RETRIES => {
                    tries += 1;
                    tracing::info!(url = %self.url, "{action}: {e}; asking again");
                    tokio::time::sleep(backoff(tries)).await;
                }
                Err((e, _)) => return Err(e),
                Ok(n) => return Ok(n),
            }
        }
    }

    /// One paged search; on failure the error and whether it is worth asking again ([`worth_retrying`]).
    #[allow(clippy::too_many_arguments)]
    async fn search_pages_once(
        &self,
        action: &str,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        sd_flags: bool,
        paged: bool,
        mut each: impl FnMut(SearchEntry),
    ) -> std::result::Result<usize, (Error, bool)> {
        let fail = |e: ldap3::LdapError| {
            let again = worth_retrying(&e);
            (ldap_error(action, e), again)
        };
        let no_retry = |e: Error| (e, false);
        let _open = self.limits.searches.acquire().await.map_err(|_| {
            no_retry(Error::runtime(format!(
                "the connection to {} is closed",
                self.url
            )))
        })?;
        let mut cookie = Vec::new();
        let mut count = 0;
        loop {
            let _slot = if cookie.is_empty() {
                self.slot().await.map_err(no_retry)?
            } else {
                self.slot_as_is().await.map_err(no_retry)?
            };
            let mut controls = Vec::new();
            if paged {
                controls.push(RawControl::from(PagedResults {
                    size: self.limits.page_size,
                    cookie: std::mem::take(&mut cookie),
                }));
            }
            if sd_flags {
                controls.push(sd_flags_control());
            }
            let mut ldap = self.handle();
            ldap.with_controls(controls);
            self.limits.pages.fetch_add(1, Ordering::SeqCst);
            let mut stream = self
                .watch(
                    ldap.streaming_search(base, scope, filter, attrs.to_vec())
                        .await,
                )
                .map_err(fail)?;
            loop {
                match self.watch(stream.next().await) {
                    Ok(Some(entry)) => {
                        if entry.is_ref() || entry.is_intermediate() {
                            continue;
                        }
                        each(SearchEntry::construct(entry));
                        count += 1;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // Tell the server to drop the search rather than keep its state open.
                        let msgid = stream.ldap_handle().last_id();
                        let _ = stream.ldap_handle().abandon(msgid).await;
                        return Err(fail(e));
                    }
                }
            }
            let done = stream.finish().await;
            let previous = std::mem::take(&mut cookie);
            // An unpaged search ends with its one answer, whatever controls the server sends back.
            if let Some(control) = done
                .ctrls
                .iter()
                .filter(|_| paged)
                .find(|c| matches!(c.0, Some(ControlType::PagedResults)))
            {
                cookie = control
                    .1
                    .val
                    .as_deref()
                    .and_then(paged_cookie)
                    .ok_or_else(|| {
                        no_retry(Error::runtime(format!(
                            "{action}: the server sent a malformed paged-results control"
                        )))
                    })?;
            }
            done.success().map_err(fail)?;
            if !cookie.is_empty() && cookie == previous {
                return Err(no_retry(Error::runtime(format!(
                    "{action}: the server sent the same paged-results cookie twice; stopped to avoid an endless loop"
                ))));
            }
            if cookie.is_empty() {
                return Ok(count);
            }
        }
    }

    /// Whether `dn` (which may be `<GUID=...>`) exists.
    pub async fn exists(&self, dn: &str) -> Result<bool> {
        Ok(self.read(dn, &["1.1"], false).await?.is_some())
    }

    pub async fn unbind(self) {
        let _ = self.current().unbind().await;
    }
}

/// The cookie of a paged-results control value, `SEQUENCE { INTEGER size, OCTET STRING cookie }` (RFC 2696),
/// or `None` when the bytes are not that (ldap3's own parser panics on bad input).
fn paged_cookie(value: &[u8]) -> Option<Vec<u8>> {
    let (0x30, body, _) = ber_element(value)? else {
        return None;
    };
    let (0x02, _, rest) = ber_element(body)? else {
        return None;
    };
    let (0x04, cookie, _) = ber_element(rest)? else {
        return None;
    };
    Some(cookie.to_vec())
}

/// One BER element: (tag, contents, what follows).
fn ber_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(n)?;
        (
            len_bytes
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            rest,
        )
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

/// A binary attribute (objectSid, nTSecurityDescriptor); ldap3 files values that happen to be UTF-8 under `attrs`.
/// A GUID-valued attribute (objectGUID, schemaIDGUID, ...), if present and 16 bytes long.
pub fn guid_attr(entry: &SearchEntry, name: &str) -> Option<Guid> {
    binary_attr(entry, name)
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(Guid::from_bytes)
}

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

/// Every value of a binary attribute (tokenGroups).
pub fn binary_attrs(entry: &SearchEntry, name: &str) -> Vec<Vec<u8>> {
    let find = |key: &String| key.eq_ignore_ascii_case(name);
    let mut out: Vec<Vec<u8>> = entry
        .bin_attrs
        .iter()
        .filter(|(k, _)| find(k))
        .flat_map(|(_, v)| v.iter().cloned())
        .collect();
    out.extend(
        entry
            .attrs
            .iter()
            .filter(|(k, _)| find(k))
            .flat_map(|(_, v)| v.iter().map(|s| s.as_bytes().to_vec())),
    );
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_cookies_are_read_without_trusting_the_bytes() {
        assert_eq!(
            paged_cookie(&[0x30, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00]),
            Some(vec![])
        );
        assert_eq!(
            paged_cookie(&[0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 0xab, 0xcd]),
            Some(vec![0xab, 0xcd])
        );
        let long: Vec<u8> = [
            vec![0x30, 0x81, 0x86, 0x02, 0x01, 0x00, 0x04, 0x81, 0x80],
            vec![7; 128],
        ]
        .concat();
        assert_eq!(paged_cookie(&long), Some(vec![7; 128]));
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x02, 0x01],
            &[0x31, 0x05, 0x02, 0x01, 0x00, 0x04, 0x00],
            &[0x30, 0x05, 0x04, 0x01, 0x00, 0x04, 0x00],
            &[0x30, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x06, 0x02, 0x01, 0x00, 0x04, 0x09, 0x00],
        ] {
            assert_eq!(paged_cookie(bad), None, "{bad:?}");
        }
    }
}
