//! The one predicate: does this ACE grant (or deny) one right to one set of SIDs on an object of one class,
//! placed here relative to the object that holds the ACE? The access check ([`super::access`]), `check`'s
//! per-target verdicts, "held via a group" and revert's "still granted" all ask it, so they cannot disagree
//! about generic rights, object types, property sets or inheritance. Pure: no I/O.
//!
//! Reach follows how a DC materialises inheritance ([MS-DTYP] 2.5.3.4, Samba `create_descriptor.c`; every
//! directory object is a container there, so only CONTAINER_INHERIT hands an ACE down): on the object itself
//! an ACE counts unless it is inherit-only (its inherited object type is not looked at: the DC already made a
//! copy for another class inherit-only); on a child it counts with CONTAINER_INHERIT and, when it names an
//! inherited object type, only on that class; below the child it also needs no NO_PROPAGATE_INHERIT.
//!
//! An ACE this tool cannot read (a callback or conditional ACE, unknown object flags, trailing bytes: the
//! codec keeps those bytes verbatim) or whose trustee may or may not be in the token is never a definite
//! grant or deny: it is `Uncertain` wherever it might apply.

use super::access::Request;
use super::access_mask::AccessMask;
use super::ace::{Ace, AceBody, AceFlags};
use super::guid::Guid;
use super::reader::Reader;
use super::sid::Sid;

/// Where the object asked about sits, relative to the object whose DACL holds the ACE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// The object that holds the ACE (for a stored DACL: the object itself, inherited copies included).
    Itself,
    /// A direct child.
    Child,
    /// A descendant below a child.
    Deeper,
}

impl Place {
    /// The places an ACE with these inheritance flags reaches.
    pub fn reached_by(flags: AceFlags) -> Vec<Self> {
        let mut out = Vec::new();
        if !flags.contains(AceFlags::INHERIT_ONLY) {
            out.push(Self::Itself);
        }
        if flags.contains(AceFlags::CONTAINER_INHERIT) {
            out.push(Self::Child);
            if !flags.contains(AceFlags::NO_PROPAGATE_INHERIT) {
                out.push(Self::Deeper);
            }
        }
        out
    }
}

/// Whether a SID is in the token asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Yes,
    No,
    /// Cannot be told: a token built in another domain does not list that domain's domain-local groups.
    Maybe,
}

/// Why an ACE might decide the right but cannot be read as a definite grant or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unsure {
    /// Its body is not read by this tool (callback/conditional ACE, unknown type or object flags, trailing
    /// bytes).
    Opaque,
    /// Its trustee may be a group of the object's domain that the token, built in another domain, lacks.
    Trustee,
    /// It is limited to descendants of one class, and the class of the object is not known.
    Class,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    Grants,
    Denies,
    DoesNotApply,
    Uncertain(Unsure),
}

/// What an ACE type does to access, whether or not its body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
    /// An ACE type this tool does not know: it may allow or deny.
    Either,
    /// Audit, alarm, label and policy ACEs: never part of an access decision.
    None,
}

impl Effect {
    pub fn of(ace: &Ace) -> Self {
        match u8::from(ace.ace_type) {
            // allowed, allowed compound, allowed object, allowed callback, allowed callback object
            0x00 | 0x04 | 0x05 | 0x09 | 0x0B => Self::Allow,
            // denied, denied object, denied callback, denied callback object
            0x01 | 0x06 | 0x0A | 0x0C => Self::Deny,
            // audit, alarm (plain, object, callback), mandatory label, resource attribute, scoped policy,
            // process trust label, access filter
            0x02 | 0x03 | 0x07 | 0x08 | 0x0D..=0x15 => Self::None,
            _ => Self::Either,
        }
    }

    pub fn may_allow(self) -> bool {
        matches!(self, Self::Allow | Self::Either)
    }

    pub fn may_deny(self) -> bool {
        matches!(self, Self::Deny | Self::Either)
    }
}

/// A field of an ACE body: read, or not readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field<T> {
    Known(T),
    Unknown,
}

/// What can be read from an ACE body: everything for a typed body, as much as the layout allows for an opaque
/// one (enough to see that an unreadable ACE is for someone else, or for other rights).
struct View {
    mask: Option<AccessMask>,
    object_type: Field<Option<Guid>>,
    inherited_object_type: Field<Option<Guid>>,
    sid: Option<Sid>,
    opaque: bool,
}

impl View {
    fn of(ace: &Ace) -> Self {
        match &ace.body {
            AceBody::Access(a) => Self {
                mask: Some(a.mask),
                object_type: Field::Known(a.object_type),
                inherited_object_type: Field::Known(a.inherited_object_type),
                sid: Some(a.sid.clone()),
                opaque: false,
            },
            AceBody::Opaque(bytes) => Self::lenient(u8::from(ace.ace_type), bytes),
        }
    }

    /// The leading fields of an opaque body whose type has the ACCESS_ALLOWED(_OBJECT) layout (callback ACEs
    /// add their condition after the SID).
    fn lenient(ace_type: u8, bytes: &[u8]) -> Self {
        let mut view = Self {
            mask: None,
            object_type: Field::Unknown,
            inherited_object_type: Field::Unknown,
            sid: None,
            opaque: true,
        };
        let object = matches!(ace_type, 0x05 | 0x06 | 0x0B | 0x0C);
        let plain = matches!(ace_type, 0x00 | 0x01 | 0x09 | 0x0A);
        let mut r = Reader::new(bytes);
        if !(object || plain || ace_type == 0x04) {
            return view;
        }
        let Ok(mask) = r.u32("ACE mask") else {
            return view;
        };
        view.mask = Some(AccessMask(mask));
        if plain {
            view.object_type = Field::Known(None);
            view.inherited_object_type = Field::Known(None);
        } else if object {
            let Ok(flags) = r.u32("object ACE flags") else {
                return view;
            };
            if flags & !0x3 != 0 {
                return view;
            }
            let mut guid = |present: bool| -> Option<Option<Guid>> {
                if !present {
                    return Some(None);
                }
                let bytes: [u8; 16] = r.take(16, "GUID").ok()?.try_into().ok()?;
                Some(Some(Guid::from_bytes(bytes)))
            };
            let (Some(o), Some(i)) = (guid(flags & 1 != 0), guid(flags & 2 != 0)) else {
                return view;
            };
            view.object_type = Field::Known(o);
            view.inherited_object_type = Field::Known(i);
        } else {
            // A compound ACE: its SIDs follow a type field this tool does not evaluate.
            return view;
        }
        view.sid = Sid::read(&mut r).ok();
        view
    }
}

/// Does `ace` grant or deny `request` to the SIDs `member` says are in the token, on an object at `place`
/// relative to the ACE's object, of the class the request names?
///
/// A request of several bits is granted only by an ACE with all of them, and denied by one with any of them.
/// Generic rights are mapped first ([MS-ADTS] 5.1.3.3). The object type must be absent, the class, a
/// property set on the request's path or the right itself.
pub fn reach(ace: &Ace, request: &Request, place: Place, member: impl Fn(&Sid) -> Member) -> Reach {
    let effect = Effect::of(ace);
    if effect == Effect::None {
        return Reach::DoesNotApply;
    }
    let flags = ace.flags;
    let reaches = match place {
        Place::Itself => !flags.contains(AceFlags::INHERIT_ONLY),
        Place::Child => flags.contains(AceFlags::CONTAINER_INHERIT),
        Place::Deeper => {
            flags.contains(AceFlags::CONTAINER_INHERIT)
                && !flags.contains(AceFlags::NO_PROPAGATE_INHERIT)
        }
    };
    if !reaches {
        return Reach::DoesNotApply;
    }
    let view = View::of(ace);
    let mut unsure = view.opaque.then_some(Unsure::Opaque);
    if place != Place::Itself {
        match view.inherited_object_type {
            Field::Known(None) => {}
            Field::Known(Some(class)) => match request.class {
                Some(c) if c == class => {}
                Some(_) => return Reach::DoesNotApply,
                None => {
                    unsure.get_or_insert(Unsure::Class);
                }
            },
            Field::Unknown => {}
        }
    }
    let whole = match view.mask.map(AccessMask::mapped) {
        Some(mask) if mask.0 & request.bit.0 == 0 => return Reach::DoesNotApply,
        Some(mask) => mask.contains(request.bit),
        None => true,
    };
    if let Field::Known(Some(object_type)) = view.object_type
        && !request.path.contains(&object_type)
    {
        return Reach::DoesNotApply;
    }
    if let Some(sid) = &view.sid {
        match member(sid) {
            Member::No => return Reach::DoesNotApply,
            Member::Maybe => {
                unsure.get_or_insert(Unsure::Trustee);
            }
            Member::Yes => {}
        }
    }
    if let Some(why) = unsure {
        return Reach::Uncertain(why);
    }
    match effect {
        Effect::Allow if whole => Reach::Grants,
        Effect::Deny => Reach::Denies,
        _ => Reach::DoesNotApply,
    }
}

#[cfg(test)]
mod tests;
