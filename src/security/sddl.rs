//! SDDL text ([MS-DTYP] 2.5.1) for plans, logs and check output, and parsing of single ACE strings such as
//! `(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)`.

use std::fmt::{self, Write as _};

use super::access_mask::{AccessMask, SDDL_RIGHTS};
use super::ace::{AccessBody, Ace, AceBody, AceFlags, AceType};
use super::acl::Acl;
use super::descriptor::{Control, SecurityDescriptor};
use super::guid::Guid;
use super::sid::Sid;

/// Well-known SIDs with a fixed SDDL alias. Domain-relative ones (DA, EA, …) are shown as full SIDs.
const SID_ALIASES: &[(&str, &str)] = &[
    ("WD", "S-1-1-0"),
    ("CO", "S-1-3-0"),
    ("CG", "S-1-3-1"),
    ("ED", "S-1-5-9"),
    ("PS", "S-1-5-10"),
    ("AU", "S-1-5-11"),
    ("SY", "S-1-5-18"),
    ("LS", "S-1-5-19"),
    ("NS", "S-1-5-20"),
    ("BA", "S-1-5-32-544"),
    ("BU", "S-1-5-32-545"),
    ("BG", "S-1-5-32-546"),
    ("PU", "S-1-5-32-547"),
    ("AO", "S-1-5-32-548"),
    ("SO", "S-1-5-32-549"),
    ("PO", "S-1-5-32-550"),
    ("BO", "S-1-5-32-551"),
    ("RE", "S-1-5-32-552"),
    ("RU", "S-1-5-32-554"),
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

fn sid_text(sid: &Sid) -> String {
    let full = sid.to_string();
    SID_ALIASES
        .iter()
        .find(|(_, s)| *s == full)
        .map_or(full, |(alias, _)| alias.to_string())
}

fn flags_text(flags: u8) -> String {
    let mut out: String = ACE_FLAGS
        .iter()
        .filter(|(_, b)| flags & b != 0)
        .map(|(code, _)| *code)
        .collect();
    let known: u8 = ACE_FLAGS.iter().map(|(_, b)| b).fold(0, |a, b| a | b);
    if flags & !known != 0 {
        let _ = write!(out, "0x{:02x}", flags & !known);
    }
    out
}

fn rights_text(mask: AccessMask) -> String {
    let known: u32 = SDDL_RIGHTS.iter().map(|(_, b)| b).fold(0, |a, b| a | b);
    if mask.0 & !known != 0 {
        return format!("0x{:x}", mask.0);
    }
    SDDL_RIGHTS
        .iter()
        .filter(|(_, b)| mask.0 & b != 0)
        .map(|(code, _)| *code)
        .collect()
}

impl fmt::Display for Ace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.body {
            AceBody::Access(a) => {
                let ty = ACE_TYPES
                    .iter()
                    .find(|(_, t)| *t == self.ace_type)
                    .map_or("?", |(s, _)| s);
                let guid = |g: Option<Guid>| g.map(|g| g.to_string()).unwrap_or_default();
                write!(
                    f,
                    "({ty};{};{};{};{};{})",
                    flags_text(self.flags.0),
                    rights_text(a.mask),
                    guid(a.object_type),
                    guid(a.inherited_object_type),
                    sid_text(&a.sid)
                )
            }
            // Not valid SDDL on purpose: we never interpret these, we only show that they are there.
            AceBody::Opaque(bytes) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "(type 0x{:02x};{};{hex})",
                    u8::from(self.ace_type),
                    flags_text(self.flags.0)
                )
            }
        }
    }
}

fn acl_text(
    out: &mut String,
    tag: &str,
    acl: Option<&Acl>,
    control: Control,
    protected: u16,
    req: u16,
    auto: u16,
) {
    out.push_str(tag);
    if control.contains(protected) {
        out.push('P');
    }
    if control.contains(req) {
        out.push_str("AR");
    }
    if control.contains(auto) {
        out.push_str("AI");
    }
    match acl {
        Some(acl) => acl.aces.iter().for_each(|a| out.push_str(&a.to_string())),
        None => out.push_str("NO_ACCESS_CONTROL"),
    }
}

impl fmt::Display for SecurityDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if let Some(o) = &self.owner {
            out.push_str(&format!("O:{}", sid_text(o)));
        }
        if let Some(g) = &self.group {
            out.push_str(&format!("G:{}", sid_text(g)));
        }
        if self.control.contains(Control::DACL_PRESENT) {
            acl_text(
                &mut out,
                "D:",
                self.dacl.as_ref(),
                self.control,
                Control::DACL_PROTECTED,
                Control::DACL_AUTO_INHERIT_REQ,
                Control::DACL_AUTO_INHERITED,
            );
        }
        if self.control.contains(Control::SACL_PRESENT) {
            acl_text(
                &mut out,
                "S:",
                self.sacl.as_ref(),
                self.control,
                Control::SACL_PROTECTED,
                0x0200,
                0x0800,
            );
        }
        f.write_str(&out)
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
    let full = SID_ALIASES
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(text))
        .map_or(text, |(_, s)| s);
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
