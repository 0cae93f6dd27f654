//! LDAP failures in an administrator's words: what failed, why, and what to do.

use ldap3::LdapError;

use crate::error::Error;

/// Explains an AD bind failure from the `data XXX` code in the diagnostic text (MS-ADTS / KB 2960042).
fn bind_reason(text: &str) -> Option<&'static str> {
    let code = text
        .split("data ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_hexdigit())
        .next()?;
    Some(match code.to_ascii_lowercase().as_str() {
        "52e" => "invalid credentials (wrong password or user name)",
        "525" => "no such user",
        "530" => "logon not permitted at this time",
        "531" => "logon not permitted from this workstation",
        "532" => "the password has expired",
        "533" => "the account is disabled",
        "701" => "the account has expired",
        "773" => "the user must change the password before logging on",
        "775" => "the account is locked out",
        _ => return None,
    })
}

/// Turns an ldap3 error from `action` (e.g. "cannot bind as CORP\\admin") into an [`Error`] with a hint.
pub fn ldap_error(action: &str, err: LdapError) -> Error {
    explain(action, &err).caused_by(err)
}

/// A failed Kerberos bind in plain words: what to run or fix.
#[cfg(feature = "kerberos")]
pub fn kerberos_error(url: &str, spn_host: &str, err: LdapError) -> Error {
    let text = err.to_string();
    let lower = text.to_ascii_lowercase();
    let action =
        format!("cannot sign in to {url} with Kerberos (service principal ldap/{spn_host})");
    let hint = if lower.contains("no kerberos credentials") || lower.contains("no credentials") {
        "there is no ticket: run kinit user@REALM (and check KRB5CCNAME)".to_string()
    } else if lower.contains("expired") {
        "the ticket has expired: run kinit user@REALM again".to_string()
    } else if lower.contains("server not found in kerberos database") {
        format!(
            "the KDC does not know ldap/{spn_host}: check the DC's host name (spn_host in the answers)"
        )
    } else if lower.contains("clock skew") {
        "this machine's clock differs from the DC's by more than 5 minutes: sync it (NTP)"
            .to_string()
    } else {
        "check the ticket (klist), the realm in krb5.conf (KRB5_CONFIG) and the DC's host name"
            .to_string()
    };
    Error::runtime(format!("{action}: {text}"))
        .hint(hint)
        .caused_by(err)
}

/// Whether the server answered with a result code (so the operation was refused and changed nothing), as
/// opposed to no answer at all (timeout, lost connection), after which the outcome is unknown.
pub fn refused_by_server(error: &Error) -> bool {
    error
        .source
        .as_deref()
        .and_then(|s| s.downcast_ref::<LdapError>())
        .is_some_and(|e| matches!(e, LdapError::LdapResult { .. }))
}

/// Whether the server answered that the base of a search or the object of an operation is not there:
/// noSuchObject (32), or invalidDNSyntax (34), a name the DC cannot parse, which no object can have.
pub fn no_such_object(error: &Error) -> bool {
    matches!(result_code(error), Some(code) if names_no_object(code))
}

/// noSuchObject (32) or invalidDNSyntax (34): no object has the name asked for.
pub(crate) fn names_no_object(result_code: u32) -> bool {
    matches!(result_code, 32 | 34)
}

/// The LDAP result code the server answered with, when the error is such an answer.
pub fn result_code(error: &Error) -> Option<u32> {
    match error
        .source
        .as_deref()
        .and_then(|s| s.downcast_ref::<LdapError>())?
    {
        LdapError::LdapResult { result } => Some(result.rc),
        _ => None,
    }
}

/// Busy (51), unavailable (52) or unwilling to perform (53): this DC said no for now; another may not.
pub fn dc_busy(error: &Error) -> bool {
    matches!(result_code(error), Some(51..=53))
}

fn explain(action: &str, err: &LdapError) -> Error {
    match err {
        LdapError::LdapResult { result } => {
            let text = result.text.trim_end_matches('\0').trim();
            let (reason, hint) = match result.rc {
                49 => (
                    bind_reason(text)
                        .unwrap_or("invalid credentials")
                        .to_string(),
                    "check the account and its password reference (env:/file:/prompt) in the answers file",
                ),
                50 => (
                    "insufficientAccessRights (50)".to_string(),
                    "the admin account needs Read permissions and Modify permissions on this object (a Domain Admin has them)",
                ),
                32 => (
                    "noSuchObject (32): it does not exist".to_string(),
                    "check the DN's spelling; list OUs with: ldapsearch -b <domain DN> '(objectClass=organizationalUnit)' dn",
                ),
                34 => (
                    "invalidDNSyntax (34)".to_string(),
                    "write the DN as OU=Name,DC=example,DC=com",
                ),
                8 => (
                    "strongerAuthRequired (8): the server wants TLS".to_string(),
                    "use ldaps:// or tls = \"starttls\"",
                ),
                10 => (
                    "referral (10): the object lives in another domain or forest (referrals are not followed)".to_string(),
                    "if it is a domain of this forest, name its DC: [directory.domains.\"child.example.com\"] url = \"ldaps://dc.child.example.com:636\" (or let DNS find it); another forest needs its own [[directory]]",
                ),
                53 => (
                    "unwillingToPerform (53)".to_string(),
                    "the server refused the operation; see its diagnostic text above",
                ),
                rc => (
                    format!("LDAP result {rc}"),
                    "see the server's diagnostic text",
                ),
            };
            let detail = if text.is_empty() {
                String::new()
            } else {
                format!(" [{text}]")
            };
            Error::runtime(format!("{action}: {reason}{detail}")).hint(hint)
        }
        LdapError::Io { source } => match source
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            Some(tls) => tls_error(action, tls),
            None => io_error(action, &source.to_string()),
        },
        LdapError::Timeout { .. } => Error::runtime(format!("{action}: timed out"))
            .hint("check the host, port and firewall; is the DC up?"),
        LdapError::Rustls { source } => tls_error(action, source),
        LdapError::UrlParsing { source } => {
            Error::usage(format!("{action}: invalid URL: {source}"))
                .hint("write ldaps://dc.example.com:636")
        }
        // The connection ended with no LDAP answer: what listens there is not a DC that works.
        LdapError::ResultRecv { .. }
        | LdapError::OpSend { .. }
        | LdapError::IdScrubSend { .. }
        | LdapError::EndOfStream => Error::runtime(format!(
            "{action}: the server closed the connection without an LDAP answer"
        ))
        .hint("check the host and port in url: is it a DC's LDAP port (636 for ldaps://, 389 for ldap://)?"),
        other => Error::runtime(format!("{action}: {other}"))
            .hint("check the url, the network and the DC"),
    }
}

/// A failed TLS handshake, told by rustls' error kind: each certificate problem has its own fix.
fn tls_error(action: &str, err: &rustls::Error) -> Error {
    use rustls::CertificateError as C;
    let certificate = match err {
        rustls::Error::InvalidCertificate(c) => c,
        other => return io_error(action, &other.to_string()),
    };
    let (reason, hint) = match certificate {
        C::Expired | C::ExpiredContext { .. } => (
            "the DC's certificate has expired".to_string(),
            "renew the DC's certificate (or, if it is still valid, set this machine's clock right)",
        ),
        C::NotValidYet | C::NotValidYetContext { .. } => (
            "the DC's certificate is not valid yet".to_string(),
            "check this machine's clock and the DC's (NTP), or the certificate's start date",
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            err.to_string(),
            "name the DC in url by a name its certificate carries (its host name, usually), not by another name or address",
        ),
        C::UnknownIssuer => (
            err.to_string(),
            "the DC's certificate is not trusted: set ca_file to the PEM of the CA that issued it (never switch verification off in production)",
        ),
        _ => (
            err.to_string(),
            "the DC's certificate was refused: check it, and that ca_file holds the CA that issued it",
        ),
    };
    Error::runtime(format!("{action}: {reason}")).hint(hint)
}

fn io_error(action: &str, text: &str) -> Error {
    let lower = text.to_ascii_lowercase();
    let hint = if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("handshake")
    {
        "the DC's certificate is not trusted: set ca_file to the PEM of the CA that issued it (never switch verification off in production)"
    } else if lower.contains("refused") {
        "nothing listens there: check the host and port in url, and that the DC is running"
    } else if lower.contains("unreachable")
        || lower.contains("timed out")
        || lower.contains("no route")
    {
        "the host cannot be reached: check the address, the network and the firewall"
    } else if lower.contains("lookup")
        || lower.contains("resolve")
        || lower.contains("name or service")
    {
        "the host name does not resolve: check url"
    } else {
        "check the url, the network and the DC"
    };
    Error::runtime(format!("{action}: {text}")).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ad_bind_data_codes() {
        let text = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 775, v4563";
        assert_eq!(bind_reason(text), Some("the account is locked out"));
        assert_eq!(
            bind_reason("data 52e, v893"),
            Some("invalid credentials (wrong password or user name)")
        );
        assert_eq!(bind_reason("no data here"), None);
        for (code, words) in [
            ("525", "no such user"),
            ("530", "time"),
            ("531", "workstation"),
            ("532", "expired"),
            ("533", "disabled"),
            ("701", "account has expired"),
            ("773", "must change"),
        ] {
            assert!(
                bind_reason(&format!("error, data {code}, v1"))
                    .unwrap()
                    .contains(words),
                "{code}"
            );
        }
    }

    #[test]
    fn busy_is_told_by_the_result_code_not_the_words() {
        let answer = |rc: u32, text: &str| {
            ldap_error(
                "cannot bind",
                LdapError::LdapResult {
                    result: ldap3::LdapResult {
                        rc,
                        matched: String::new(),
                        text: text.into(),
                        refs: Vec::new(),
                        ctrls: Vec::new(),
                    },
                },
            )
        };
        assert!(dc_busy(&answer(51, "")));
        assert!(dc_busy(&answer(53, "")));
        assert!(
            !dc_busy(&answer(49, "server busy (51)")),
            "words are not a kind"
        );
        assert!(!dc_busy(&Error::runtime("busy (51)")));
        assert!(no_such_object(&answer(32, "")));
        assert!(
            no_such_object(&answer(34, "")),
            "a DN the DC cannot parse names no object"
        );
        assert!(!no_such_object(&answer(50, "")));
    }
}
