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
use super::ace::Ace;
use super::acl::Acl;
use super::descriptor::{Control, SecurityDescriptor};
use super::guid::Guid;
use super::reach::{Effect, Member, Place, Reach, Unsure, reach};
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
    /// Built from the account's global and universal groups only, for objects of another domain: that
    /// domain's domain-local groups (and its BUILTIN groups) are not known.
    partial: bool,
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
        Self {
            user,
            sids,
            partial: false,
        }
    }

    /// The token for objects of a domain other than the account's: `groups` are its global and universal
    /// groups; the domain-local groups it has in that domain are missing.
    pub fn without_domain_local_groups(user: Sid, groups: impl IntoIterator<Item = Sid>) -> Self {
        Self {
            partial: true,
            ..Self::new(user, groups)
        }
    }

    pub fn user(&self) -> &Sid {
        &self.user
    }

    /// Whether the domain-local groups of the object's domain may be missing from this token.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Every SID in the token (the user's own included).
    pub fn sids(&self) -> impl Iterator<Item = &Sid> {
        self.sids.iter()
    }

    /// Whether an ACE for `trustee` applies to this token on an object whose SID is `object_sid`: SELF
    /// (S-1-5-10) stands for the object itself, so it matches only on the caller's own account.
    pub fn matches(&self, trustee: &Sid, object_sid: Option<&Sid>) -> bool {
        self.member(trustee, object_sid) == Member::Yes
    }

    /// Like [`Self::matches`], and `Maybe` on a partial token for a trustee that could be one of the missing
    /// groups: a BUILTIN group, or a group of a domain other than the account's (of the object's domain,
    /// when the object's SID says which).
    pub fn member(&self, trustee: &Sid, object_sid: Option<&Sid>) -> Member {
        if self.sids.contains(trustee)
            || trustee.to_string() == PRINCIPAL_SELF && object_sid == Some(&self.user)
        {
            return Member::Yes;
        }
        if !self.partial {
            return Member::No;
        }
        let builtin =
            trustee.authority_value() == 5 && trustee.sub_authorities().first() == Some(&32);
        let domain = domain_of(trustee);
        let other_domain = domain.is_some()
            && domain != domain_of(&self.user)
            && object_sid.is_none_or(|o| domain_of(o) == domain);
        if builtin || other_domain {
            Member::Maybe
        } else {
            Member::No
        }
    }
}

/// The domain part of an account SID (S-1-5-21-a-b-c-RID), or of a domain's own SID (S-1-5-21-a-b-c).
fn domain_of(sid: &Sid) -> Option<&[u32]> {
    let sub = sid.sub_authorities();
    (sid.authority_value() == 5 && sub.first() == Some(&21) && sub.len() >= 4).then(|| &sub[..4])
}

/// One right to check: its access bit, the object's class (when known) and the object type path from the
/// class down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub bit: AccessMask,
    pub class: Option<Guid>,
    pub path: Vec<Guid>,
}

impl Request {
    /// `bit` on objects of `class`, for the right or attribute `right` in `property_set`: the object type
    /// path is class, property set, right (what is not given is left out).
    pub fn new(
        bit: AccessMask,
        class: Option<Guid>,
        property_set: Option<Guid>,
        right: Option<Guid>,
    ) -> Self {
        Self {
            bit,
            class,
            path: [class, property_set, right].into_iter().flatten().collect(),
        }
    }

    /// A control access right (Reset Password, ...) on an object of class `class`.
    pub fn control_access(class: Guid, right: Guid) -> Self {
        Self::new(AccessMask::CONTROL_ACCESS, Some(class), None, Some(right))
    }

    /// Write property `attribute` (in `property_set`, if any) on an object of class `class`.
    pub fn write_property(class: Guid, property_set: Option<Guid>, attribute: Guid) -> Self {
        Self::new(
            AccessMask::WRITE_PROPERTY,
            Some(class),
            property_set,
            Some(attribute),
        )
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
    /// This ACE, which this tool cannot read as a definite grant or deny (see `why`), comes before what
    /// decides and could change the outcome; without it the outcome would be `otherwise`. Never counted as
    /// granted.
    Uncertain {
        index: usize,
        ace: Ace,
        why: Unsure,
        otherwise: Box<Verdict>,
    },
}

impl Verdict {
    pub fn granted(&self) -> bool {
        matches!(self, Self::Allowed { .. } | Self::NullDacl)
    }

    pub fn ace(&self) -> Option<(usize, &Ace)> {
        match self {
            Self::Allowed { index, ace }
            | Self::Denied { index, ace }
            | Self::Uncertain { index, ace, .. } => Some((*index, ace)),
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
    walk(dacl, request, Place::Itself, |sid| {
        token.member(sid, object_sid)
    })
}

/// The DTYP walk of `dacl` in stored order for `request` on an object at `place` relative to the DACL's
/// object: the first ACE that grants or denies it decides; an uncertain ACE before it makes the verdict
/// uncertain when it could have changed it (one that may allow, before a refusal; one that may deny, before
/// a grant).
pub fn walk(
    dacl: &Acl,
    request: &Request,
    place: Place,
    member: impl Fn(&Sid) -> Member,
) -> Verdict {
    let mut unsure: Vec<(usize, &Ace, Unsure)> = Vec::new();
    let mut decided = Verdict::NotGranted;
    for (index, ace) in dacl.aces.iter().enumerate() {
        match reach(ace, request, place, &member) {
            Reach::Grants => {
                decided = Verdict::Allowed {
                    index,
                    ace: ace.clone(),
                };
                break;
            }
            Reach::Denies => {
                decided = Verdict::Denied {
                    index,
                    ace: ace.clone(),
                };
                break;
            }
            Reach::DoesNotApply => {}
            Reach::Uncertain(why) => unsure.push((index, ace, why)),
        }
    }
    let granted = decided.granted();
    let changes = |ace: &Ace| {
        let effect = Effect::of(ace);
        if granted {
            effect.may_deny()
        } else {
            effect.may_allow()
        }
    };
    match unsure.into_iter().find(|(_, ace, _)| changes(ace)) {
        Some((index, ace, why)) => Verdict::Uncertain {
            index,
            ace: ace.clone(),
            why,
            otherwise: Box::new(decided),
        },
        None => decided,
    }
}

#[cfg(test)]
mod tests;
