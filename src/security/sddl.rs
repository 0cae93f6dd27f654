//! SDDL text ([MS-DTYP] 2.5.1) for plans, logs and check output, and parsing of single ACE strings such as
//! `(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)`.

use std::fmt;

use super::access_mask::{AccessMask, SDDL_RIGHTS};
use super::ace::{AccessBody, Ace, AceBody, AceFlags, AceType};
use super::acl::Acl;
use super::descriptor::{Control, SecurityDescriptor};
use super::guid::Guid;
use super::sid::Sid;

/// Well-known SIDs with a fixed SDDL alias, as (alias, identifier authority, sub-authorities). Domain-relative
/// ones (DA, EA, …) are shown as full SIDs.
const SID_ALIASES: &[(&str, u64, &[u32])] = &[
    ("WD", 1, &[0]),
    ("CO", 3, &[0]),
    ("CG", 3, &[1]),
    ("ED", 5, &[9]),
    ("PS", 5, &[10]),
    ("AU", 5, &[11]),
    ("SY", 5, &[18]),
    ("LS", 5, &[19]),
    ("NS", 5, &[20]),
    ("BA", 5, &[32, 544]),
    ("BU", 5, &[32, 545]),
    ("BG", 5, &[32, 546]),
    ("PU", 5, &[32, 547]),
    ("AO", 5, &[32, 548]),
    ("SO", 5, &[32, 549]),
    ("PO", 5, &[32, 550]),
    ("BO", 5, &[32, 551]),
    ("RE", 5, &[32, 552]),
    ("RU", 5, &[32, 554]),
];

const ACE_FLAGS: &[(&str, u8)] = &[
    ("OI", AceFlags::OBJECT_INHERIT),
    ("CI", AceFlags::CONTAINER_INHERIT),
    ("NP", AceFlags::NO_PROPAGATE_INHERIT),
    ("IO", AceFlags::INHERIT_ONLY),
    ("ID", AceFlags::INHERITED),
    ("SA", AceFlags::SUCCESSFUL_ACCESS),
    ("FA", AceFlags::FAILED_ACCESS),
];

const ACE_TYPES: &[(&str, AceType)] = &[
    ("A", AceType::AccessAllowed),
    ("D", AceType::AccessDenied),
    ("AU", AceType::SystemAudit),
    ("OA", AceType::AccessAllowedObject),
    ("OD", AceType::AccessDeniedObject),
    ("OU", AceType::SystemAuditObject),
];

/// The fixed SDDL alias of a well-known SID, if it has one (compared structurally: no text is built).
fn sid_alias(sid: &Sid) -> Option<&'static str> {
    if sid.revision() != 1 {
        return None;
    }
    let (authority, subs) = (sid.authority_value(), sid.sub_authorities());
    SID_ALIASES
        .iter()
        .find(|(_, a, s)| *a == authority && *s == subs)
        .map(|(alias, _, _)| *alias)
}

struct SidText<'a>(&'a Sid);

impl fmt::Display for SidText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match sid_alias(self.0) {
            Some(alias) => f.write_str(alias),
            None => fmt::Display::fmt(self.0, f),
        }
    }
}

struct FlagsText(u8);

impl fmt::Display for FlagsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (code, bit) in ACE_FLAGS {
            if self.0 & bit != 0 {
                f.write_str(code)?;
            }
        }
        let known: u8 = ACE_FLAGS.iter().fold(0, |a, (_, b)| a | b);
        if self.0 & !known != 0 {
            write!(f, "0x{:02x}", self.0 & !known)?;
        }
        Ok(())
    }
}

struct RightsText(AccessMask);

impl fmt::Display for RightsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: u32 = SDDL_RIGHTS.iter().fold(0, |a, (_, b)| a | b);
        if self.0.0 & !known != 0 {
            return write!(f, "0x{:x}", self.0.0);
        }
        for (code, bit) in SDDL_RIGHTS {
            if self.0.0 & bit != 0 {
                f.write_str(code)?;
            }
        }
        Ok(())
    }
}

struct GuidText(Option<Guid>);

impl fmt::Display for GuidText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(g) => fmt::Display::fmt(&g, f),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Ace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            AceBody::Access(a) => {
                let ty = ACE_TYPES
                    .iter()
                    .find(|(_, t)| *t == self.ace_type)
                    .map_or("?", |(s, _)| s);
                write!(
                    f,
                    "({ty};{};{};{};{};{})",
                    FlagsText(self.flags.0),
                    RightsText(a.mask),
                    GuidText(a.object_type),
                    GuidText(a.inherited_object_type),
                    SidText(&a.sid)
                )
            }
            // Not valid SDDL on purpose: we never interpret these, we only show that they are there.
            AceBody::Opaque(bytes) => {
                write!(
                    f,
                    "(type 0x{:02x};{};",
                    u8::from(self.ace_type),
                    FlagsText(self.flags.0)
                )?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn acl_text(
    f: &mut fmt::Formatter<'_>,
    tag: &str,
    acl: Option<&Acl>,
    control: Control,
    protected: u16,
    req: u16,
    auto: u16,
) -> fmt::Result {
    f.write_str(tag)?;
    if control.contains(protected) {
        f.write_str("P")?;
    }
    if control.contains(req) {
        f.write_str("AR")?;
    }
    if control.contains(auto) {
        f.write_str("AI")?;
    }
    match acl {
        Some(acl) => acl.aces.iter().try_for_each(|a| fmt::Display::fmt(a, f)),
        None => f.write_str("NO_ACCESS_CONTROL"),
    }
}

impl fmt::Display for SecurityDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(o) = &self.owner {
            write!(f, "O:{}", SidText(o))?;
        }
        if let Some(g) = &self.group {
            write!(f, "G:{}", SidText(g))?;
        }
        if self.control.contains(Control::DACL_PRESENT) {
            acl_text(
                f,
                "D:",
                self.dacl.as_ref(),
                self.control,
                Control::DACL_PROTECTED,
                Control::DACL_AUTO_INHERIT_REQ,
                Control::DACL_AUTO_INHERITED,
            )?;
        }
        if self.control.contains(Control::SACL_PRESENT) {
            acl_text(
                f,
                "S:",
                self.sacl.as_ref(),
                self.control,
                Control::SACL_PROTECTED,
                0x0200,
                0x0800,
            )?;
        }
        Ok(())
    }
}

/// Why an SDDL string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ACE string {text:?}: {reason}")]
pub struct SddlError {
    pub text: String,
    pub reason: String,
}

/// Parses a SID string or a fixed SDDL alias (`SY`, `BA`, …).
pub fn parse_sid(text: &str) -> Result<Sid, String> {
    let full = match SID_ALIASES
        .iter()
        .find(|(a, _, _)| a.eq_ignore_ascii_case(text))
    {
        Some((_, authority, subs)) => subs
            .iter()
            .fold(format!("S-1-{authority}"), |out, s| format!("{out}-{s}")),
        None => text.to_string(),
    };
    full.parse::<Sid>().map_err(|e| e.to_string())
}

/// Parses one allow/deny/audit ACE string: `(type;flags;rights;object_guid;inherit_object_guid;sid)`.
pub fn parse_ace(text: &str) -> Result<Ace, SddlError> {
    let fail = |reason: String| SddlError {
        text: text.to_string(),
        reason,
    };
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| fail("expected an ACE in parentheses".into()))?;
    let fields: Vec<&str> = inner.split(';').collect();
    if fields.len() != 6 {
        return Err(fail(format!(
            "expected 6 fields separated by ';', found {}",
            fields.len()
        )));
    }
    let ace_type = ACE_TYPES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(fields[0]))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            fail(format!(
                "unknown ACE type {:?} (A, D, AU, OA, OD, OU)",
                fields[0]
            ))
        })?;
    let flags = parse_codes(
        fields[1],
        ACE_FLAGS.iter().map(|(c, b)| (*c, u32::from(*b))),
    )
    .map_err(fail)? as u8;
    let mask = if let Some(hex) = fields[2]
        .strip_prefix("0x")
        .or_else(|| fields[2].strip_prefix("0X"))
    {
        u32::from_str_radix(hex, 16)
            .map_err(|_| fail(format!("invalid hexadecimal rights {:?}", fields[2])))?
    } else {
        parse_codes(fields[2], SDDL_RIGHTS.iter().copied()).map_err(fail)?
    };
    let guid = |s: &str| -> Result<Option<Guid>, SddlError> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse()
                .map(Some)
                .map_err(|e: super::guid::ParseGuidError| fail(e.to_string()))
        }
    };
    let object_type = guid(fields[3])?;
    let inherited_object_type = guid(fields[4])?;
    let is_object = matches!(
        ace_type,
        AceType::AccessAllowedObject | AceType::AccessDeniedObject | AceType::SystemAuditObject
    );
    if !is_object && (object_type.is_some() || inherited_object_type.is_some()) {
        return Err(fail(format!(
            "ACE type {:?} takes no object GUIDs; use OA/OD/OU",
            fields[0]
        )));
    }
    let sid = parse_sid(fields[5]).map_err(fail)?;
    Ok(Ace {
        ace_type,
        flags: AceFlags(flags),
        body: AceBody::Access(AccessBody {
            mask: AccessMask(mask),
            object_type,
            inherited_object_type,
            sid,
        }),
    })
}

/// Concatenated two-letter codes, e.g. `CIIO` or `RPWPCR`.
fn parse_codes(
    text: &str,
    table: impl Iterator<Item = (&'static str, u32)> + Clone,
) -> Result<u32, String> {
    let mut value = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let code = rest
            .get(..2)
            .ok_or_else(|| format!("unknown code {rest:?}"))?;
        let bits = table
            .clone()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, b)| b)
            .ok_or_else(|| format!("unknown code {code:?}"))?;
        value |= bits;
        rest = &rest[2..];
    }
    Ok(value)
}
