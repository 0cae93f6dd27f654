//! Finding a domain's DCs from its DNS name, as a domain-joined machine does: the SRV records
//! `_ldap._tcp.dc._msdcs.<domain>` ([MS-ADTS] 6.3.2.3), then each host's address. The system's resolver, or
//! one DNS server named in the answers (`dns_server`) or with `--dns-server`.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;

use crate::error::{Error, Result};

/// A DC as DNS names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcHost {
    /// The host name from the SRV record (what the DC's certificate names).
    pub host: String,
    pub address: IpAddr,
}

pub struct Dns {
    resolver: TokioResolver,
    /// Where lookups go, for messages.
    server: String,
}

impl Dns {
    /// The system's resolver, or `server`.
    pub fn new(server: Option<SocketAddr>) -> Result<Self> {
        let (resolver, name) = match server {
            Some(addr) => {
                let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                let config = ResolverConfig::from_parts(None, Vec::new(), group);
                (
                    TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                        .build(),
                    addr.to_string(),
                )
            }
            None => (
                TokioResolver::builder_tokio()
                    .map_err(|e| {
                        Error::runtime(format!("cannot read the system's DNS settings: {e}")).hint(
                            "name a DNS server with dns_server in the answers, or --dns-server",
                        )
                    })?
                    .build(),
                "the system resolver".to_string(),
            ),
        };
        Ok(Self {
            resolver,
            server: name,
        })
    }

    /// The DCs of `domain` (DNS name), in SRV priority and weight order, each with an address.
    pub async fn domain_controllers(&self, domain: &str) -> Result<Vec<DcHost>> {
        let record = format!("_ldap._tcp.dc._msdcs.{}", domain.trim_end_matches('.'));
        let found = self.resolver.srv_lookup(format!("{record}.")).await.map_err(|e| {
            Error::runtime(format!(
                "no DC found for {domain}: DNS lookup of the SRV record {record} at {} failed: {e}",
                self.server
            ))
            .hint("check the forest or domain name, and that this DNS server answers for it (dns_server / --dns-server); or give the DC's url in the answers")
        })?;
        let mut srv: Vec<_> = found.iter().cloned().collect();
        // Lowest priority first; among equals, the heaviest first (a deterministic reading of RFC 2782).
        srv.sort_by_key(|r| (r.priority(), std::cmp::Reverse(r.weight())));
        let mut out = Vec::new();
        for r in srv {
            let host = r
                .target()
                .to_utf8()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if host.is_empty() {
                continue;
            }
            match self.resolver.lookup_ip(format!("{host}.")).await {
                Ok(ips) => {
                    if let Some(address) = ips.iter().next() {
                        out.push(DcHost { host, address });
                    }
                }
                Err(e) => tracing::debug!("{host} from {record} has no address: {e}"),
            }
        }
        if out.is_empty() {
            return Err(Error::runtime(format!(
                "no DC found for {domain}: {record} at {} names no host with an address",
                self.server
            ))
            .hint("check the DNS records of the domain, or give the DC's url in the answers"));
        }
        Ok(out)
    }
}
