//! The domain controllers of one forest, as a domain-joined admin's tools use them: the first DC (the answers'
//! `url`, or found through DNS from the forest name), the forest it belongs to, and one session per other
//! domain, opened when first needed, with the same TLS and sign-in settings.
//!
//! A domain's DC comes from the answers' `domains` table when it names one, else from DNS SRV records
//! (`_ldap._tcp.dc._msdcs.<domain>`); a journal pins exactly the DCs an apply used. Before anyone signs in,
//! each DC must say (rootDSE) that it is a writable DC of the domain it is wanted for, under the name DNS gave
//! it. An object is always read and written on a DC of its own domain; a referral is never chased.
//!
//! Trust: a DC found through DNS is dialled at the address DNS gave and its certificate must carry the host
//! name DNS gave. DNS is not authenticated, so the host must lie inside the domain's or the forest's DNS
//! namespace unless `ca_file` names a private CA (which an attacker cannot get a certificate from).

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::{Mutex, OnceCell};

use super::connection::{ConnectionSettings, DaclRead, Session};
use super::discovery::{Domain, Forest, by_domain};
use super::dn::Dn;
use super::dns::Dns;
use crate::answers::{Auth, Directory, TlsMode, parse_dns_server};
use crate::error::{Error, Result};
use crate::secret::SecretRef;
use crate::security::Guid;

/// What was read of one object (`None`: nothing there), with the session it was read on.
pub type ReadOn = (Session, Option<DaclRead>);

#[derive(Clone)]
pub struct Dcs {
    inner: Arc<Inner>,
}

struct Inner {
    directory: Directory,
    forest: Forest,
    primary: Session,
    /// One cell per domain naming context (key form), so opening one domain's DC never waits on another's.
    sessions: std::sync::Mutex<HashMap<String, Arc<OnceCell<Session>>>>,
    dns: OnceCell<Dns>,
    /// Resolved passwords by secret reference and account, so `prompt` asks once per account.
    passwords: Mutex<HashMap<String, Arc<SecretString>>>,
    /// DCs a journal recorded, by domain DNS name (lowercase): used instead of the answers and DNS.
    pinned: HashMap<String, Pinned>,
}

/// A DC exactly as an apply reached it (from its journal), and the account that signed in there.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub settings: ConnectionSettings,
    pub admin: Option<String>,
}

/// How to reach one DC.
#[derive(Debug, Clone)]
struct Candidate {
    settings: ConnectionSettings,
    /// The DC's host name when known (the SRV target, or a host name in a URL): the name its certificate and
    /// rootDSE must carry, and the Kerberos service principal's host.
    host: Option<String>,
}

/// Who signs in on a DC.
struct SignIn<'a> {
    admin: &'a str,
    password: &'a SecretRef,
    /// Where the password is named in the answers, for prompts and errors.
    what: String,
    spn_host: Option<&'a str>,
}

impl Dcs {
    /// Connects to the first DC (`url`, or through DNS), signs in, discovers the forest and checks it is the
    /// one the answers name.
    pub async fn open(directory: &Directory) -> Result<Self> {
        Self::open_pinned(directory, None, HashMap::new()).await
    }

    /// [`Dcs::open`] with the first DC and other domains' DCs given (from a journal) instead of the answers'
    /// `url`, `domains` and DNS.
    pub async fn open_pinned(
        directory: &Directory,
        primary: Option<ConnectionSettings>,
        pinned: HashMap<String, Pinned>,
    ) -> Result<Self> {
        let dns = OnceCell::new();
        let passwords = Mutex::new(HashMap::new());
        let candidates = match (primary, &directory.url) {
            (Some(settings), _) => vec![Candidate {
                host: settings.tls_name.clone().or_else(|| host_of(&settings.url)),
                settings,
            }],
            (None, Some(url)) => vec![Candidate {
                settings: ConnectionSettings {
                    url: url.clone(),
                    ..ConnectionSettings::from(directory)
                },
                host: host_of(url),
            }],
            (None, None) => {
                let dns = dns_for(&dns, directory).await?;
                let forest = directory.forest.trim();
                located(directory, dns, forest, forest).await?
            }
        };
        let sign_in = SignIn {
            admin: &directory.admin,
            password: &directory.admin_password,
            what: format!("admin_password ({})", directory.admin),
            spn_host: directory.spn_host.as_deref(),
        };
        let primary = connect_first(directory, &candidates, None, &sign_in, &passwords).await?;
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
        if let Some(name) = directory
            .domains
            .keys()
            .find(|name| forest.domain_named(name).is_none())
        {
            return Err(Error::usage(format!(
                "domains.{name:?}: forest {} has no such domain (domains: {})",
                forest.forest_name(),
                forest
                    .domains
                    .iter()
                    .map(|d| d.dns_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .hint("name a domain by its DNS or NetBIOS name"));
        }
        let cell = Arc::new(OnceCell::new_with(Some(primary.clone())));
        let sessions = std::sync::Mutex::new(HashMap::from([(forest.default_nc.key(), cell)]));
        Ok(Self {
            inner: Arc::new(Inner {
                directory: directory.clone(),
                forest,
                primary,
                sessions,
                dns,
                passwords,
                pinned,
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
        let cell = {
            let mut sessions =
                self.inner.sessions.lock().map_err(|_| {
                    Error::runtime("the DC list is unusable after an earlier failure")
                })?;
            sessions.entry(domain.nc.key()).or_default().clone()
        };
        cell.get_or_try_init(|| self.open_domain(domain))
            .await
            .cloned()
            .map_err(|e| e.context(format!("domain {}", domain.dns_name)))
    }

    async fn open_domain(&self, domain: &Domain) -> Result<Session> {
        let d = &self.inner.directory;
        let settings = d.domains.iter().find(|(name, _)| {
            name.eq_ignore_ascii_case(&domain.dns_name)
                || name.eq_ignore_ascii_case(&domain.netbios)
        });
        let pinned = self.inner.pinned.get(&domain.dns_name.to_ascii_lowercase());
        let candidates = match (pinned, settings.and_then(|(_, s)| s.url.clone())) {
            (Some(p), _) => vec![Candidate {
                host: p
                    .settings
                    .tls_name
                    .clone()
                    .or_else(|| host_of(&p.settings.url)),
                settings: p.settings.clone(),
            }],
            (None, Some(url)) => vec![Candidate {
                settings: ConnectionSettings {
                    url: url.clone(),
                    ..ConnectionSettings::from(d)
                },
                host: host_of(&url),
            }],
            (None, None) => {
                let dns = dns_for(&self.inner.dns, d).await.map_err(|e| {
                    e.hint(format!(
                        "give its DC in the answers: [directory.domains.\"{}\"] url = \"ldaps://dc.{}:636\"",
                        domain.dns_name, domain.dns_name
                    ))
                })?;
                located(d, dns, &domain.dns_name, d.forest.trim()).await?
            }
        };
        let own = settings.map(|(_, s)| s);
        let pinned_admin = pinned.and_then(|p| p.admin.clone());
        let (admin, password, what) = match (own, &pinned_admin) {
            (Some(s), _) if s.admin.is_some() => (
                s.admin.clone().unwrap_or_default(),
                s.admin_password.clone().unwrap_or(SecretRef::Prompt),
                format!("domains.{:?}.admin_password", domain.dns_name),
            ),
            (_, Some(a)) if !a.is_empty() => (
                a.clone(),
                d.admin_password.clone(),
                "admin_password".to_string(),
            ),
            _ => (
                d.admin.clone(),
                d.admin_password.clone(),
                "admin_password".to_string(),
            ),
        };
        let sign_in = SignIn {
            admin: &admin,
            what: format!("{what} ({admin})"),
            password: &password,
            spn_host: own.and_then(|s| s.spn_host.as_deref()),
        };
        connect_first(
            d,
            &candidates,
            Some(domain),
            &sign_in,
            &self.inner.passwords,
        )
        .await
    }

    /// A session on a DC of the domain that holds `dn`.
    pub async fn for_dn(&self, dn: &str) -> Result<Session> {
        let domain = self.domain_of(dn)?;
        self.for_domain(&domain).await
    }

    /// The forest's domain that holds `dn`.
    fn domain_of(&self, dn: &str) -> Result<Domain> {
        let parsed =
            Dn::parse(dn).map_err(|m| Error::usage(format!("{dn:?} is not a valid DN: {m}")))?;
        self.inner
            .forest
            .domain_of(&parsed)
            .cloned()
            .ok_or_else(|| {
                Error::usage(format!(
                    "{dn} is not in forest {}",
                    self.inner.forest.forest_name()
                ))
                .hint("list DNs that end with a domain of this forest")
            })
    }

    /// The objects' descriptors as they are now, each read on its own domain's DC (the domain of the DN
    /// given), many in one search: an object with a GUID is found by it wherever it is now (moved or
    /// renamed), one without by its DN. Per object, in the order given: the
    /// session it was read on and what was read (`None`: gone), or why it could not be read.
    pub async fn read_current(&self, targets: &[(&str, Option<Guid>)]) -> Vec<Result<ReadOn>> {
        let mut out: Vec<Option<Result<ReadOn>>> = targets.iter().map(|_| None).collect();
        let mut located = Vec::new();
        for (i, (dn, _)) in targets.iter().enumerate() {
            match self.domain_of(dn) {
                Ok(domain) => located.push((domain, i)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        for (domain, members) in by_domain(located) {
            let session = match self.for_domain(&domain).await {
                Ok(s) => s,
                Err(e) => {
                    for &i in &members {
                        out[i] = Some(Err(e.clone()));
                    }
                    continue;
                }
            };
            let (by_guid, by_dn): (Vec<usize>, Vec<usize>) =
                members.iter().partition(|&&i| targets[i].1.is_some());
            let guids: Vec<Guid> = by_guid.iter().filter_map(|&i| targets[i].1).collect();
            let dns: Vec<String> = by_dn.iter().map(|&i| targets[i].0.to_string()).collect();
            let nc = domain.nc.to_string();
            let by_dn_reads = session
                .read_current(&dns)
                .await
                .map(|reads| reads.into_iter().map(Ok).collect::<Vec<_>>());
            for (members, reads) in [
                (by_guid, session.read_current_by_guid(&nc, &guids).await),
                (by_dn, by_dn_reads),
            ] {
                match reads {
                    Ok(reads) => {
                        for (&i, read) in members.iter().zip(reads) {
                            out[i] = Some(read.map(|r| (session.clone(), r)));
                        }
                    }
                    Err(e) => {
                        for &i in &members {
                            out[i] = Some(Err(e.clone()));
                        }
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::runtime("not read"))))
            .collect()
    }

    /// The domains whose DC is open, with their sessions.
    /// The DCs that stopped answering (an operation timed out on them), by URL.
    pub async fn stalled(&self) -> Vec<String> {
        let mut out: Vec<String> = std::iter::once(self.inner.primary.clone())
            .chain(self.open_domains().await.into_iter().map(|(_, s)| s))
            .filter(Session::stalled)
            .map(|s| s.url.clone())
            .collect();
        out.dedup();
        out
    }

    pub async fn open_domains(&self) -> Vec<(Domain, Session)> {
        let Ok(sessions) = self.inner.sessions.lock().map(|s| s.clone()) else {
            return Vec::new();
        };
        self.inner
            .forest
            .domains
            .iter()
            .filter_map(|d| {
                sessions
                    .get(&d.nc.key())
                    .and_then(|c| c.get().cloned())
                    .map(|s| (d.clone(), s))
            })
            .collect()
    }

    pub async fn unbind(self) {
        for (_, s) in self.open_domains().await {
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
/// `tls` asks for), each by the address DNS gave and checked against the host name. Hosts outside the
/// domain's and the forest's DNS namespace are not trusted unless a private CA is named (`ca_file`).
async fn located(d: &Directory, dns: &Dns, domain: &str, forest: &str) -> Result<Vec<Candidate>> {
    let within = |host: &str, zone: &str| {
        let (host, zone) = (host.to_ascii_lowercase(), zone.to_ascii_lowercase());
        host == zone || host.ends_with(&format!(".{zone}"))
    };
    let hosts = dns.domain_controllers(domain).await?;
    let (trusted, outside): (Vec<_>, Vec<_>) = hosts
        .into_iter()
        .partition(|h| d.ca_file.is_some() || within(&h.host, domain) || within(&h.host, forest));
    if trusted.is_empty() {
        return Err(Error::runtime(format!(
            "DNS names DCs for {domain} outside its namespace ({}): not trusted without a private CA",
            outside
                .iter()
                .map(|h| h.host.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("set ca_file to the CA that issued the DCs' certificates (or give the DC's url)"));
    }
    let mut out = Vec::new();
    for h in trusted {
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

/// The host of a URL when it is a name (not an address).
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', ':']).next()?;
    (!host.is_empty() && host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('['))
        .then(|| host.to_ascii_lowercase())
}

/// Connects to the first candidate that is a writable DC of `domain` under the name it was found by, and
/// signs in there. A DC that cannot be reached, or is not what it should be, gives way to the next; a refused
/// sign-in is final (the next DC would refuse it too). The error lists what each candidate said.
async fn connect_first(
    d: &Directory,
    candidates: &[Candidate],
    domain: Option<&Domain>,
    who: &SignIn<'_>,
    passwords: &Mutex<HashMap<String, Arc<SecretString>>>,
) -> Result<Session> {
    let mut tried: Vec<String> = Vec::new();
    let mut last: Option<Error> = None;
    for c in candidates {
        let mut session = match Session::connect(&c.settings).await {
            Ok(s) => s,
            Err(e) => {
                tried.push(format!("{}: {}", c.settings.url, e.message));
                last = Some(e);
                continue;
            }
        };
        let about = match session.about().await {
            Ok(a) => a,
            Err(e) => {
                tried.push(format!("{}: {}", c.settings.url, e.message));
                last = Some(e);
                continue;
            }
        };
        let wrong = if about.read_only {
            Some("it is a read-only DC (RODC): writes would be refused".to_string())
        } else if let (Some(want), Some(nc)) = (domain, &about.default_nc)
            && !Dn::parse(nc).is_ok_and(|nc| nc.same_as(&want.nc))
        {
            Some(format!("it is a DC of {nc}, not of {}", want.nc))
        } else if let (Some(name), Some(host)) = (&c.settings.tls_name, &about.dns_host_name)
            && !name.eq_ignore_ascii_case(host)
        {
            Some(format!("it calls itself {host}, but DNS named it {name}"))
        } else {
            None
        };
        if let Some(why) = wrong {
            tried.push(format!("{}: {why}", c.settings.url));
            last = Some(Error::runtime(why));
            continue;
        }
        match d.auth {
            Auth::Simple => {
                let key = format!("{}\u{0}{}", who.password, who.admin.to_ascii_lowercase());
                let secret = {
                    let mut cache = passwords.lock().await;
                    match cache.get(&key) {
                        Some(s) => s.clone(),
                        None => {
                            let s = Arc::new(who.password.resolve(&who.what)?);
                            cache.insert(key, s.clone());
                            s
                        }
                    }
                };
                match session.bind(who.admin, &secret).await {
                    Ok(()) => {}
                    // Busy or unwilling: another DC may do.
                    Err(e) if super::errors::dc_busy(&e) => {
                        tried.push(format!("{}: {}", c.settings.url, e.message));
                        last = Some(e);
                        continue;
                    }
                    // invalidCredentials: the DC does not say whether the name or the password is wrong (AD
                    // answers "data 52e" for both, so that names cannot be guessed): name both fields.
                    Err(e) if super::errors::result_code(&e) == Some(49) => {
                        let password_field =
                            who.what.split(" (").next().unwrap_or("admin_password");
                        let admin_field = password_field.trim_end_matches("_password");
                        return Err(e.hint(format!(
                            "check {admin_field} ({}) and {password_field} ({}) in the answers file: the DC does not say which of the two is wrong",
                            who.admin, who.password
                        )));
                    }
                    Err(e) => return Err(e),
                }
            }
            Auth::Kerberos => {
                let spn_host = who
                    .spn_host
                    .map(str::to_string)
                    .or_else(|| c.host.clone())
                    .or(about.dns_host_name.clone())
                    .ok_or_else(|| {
                        Error::runtime(format!(
                            "{} does not say its host name (dnsHostName), which Kerberos needs",
                            c.settings.url
                        ))
                        .hint("set spn_host to the DC's host name")
                    })?;
                session.bind_kerberos(&spn_host).await?;
            }
        }
        return Ok(session);
    }
    match (tried.len(), last) {
        (0, _) => Err(Error::runtime("no DC to connect to")),
        (1, Some(e)) => Err(e),
        (_, last) => {
            let mut e = Error::runtime(format!("no usable DC: {}", tried.join("; ")));
            if let Some(hint) = last.and_then(|l| l.hint) {
                e = e.hint(hint);
            }
            Err(e)
        }
    }
}
