//! ACE, [MS-DTYP] 2.4.4.
//!
//! ```text
//! ACE_HEADER: AceType u8 | AceFlags u8 | AceSize u16
//! ACCESS_ALLOWED_ACE / ACCESS_DENIED_ACE / SYSTEM_AUDIT_ACE:  Mask u32 | Sid
//! ACCESS_ALLOWED_OBJECT_ACE / ..._DENIED_ / SYSTEM_AUDIT_OBJECT_ACE:
//!     Mask u32 | Flags u32 | [ObjectType GUID if Flags&1] | [InheritedObjectType GUID if Flags&2] | Sid
//! ```
//! Every other type, and any body that does not re-encode to the same bytes, is kept opaque.

use super::access_mask::AccessMask;
use super::guid::Guid;
use super::reader::{DecodeError, EncodeError, Reader, u16_field};
use super::sid::Sid;

const OBJECT_TYPE_PRESENT: u32 = 0x1;
const INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// AceType, an open code-point set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AceType {
    AccessAllowed,
    AccessDenied,
    SystemAudit,
    AccessAllowedObject,
    AccessDeniedObject,
    SystemAuditObject,
    Other(u8),
}

impl From<u8> for AceType {
    fn from(v: u8) -> Self {
        match v {
            0x00 => Self::AccessAllowed,
            0x01 => Self::AccessDenied,
            0x02 => Self::SystemAudit,
            0x05 => Self::AccessAllowedObject,
            0x06 => Self::AccessDeniedObject,
            0x07 => Self::SystemAuditObject,
            other => Self::Other(other),
        }
    }
}

impl From<AceType> for u8 {
    fn from(t: AceType) -> u8 {
        match t {
            AceType::AccessAllowed => 0x00,
            AceType::AccessDenied => 0x01,
            AceType::SystemAudit => 0x02,
            AceType::AccessAllowedObject => 0x05,
            AceType::AccessDeniedObject => 0x06,
            AceType::SystemAuditObject => 0x07,
            AceType::Other(v) => v,
        }
    }
}

impl AceType {
    fn is_object(self) -> bool {
        matches!(
            self,
            Self::AccessAllowedObject | Self::AccessDeniedObject | Self::SystemAuditObject
        )
    }

    fn has_access_body(self) -> bool {
        !matches!(self, Self::Other(_))
    }

    pub fn is_allow(self) -> bool {
        matches!(self, Self::AccessAllowed | Self::AccessAllowedObject)
    }

    pub fn is_deny(self) -> bool {
        matches!(self, Self::AccessDenied | Self::AccessDeniedObject)
    }
}

/// AceFlags: inheritance and audit bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AceFlags(pub u8);

impl AceFlags {
    pub const OBJECT_INHERIT: u8 = 0x01;
    pub const CONTAINER_INHERIT: u8 = 0x02;
    pub const NO_PROPAGATE_INHERIT: u8 = 0x04;
    pub const INHERIT_ONLY: u8 = 0x08;
    pub const INHERITED: u8 = 0x10;
    pub const SUCCESSFUL_ACCESS: u8 = 0x40;
    pub const FAILED_ACCESS: u8 = 0x80;
    /// The bits that say where an ACE applies (everything but INHERITED and the audit bits).
    pub const INHERITANCE: u8 = Self::OBJECT_INHERIT
        | Self::CONTAINER_INHERIT
        | Self::NO_PROPAGATE_INHERIT
        | Self::INHERIT_ONLY;

    pub fn contains(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

/// The part of an allow/deny/audit ACE after the header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessBody {
    pub mask: AccessMask,
    pub object_type: Option<Guid>,
    pub inherited_object_type: Option<Guid>,
    pub sid: Sid,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AceBody {
    Access(AccessBody),
    /// Bytes after the header, kept verbatim.
    Opaque(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ace {
    pub ace_type: AceType,
    pub flags: AceFlags,
    pub body: AceBody,
}

impl Ace {
    /// An ACCESS_ALLOWED_OBJECT_ACE (or ACCESS_ALLOWED_ACE when neither GUID is given).
    pub fn allow(
        mask: AccessMask,
        flags: u8,
        object_type: Option<Guid>,
        inherited_object_type: Option<Guid>,
        sid: Sid,
    ) -> Self {
        let ace_type = if object_type.is_some() || inherited_object_type.is_some() {
            AceType::AccessAllowedObject
        } else {
            AceType::AccessAllowed
        };
        Self {
            ace_type,
            flags: AceFlags(flags),
            body: AceBody::Access(AccessBody {
                mask,
                object_type,
                inherited_object_type,
                sid,
            }),
        }
    }

    pub fn access(&self) -> Option<&AccessBody> {
        match &self.body {
            AceBody::Access(a) => Some(a),
            AceBody::Opaque(_) => None,
        }
    }

    pub fn access_mut(&mut self) -> Option<&mut AccessBody> {
        match &mut self.body {
            AceBody::Access(a) => Some(a),
            AceBody::Opaque(_) => None,
        }
    }

    pub fn sid(&self) -> Option<&Sid> {
        self.access().map(|a| &a.sid)
    }

    pub fn is_inherited(&self) -> bool {
        self.flags.contains(AceFlags::INHERITED)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = r.position();
        let ace_type = AceType::from(r.u8("ACE type")?);
        let flags = AceFlags(r.u8("ACE flags")?);
        let size = usize::from(r.u16("ACE size")?);
        if size < 4 {
            return Err(DecodeError::Invalid {
                what: "ACE",
                detail: format!("size {size} at offset {start} is below the 4-byte header"),
            });
        }
        let body_bytes = r.take(size - 4, "ACE body")?;
        let body = Self::decode_body(ace_type, body_bytes)
            .unwrap_or_else(|| AceBody::Opaque(body_bytes.to_vec()));
        Ok(Self {
            ace_type,
            flags,
            body,
        })
    }

    /// A typed body only when it re-encodes to exactly these bytes; otherwise the caller keeps them opaque.
    fn decode_body(ace_type: AceType, bytes: &[u8]) -> Option<AceBody> {
        if !ace_type.has_access_body() {
            return None;
        }
        let mut r = Reader::new(bytes);
        let mask = AccessMask(r.u32("ACE mask").ok()?);
        let (mut object_type, mut inherited_object_type) = (None, None);
        if ace_type.is_object() {
            let object_flags = r.u32("object ACE flags").ok()?;
            if object_flags & !(OBJECT_TYPE_PRESENT | INHERITED_OBJECT_TYPE_PRESENT) != 0 {
                return None;
            }
            if object_flags & OBJECT_TYPE_PRESENT != 0 {
                object_type = Some(Guid::from_bytes(
                    r.take(16, "object type").ok()?.try_into().ok()?,
                ));
            }
            if object_flags & INHERITED_OBJECT_TYPE_PRESENT != 0 {
                inherited_object_type = Some(Guid::from_bytes(
                    r.take(16, "inherited object type").ok()?.try_into().ok()?,
                ));
            }
        }
        let sid = Sid::read(&mut r).ok()?;
        if r.remaining() != 0 {
            return None;
        }
        Some(AceBody::Access(AccessBody {
            mask,
            object_type,
            inherited_object_type,
            sid,
        }))
    }

    /// One ACE from exactly its bytes (as `to_bytes` gives them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let ace = Self::read(&mut r)?;
        if r.remaining() != 0 {
            return Err(DecodeError::Invalid {
                what: "ACE",
                detail: format!("{} bytes after its end", r.remaining()),
            });
        }
        Ok(ace)
    }

    /// Appends the ACE; fails when its size does not fit the u16 AceSize field.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.push(self.ace_type.into());
        out.push(self.flags.0);
        out.extend_from_slice(&[0, 0]); // size, patched below
        match &self.body {
            AceBody::Opaque(bytes) => out.extend_from_slice(bytes),
            AceBody::Access(a) => {
                out.extend_from_slice(&a.mask.0.to_le_bytes());
                if self.ace_type.is_object() {
                    let flags = a.object_type.map_or(0, |_| OBJECT_TYPE_PRESENT)
                        | a.inherited_object_type
                            .map_or(0, |_| INHERITED_OBJECT_TYPE_PRESENT);
                    out.extend_from_slice(&flags.to_le_bytes());
                    for guid in [a.object_type, a.inherited_object_type]
                        .into_iter()
                        .flatten()
                    {
                        out.extend_from_slice(&guid.to_bytes());
                    }
                }
                a.sid.write(out);
            }
        }
        let size = u16_field(out.len() - start, "ACE size in bytes")?;
        out[start + 2..start + 4].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.write(&mut out)?;
        Ok(out)
    }

    pub fn encoded_len(&self) -> usize {
        4 + match &self.body {
            AceBody::Opaque(bytes) => bytes.len(),
            AceBody::Access(a) => {
                let guids = [a.object_type, a.inherited_object_type]
                    .iter()
                    .flatten()
                    .count();
                4 + if self.ace_type.is_object() {
                    4 + 16 * guids
                } else {
                    0
                } + a.sid.encoded_len()
            }
        }
    }

    /// Whether this ACE is `wanted` with at least its (generic-mapped) rights: the same trustee, type, object
    /// types and inheritance. An identity question (is our ACE already there, so apply need not add it), not
    /// one of reach: whether some other ACE grants the same right is [`super::reach::reach`]'s. The inherited
    /// bit is ignored so that an inherited copy counts as the same ACE.
    pub fn covers(&self, wanted: &Ace) -> bool {
        let (Some(have), Some(want)) = (self.access(), wanted.access()) else {
            return false;
        };
        self.ace_type == wanted.ace_type
            && self.flags.0 & AceFlags::INHERITANCE == wanted.flags.0 & AceFlags::INHERITANCE
            && have.sid == want.sid
            && have.object_type == want.object_type
            && have.inherited_object_type == want.inherited_object_type
            && have.mask.mapped().contains(want.mask.mapped())
    }
}
