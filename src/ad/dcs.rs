//! The domain controllers of one forest, as a domain-joined admin's tools use them: the first DC (the answers'
//! `url`, or found through DNS from the forest name), the forest it belongs to, and one session per other
//! domain, opened when first needed, with the same TLS and sign-in settings.
//!
//! A domain's DC comes from the answers' `domains` table when it names one, else from DNS SRV records
//! (`_ldap._tcp.dc._msdcs.<domain>`). An object is always read and written on a DC of its own domain; a
//! referral is never chased.

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::{Mutex, OnceCell};

use super::connection::{ConnectionSettings, Session};
use super::discovery::{Domain, Forest};
use super::dn::Dn;
use super::dns::Dns;
use crate::answers::{Auth, Directory, TlsMode, parse_dns_server};
use crate::error::{Error, Result};
use crate::secret::SecretRef;

/// One domain's DC as the tool uses it.
#[derive(Clone)]
pub struct DomainDc {
    pub domain: Domain,
    pub session: Session,
}

#[derive(Clone)]
pub struct Dcs {
    inner: Arc<Inner>,
}

struct Inner {
    directory: Directory,
    forest: Forest,
    primary: Session,
    /// Sessions by domain naming context (key form), the primary's domain included.
    sessions: Mutex<HashMap<String, Session>>,
    dns: OnceCell<Dns>,
    /// Resolved passwords by sign-in name, so `prompt` asks once per account.
    passwords: Mutex<HashMap<String, Arc<SecretString>>>,
}

/// How to reach one DC.
#[derive(Debug, Clone)]
struct Candidate {
    settings: ConnectionSettings,
    /// The host name, for messages and the Kerberos service principal.
    host: Option<String>,
}

impl Dcs {
    /// Connects to the first DC (`url`, or through DNS), signs in, discovers the forest and checks it is the
    /// one the answers name.
    pub async fn open(directory: &Directory) -> Result<Self> {
        let dns = OnceCell::new();
        let passwords = Mutex::new(HashMap::new());
        let candidates = match &directory.url {
            Some(url) => vec![Candidate {
                settings: ConnectionSettings {
                    url: url.clone(),
                    ..ConnectionSettings::from(directory)
                },
                host: host_of(url),
            }],
            None => {
                let dns = dns_for(&dns, directory).await?;
                located(directory, dns, directory.forest.trim()).await?
            }
        };
        let (admin, password) = (directory.admin.clone(), directory.admin_password.clone());
        let primary = connect_first(directory, &candidates, &admin, &password, &passwords).await?;
        let forest = Forest::discover(&primary).await?;
        if !forest
            .forest_name()
            .eq_ignore_ascii_case(directory.forest.trim())
        {
            return Err(Error::usage(format!(
                "forest: expected {:?} but {} belongs to forest {:?}",
                directory.forest,
                primary.url,
                forest.forest_name()
            ))
            .hint("fix forest or url in the answers file"));
        }
        let sessions = Mutex::new(HashMap::from([(forest.default_nc.key(), primary.clone())]));
        Ok(Self {
            inner: Arc::new(Inner {
                directory: directory.clone(),
                forest,
                primary,
                sessions,
                dns,
                passwords,
            }),
        })
    }

    pub fn forest(&self) -> &Forest {
        &self.inner.forest
    }

    /// The DC the run started with (its domain is the forest's default naming context as it reports it).
    pub fn primary(&self) -> &Session {
        &self.inner.primary
    }

    /// A session on a DC of `domain`, opened and signed in the first time.
    pub async fn for_domain(&self, domain: &Domain) -> Result<Session> {
        let key = domain.nc.key();
        let mut sessions = self.inner.sessions.lock().await;
        if let Some(s) = sessions.get(&key) {
            return Ok(s.clone());
        }
        let d = &self.inner.directory;
        let settings = d.domains.iter().find(|(name, _)| {
            name.eq_ignore_ascii_case(&domain.dns_name)
                || name.eq_ignore_ascii_case(&domain.netbios)
        });
        let candidates = match settings.and_then(|(_, s)| s.url.clone()) {
            Some(url) => vec![Candidate {
                settings: ConnectionSettings {
                    url: url.clone(),
                    ..ConnectionSettings::from(d)
                },
                host: host_of(&url),
            }],
            None => {
                let dns = dns_for(&self.inner.dns, d).await.map_err(|e| {
                    e.context(format!("domain {}", domain.dns_name)).hint(format!(
                        "give its DC in the answers: [directory.domains.\"{}\"] url = \"ldaps://dc.{}:636\"",
                        domain.dns_name, domain.dns_name
                    ))
                })?;
                located(d, dns, &domain.dns_name).await?
            }
        };
        let (admin, password) = match settings.map(|(_, s)| s) {
            Some(s) if s.admin.is_some() => (
                s.admin.clone().unwrap_or_default(),
                s.admin_password.clone().unwrap_or(SecretRef::Prompt),
            ),
            _ => (d.admin.clone(), d.admin_password.clone()),
        };
        let session =
            connect_first(d, &candidates, &admin, &password, &self.inner.passwords).await?;
        sessions.insert(key, session.clone());
        Ok(session)
    }

    /// A session on a DC of the domain that holds `dn`.
    pub async fn for_dn(&self, dn: &str) -> Result<Session> {
        let parsed =
            Dn::parse(dn).map_err(|m| Error::usage(format!("{dn:?} is not a valid DN: {m}")))?;
        let domain = self
            .inner
            .forest
            .domain_of(&parsed)
            .cloned()
            .ok_or_else(|| {
                Error::usage(format!(
                    "{dn} is not in forest {}",
                    self.inner.forest.forest_name()
                ))
                .hint("list DNs that end with a domain of this forest")
            })?;
        self.for_domain(&domain).await
    }

    /// The domains whose DC is open, with their sessions.
    pub async fn open_domains(&self) -> Vec<(Domain, Session)> {
        let sessions = self.inner.sessions.lock().await;
        self.inner
            .forest
            .domains
            .iter()
            .filter_map(|d| sessions.get(&d.nc.key()).map(|s| (d.clone(), s.clone())))
            .collect()
    }

    /// Every domain's DC opened so far, by domain DNS name: (domain, DC URL).
    pub async fn opened(&self) -> Vec<(String, String)> {
        let sessions = self.inner.sessions.lock().await;
        let mut out: Vec<(String, String)> = self
            .inner
            .forest
            .domains
            .iter()
            .filter_map(|d| {
                sessions
                    .get(&d.nc.key())
                    .map(|s| (d.dns_name.clone(), s.url.clone()))
            })
            .collect();
        out.sort();
        out
    }

    pub async fn unbind(self) {
        let sessions: Vec<Session> = self.inner.sessions.lock().await.values().cloned().collect();
        for s in sessions {
            s.unbind().await;
        }
    }
}

async fn dns_for<'a>(cell: &'a OnceCell<Dns>, d: &Directory) -> Result<&'a Dns> {
    cell.get_or_try_init(|| async {
        let server = d
            .dns_server
            .as_deref()
            .map(parse_dns_server)
            .transpose()
            .map_err(|m| Error::usage(format!("dns_server: {m}")))?;
        Dns::new(server)
    })
    .await
}

/// The ways to reach the DCs DNS names for `domain`: LDAPS on 636 first, then StartTLS on 389 (or only what
/// `tls` asks for), each by the address DNS gave and checked against the host name.
async fn located(d: &Directory, dns: &Dns, domain: &str) -> Result<Vec<Candidate>> {
    let hosts = dns.domain_controllers(domain).await?;
    let mut out = Vec::new();
    for h in hosts {
        let at = |scheme: &str, port: u16, tls: TlsMode| Candidate {
            settings: ConnectionSettings {
                url: format!("{scheme}://{}:{port}", url_host(&h.address)),
                tls,
                tls_name: Some(h.host.clone()),
                ..ConnectionSettings::from(d)
            },
            host: Some(h.host.clone()),
        };
        match d.tls {
            TlsMode::Ldaps => {
                out.push(at("ldaps", 636, TlsMode::Ldaps));
                out.push(at("ldap", 389, TlsMode::Starttls));
            }
            TlsMode::Starttls => out.push(at("ldap", 389, TlsMode::Starttls)),
            TlsMode::None => out.push(at("ldap", 389, TlsMode::None)),
        }
    }
    Ok(out)
}

fn url_host(ip: &std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', ':']).next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// Connects to the first candidate that answers and signs in there. A refused sign-in is final (the next DC
/// would refuse it too); a DC that cannot be reached gives way to the next.
async fn connect_first(
    d: &Directory,
    candidates: &[Candidate],
    admin: &str,
    password: &SecretRef,
    passwords: &Mutex<HashMap<String, Arc<SecretString>>>,
) -> Result<Session> {
    let mut last = None;
    for c in candidates {
        let session = match Session::connect(&c.settings).await {
            Ok(s) => s,
            Err(e) => {
                last = Some(e);
                continue;
            }
        };
        let mut session = session;
        match d.auth {
            Auth::Simple => {
                let secret = {
                    let mut cache = passwords.lock().await;
                    match cache.get(admin) {
                        Some(s) => s.clone(),
                        None => {
                            let s = Arc::new(password.resolve("admin_password")?);
                            cache.insert(admin.to_string(), s.clone());
                            s
                        }
                    }
                };
                session.bind(admin, &secret).await?;
            }
            Auth::Kerberos => {
                let spn_host = match &d.spn_host {
                    Some(h) => h.clone(),
                    None => session
                        .dns_host_name()
                        .await?
                        .or(c.host.clone())
                        .ok_or_else(|| {
                            Error::runtime(format!(
                                "{} does not say its host name (dnsHostName), which Kerberos needs",
                                c.settings.url
                            ))
                            .hint("set spn_host to the DC's host name")
                        })?,
                };
                session.bind_kerberos(&spn_host).await?;
            }
        }
        return Ok(session);
    }
    Err(last.unwrap_or_else(|| Error::runtime("no DC to connect to")))
}
