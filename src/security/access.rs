//! The access check a DC runs for one right on one object, from the stored descriptor and the caller's token:
//! [MS-DTYP] 2.5.3.2 with an object type list, as [MS-ADTS] 5.1.3.3.3 (write property) and 5.1.3.3.4 (control
//! access) use it. Pure: no I/O.
//!
//! The object type list is a path from the object's class down to the right: `[class, right]` for a control
//! access right, `[class, property set, attribute]` (or `[class, attribute]` for an attribute in no property
//! set) for a write. For one leaf of that tree the DTYP algorithm comes down to: walk the DACL in stored order
//! (never re-sorted), skip inherit-only ACEs and ACEs for SIDs not in the token, and the first allow or deny
//! whose (generic-mapped) mask has the right's bit and whose object type is absent or on the path decides. A
//! deny that comes after the leaf was granted changes nothing; an allow after a deny neither.

use std::collections::HashSet;

use super::access_mask::AccessMask;
use super::ace::{Ace, AceType};
use super::descriptor::{Control, SecurityDescriptor};
use super::guid::Guid;
use super::sid::Sid;

pub const EVERYONE: &str = "S-1-1-0";
pub const AUTHENTICATED_USERS: &str = "S-1-5-11";
pub const NETWORK: &str = "S-1-5-2";
pub const THIS_ORGANIZATION: &str = "S-1-5-15";
pub const PRINCIPAL_SELF: &str = "S-1-5-10";

/// Who is asking: an account's SID, its groups (the directory's `tokenGroups`), and the SIDs every network
/// logon carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    user: Sid,
    sids: HashSet<Sid>,
}

impl Token {
    pub fn new(user: Sid, groups: impl IntoIterator<Item = Sid>) -> Self {
        let mut sids: HashSet<Sid> = groups.into_iter().collect();
        for well_known in [EVERYONE, AUTHENTICATED_USERS, NETWORK, THIS_ORGANIZATION] {
            if let Ok(sid) = well_known.parse() {
                sids.insert(sid);
            }
        }
        sids.insert(user.clone());
        Self { user, sids }
    }

    pub fn user(&self) -> &Sid {
        &self.user
    }

    /// Every SID in the token (the user's own included).
    pub fn sids(&self) -> impl Iterator<Item = &Sid> {
        self.sids.iter()
    }

    /// Whether an ACE for `trustee` applies to this token on an object whose SID is `object_sid`: SELF
    /// (S-1-5-10) stands for the object itself, so it matches only on the caller's own account.
    pub fn matches(&self, trustee: &Sid, object_sid: Option<&Sid>) -> bool {
        if self.sids.contains(trustee) {
            return true;
        }
        trustee.to_string() == PRINCIPAL_SELF && object_sid == Some(&self.user)
    }
}

/// One right to check: its access bit and the object type path from the class down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub bit: AccessMask,
    pub path: Vec<Guid>,
}

impl Request {
    /// A control access right (Reset Password, ...) on an object of class `class`.
    pub fn control_access(class: Guid, right: Guid) -> Self {
        Self {
            bit: AccessMask::CONTROL_ACCESS,
            path: vec![class, right],
        }
    }

    /// Write property `attribute` (in `property_set`, if any) on an object of class `class`.
    pub fn write_property(class: Guid, property_set: Option<Guid>, attribute: Guid) -> Self {
        Self {
            bit: AccessMask::WRITE_PROPERTY,
            path: [Some(class), property_set, Some(attribute)]
                .into_iter()
                .flatten()
                .collect(),
        }
    }
}

/// What decided the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This ACE (at this index of the stored DACL) granted it.
    Allowed { index: usize, ace: Ace },
    /// This ACE denied it before anything granted it.
    Denied { index: usize, ace: Ace },
    /// The object has no DACL at all (everyone may do everything).
    NullDacl,
    /// No ACE for the token grants it.
    NotGranted,
}

impl Verdict {
    pub fn granted(&self) -> bool {
        matches!(self, Self::Allowed { .. } | Self::NullDacl)
    }

    pub fn ace(&self) -> Option<(usize, &Ace)> {
        match self {
            Self::Allowed { index, ace } | Self::Denied { index, ace } => Some((*index, ace)),
            Self::NullDacl | Self::NotGranted => None,
        }
    }
}

/// Runs the check of `request` for `token` against `sd`, the stored descriptor of the object whose SID is
/// `object_sid` (for SELF). The owner's implicit rights (READ_CONTROL, WRITE_DAC) never include CR or WP, so
/// they play no part here.
pub fn check(
    token: &Token,
    sd: &SecurityDescriptor,
    object_sid: Option<&Sid>,
    request: &Request,
) -> Verdict {
    let Some(dacl) = sd.dacl.as_ref() else {
        return if sd.control.contains(Control::DACL_PRESENT) {
            Verdict::NotGranted
        } else {
            Verdict::NullDacl
        };
    };
    for (index, ace) in dacl.aces.iter().enumerate() {
        if let Some(decided) = decides(token, ace, object_sid, request) {
            return if decided {
                Verdict::Allowed {
                    index,
                    ace: ace.clone(),
                }
            } else {
                Verdict::Denied {
                    index,
                    ace: ace.clone(),
                }
            };
        }
    }
    Verdict::NotGranted
}

/// `Some(true)` if `ace` grants the request's leaf, `Some(false)` if it denies it, `None` if it does not
/// speak to it.
fn decides(token: &Token, ace: &Ace, object_sid: Option<&Sid>, request: &Request) -> Option<bool> {
    use super::ace::AceFlags;
    if ace.flags.contains(AceFlags::INHERIT_ONLY) {
        return None;
    }
    let body = ace.access()?;
    let allow = match ace.ace_type {
        AceType::AccessAllowed | AceType::AccessAllowedObject => true,
        AceType::AccessDenied | AceType::AccessDeniedObject => false,
        _ => return None,
    };
    if body.mask.mapped().0 & request.bit.0 == 0 {
        return None;
    }
    if let Some(object_type) = body.object_type
        && !request.path.contains(&object_type)
    {
        return None;
    }
    if !token.matches(&body.sid, object_sid) {
        return None;
    }
    Some(allow)
}

#[cfg(test)]
mod tests;
