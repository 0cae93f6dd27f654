//! Distinguished names (RFC 4514) as far as we need them: validate before any I/O, split into RDNs, compare
//! case-insensitively, and escape values put into LDAP filters (RFC 4515).

/// A syntactically valid DN, kept as the user wrote it. Two DNs are the same when their attribute names match
/// and their values match once escapes are undone and case is folded (Unicode, as AD compares them):
/// `OU=Smith\, Jörg` and `ou=smith\2C JÖRG` name one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dn {
    text: String,
    /// (attribute upper case, value as written, value folded for comparing)
    rdns: Vec<(String, String, String)>,
}

impl Dn {
    /// Parses `OU=Users,OU=Corp,DC=corp,DC=example,DC=test`. Errors say what is wrong in plain words.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the DN is empty".into());
        }
        let mut rdns = Vec::new();
        for part in split_unescaped(trimmed, ',')? {
            // Multi-valued RDNs (a+b) are legal but never needed here; keep them as one value.
            let (attr, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{:?} is not of the form NAME=value", part.trim()))?;
            let attr = attr.trim();
            let valid_attr = !attr.is_empty()
                && (attr.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && attr.as_bytes()[0].is_ascii_alphabetic()
                    || attr.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
            if !valid_attr {
                return Err(format!(
                    "{attr:?} is not an attribute name (OU, CN, DC, ...)"
                ));
            }
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("{attr}= has an empty value"));
            }
            rdns.push((attr.to_ascii_uppercase(), value.to_string(), fold(value)));
        }
        Ok(Self {
            text: trimmed.to_string(),
            rdns,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The DC= components as a DNS name: `DC=corp,DC=example,DC=test` → `corp.example.test`.
    pub fn dns_name(&self) -> String {
        self.rdns
            .iter()
            .filter(|(a, _, _)| a == "DC")
            .map(|(_, _, folded)| folded.clone())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Whether `self` is `other` or lies below it.
    pub fn is_within(&self, other: &Dn) -> bool {
        let n = other.rdns.len();
        self.rdns.len() >= n
            && self.rdns[self.rdns.len() - n..]
                .iter()
                .zip(&other.rdns)
                .all(|((a1, _, v1), (a2, _, v2))| a1 == a2 && v1 == v2)
    }

    /// The DN one level up, if there is one.
    pub fn parent(&self) -> Option<Dn> {
        if self.rdns.len() < 2 {
            return None;
        }
        let rdns = self.rdns[1..].to_vec();
        let text = rdns
            .iter()
            .map(|(a, v, _)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        Some(Self { text, rdns })
    }

    /// The first RDN's attribute name (`OU`, `CN`, `DC`, ...), upper case.
    pub fn first_attribute(&self) -> Option<&str> {
        self.rdns.first().map(|(a, _, _)| a.as_str())
    }

    /// Whether the first RDN is `DC=`: a domain's root (or a DNS-style container), whose parent is not in
    /// its naming context.
    pub fn is_domain_component(&self) -> bool {
        self.first_attribute() == Some("DC")
    }

    /// The first RDN's value, when it is plain (one attribute, no escapes or quotes): what the object's `name`
    /// attribute holds, unique among its siblings.
    pub fn plain_name(&self) -> Option<&str> {
        let (_, value, _) = self.rdns.first()?;
        (!value.contains(['\\', '"', '+']) && !value.starts_with('#')).then_some(value.as_str())
    }

    /// A key equal for DNs that [`Dn::same_as`] calls the same (case and spacing folded).
    pub fn key(&self) -> String {
        Self::key_of(&self.rdns)
    }

    /// The keys of every ancestor, nearest first.
    pub fn ancestor_keys(&self) -> impl Iterator<Item = String> + '_ {
        (1..self.rdns.len()).map(|i| Self::key_of(&self.rdns[i..]))
    }

    fn key_of(rdns: &[(String, String, String)]) -> String {
        rdns.iter()
            .map(|(a, _, folded)| format!("{a}={}", escape_key(folded)))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn same_as(&self, other: &Dn) -> bool {
        self.rdns.len() == other.rdns.len() && self.is_within(other)
    }
}

impl std::fmt::Display for Dn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// An RDN value as AD compares it: escapes undone (`\,` and `\2C` alike, hex escapes as UTF-8 bytes),
/// surrounding quotes dropped, case folded. The RFC 4514 `#hex` form is only case folded.
fn fold(value: &str) -> String {
    if value.starts_with('#') {
        return value.to_lowercase();
    }
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let hex: String = chars.clone().take(2).collect();
        match u8::from_str_radix(&hex, 16) {
            Ok(b) if hex.len() == 2 && hex.chars().all(|h| h.is_ascii_hexdigit()) => {
                bytes.push(b);
                chars.next();
                chars.next();
            }
            _ => {
                if let Some(next) = chars.next() {
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).to_lowercase()
}

/// A folded value written back so that a key cannot be mistaken for another (`,` `=` `+` `\` escaped).
fn escape_key(folded: &str) -> String {
    folded
        .chars()
        .map(|c| match c {
            ',' | '=' | '+' | '\\' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

fn split_unescaped(text: &str, sep: char) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut start, mut escaped, mut quoted) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if escaped {
        return Err("the DN ends with a lone backslash".into());
    }
    if quoted {
        return Err("the DN has an unclosed quote".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// Escapes a value for an LDAP filter (RFC 4515 section 3): `*`, `(`, `)`, `\\` and NUL become `\2a` etc.
pub fn escape_filter_value(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '*' | '(' | ')' | '\\' | '\0' => format!("\\{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// A binary value (objectGUID, objectSid) as an LDAP filter value: every byte escaped as `\\xx`.
pub fn escape_filter_bytes(value: &[u8]) -> String {
    value.iter().map(|b| format!("\\{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_first_rdn_gives_a_name() {
        let name = |dn: &str| Dn::parse(dn).unwrap().plain_name().map(str::to_string);
        assert_eq!(name("OU=Sales (EU),DC=corp"), Some("Sales (EU)".into()));
        assert_eq!(name("OU=Smith\\, John,DC=corp"), None);
        assert_eq!(name("OU=\"Quoted\",DC=corp"), None);
        assert_eq!(name("OU=a+CN=b,DC=corp"), None);
        assert_eq!(name("OU=#04024869,DC=corp"), None, "the RFC 4514 hex form");
    }

    #[test]
    fn binary_filter_values_escape_every_byte() {
        assert_eq!(escape_filter_bytes(&[0x00, 0x2a, 0xff]), "\\00\\2a\\ff");
    }

    #[test]
    fn parses_and_compares() {
        let ou = Dn::parse("OU=Users, OU=Corp,DC=corp,DC=example,DC=test").unwrap();
        let root = Dn::parse("dc=CORP,dc=example,dc=test").unwrap();
        assert!(ou.is_within(&root));
        assert!(!root.is_within(&ou));
        assert!(root.same_as(&Dn::parse("DC=corp,DC=example,DC=test").unwrap()));
        assert_eq!(ou.dns_name(), "corp.example.test");
        assert!(
            Dn::parse(r"CN=Smith\, John,OU=A,DC=x")
                .unwrap()
                .is_within(&Dn::parse("OU=A,DC=x").unwrap())
        );
    }

    #[test]
    fn escapes_and_unicode_case_are_folded_like_ad() {
        let a = Dn::parse(r"OU=Smith\, Jörg,OU=ÄRGER,DC=x").unwrap();
        let b = Dn::parse(r"ou=smith\2C JÖRG,OU=ärger,dc=X").unwrap();
        assert!(a.same_as(&b));
        assert_eq!(a.key(), b.key());
        assert!(a.is_within(&Dn::parse("OU=ärger,DC=x").unwrap()));
        // A comma inside a value is not a separator: the parent is OU=ÄRGER, not " Jörg,...".
        assert_eq!(
            a.parent().unwrap().key(),
            Dn::parse("OU=Ärger,DC=x").unwrap().key()
        );
        assert_ne!(
            Dn::parse(r"OU=a\,b,DC=x").unwrap().key(),
            Dn::parse("OU=a,OU=b,DC=x").unwrap().key()
        );
        assert!(Dn::parse("DC=x").unwrap().is_domain_component());
        assert!(!Dn::parse("OU=x,DC=x").unwrap().is_domain_component());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "Users",
            "OU=Users,,DC=x",
            "OU=,DC=x",
            "=x,DC=y",
            "OU=x\\",
            "O U=x",
            "OU=\"x,DC=y",
        ] {
            assert!(Dn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escapes_filter_values() {
        assert_eq!(escape_filter_value("a*b(c)\\d"), "a\\2ab\\28c\\29\\5cd");
        assert_eq!(escape_filter_value("jörg*"), "jörg\\2a");
    }
}
