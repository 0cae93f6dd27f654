//! SECURITY_DESCRIPTOR in self-relative form, [MS-DTYP] 2.4.6.
//!
//! ```text
//! offset size
//! 0      1    Revision (1)
//! 1      1    Sbz1 (resource manager control)
//! 2      2    Control (SE_SELF_RELATIVE 0x8000 always set here)
//! 4      4    OffsetOwner  (0 = absent)
//! 8      4    OffsetGroup
//! 12     4    OffsetSacl
//! 16     4    OffsetDacl
//! 20     ...  the parts, at their offsets
//! ```
//! AD writes SACL, DACL, owner, group in that order. We write the parts back in the order they were read
//! (new descriptors use AD's order) with no gaps, so a gap-free descriptor re-encodes byte for byte.

use super::acl::Acl;
use super::reader::{DecodeError, EncodeError, Reader, u32_field};
use super::sid::Sid;

const HEADER_LEN: usize = 20;

/// A u32 offset as an index (saturating where usize is narrower, which then fails the bounds check).
fn offset(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// The SECURITY_DESCRIPTOR_CONTROL bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control(pub u16);

impl Control {
    pub const DACL_PRESENT: u16 = 0x0004;
    pub const SACL_PRESENT: u16 = 0x0010;
    pub const DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
    pub const DACL_AUTO_INHERITED: u16 = 0x0400;
    /// Inheritance disabled on the DACL ("Include inheritable permissions from this object's parent" unchecked).
    pub const DACL_PROTECTED: u16 = 0x1000;
    pub const SACL_PROTECTED: u16 = 0x2000;
    pub const SELF_RELATIVE: u16 = 0x8000;

    pub fn contains(self, bits: u16) -> bool {
        self.0 & bits == bits
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Owner,
    Group,
    Sacl,
    Dacl,
}

const AD_ORDER: [Part; 4] = [Part::Sacl, Part::Dacl, Part::Owner, Part::Group];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityDescriptor {
    pub revision: u8,
    sbz1: u8,
    pub control: Control,
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    pub sacl: Option<Acl>,
    pub dacl: Option<Acl>,
    /// The order the parts were found in, for byte-exact re-encoding.
    order: Vec<Part>,
}

impl SecurityDescriptor {
    /// A DACL-only descriptor, as a server returns it for SD flags = DACL.
    pub fn with_dacl(control: u16, dacl: Acl) -> Self {
        Self {
            revision: 1,
            sbz1: 0,
            control: Control(control | Control::SELF_RELATIVE | Control::DACL_PRESENT),
            owner: None,
            group: None,
            sacl: None,
            dacl: Some(dacl),
            order: AD_ORDER.to_vec(),
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let revision = r.u8("descriptor revision")?;
        let sbz1 = r.u8("descriptor Sbz1")?;
        let control = Control(r.u16("descriptor control")?);
        if !control.contains(Control::SELF_RELATIVE) {
            return Err(DecodeError::Invalid {
                what: "security descriptor",
                detail: "not in self-relative form".into(),
            });
        }
        let offsets = [
            (Part::Owner, offset(r.u32("owner offset")?)),
            (Part::Group, offset(r.u32("group offset")?)),
            (Part::Sacl, offset(r.u32("SACL offset")?)),
            (Part::Dacl, offset(r.u32("DACL offset")?)),
        ];
        let at = |offset: usize, what: &'static str| -> Result<Reader<'_>, DecodeError> {
            if offset < HEADER_LEN || offset > bytes.len() {
                return Err(DecodeError::Invalid {
                    what,
                    detail: format!("offset {offset} outside {HEADER_LEN}..{}", bytes.len()),
                });
            }
            Ok(Reader::new(&bytes[offset..]))
        };
        let mut sd = Self {
            revision,
            sbz1,
            control,
            owner: None,
            group: None,
            sacl: None,
            dacl: None,
            order: Vec::new(),
        };
        let mut present: Vec<(usize, Part)> = offsets
            .iter()
            .filter(|(_, o)| *o != 0)
            .map(|(p, o)| (*o, *p))
            .collect();
        present.sort_by_key(|(o, _)| *o);
        for (offset, part) in &present {
            match part {
                Part::Owner => sd.owner = Some(Sid::read(&mut at(*offset, "owner")?)?),
                Part::Group => sd.group = Some(Sid::read(&mut at(*offset, "group")?)?),
                Part::Sacl => sd.sacl = Some(Acl::read(&mut at(*offset, "SACL")?)?),
                Part::Dacl => sd.dacl = Some(Acl::read(&mut at(*offset, "DACL")?)?),
            }
        }
        sd.order = present.into_iter().map(|(_, p)| p).collect();
        for p in AD_ORDER {
            if !sd.order.contains(&p) {
                sd.order.push(p);
            }
        }
        Ok(sd)
    }

    /// The self-relative bytes; fails when an ACL outgrows its 64 KB size field (or an ACE its own).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0u8; HEADER_LEN];
        out[0] = self.revision;
        out[1] = self.sbz1;
        out[2..4].copy_from_slice(&self.control.0.to_le_bytes());
        for part in &self.order {
            let offset = u32_field(out.len(), "security descriptor offset")?;
            let slot = match part {
                Part::Owner => self.owner.as_ref().map(|s| s.write(&mut out)).map(|()| 4),
                Part::Group => self.group.as_ref().map(|s| s.write(&mut out)).map(|()| 8),
                Part::Sacl => self
                    .sacl
                    .as_ref()
                    .map(|a| a.write(&mut out))
                    .transpose()?
                    .map(|()| 12),
                Part::Dacl => self
                    .dacl
                    .as_ref()
                    .map(|a| a.write(&mut out))
                    .transpose()?
                    .map(|()| 16),
            };
            if let Some(slot) = slot {
                out[slot..slot + 4].copy_from_slice(&offset.to_le_bytes());
            }
        }
        Ok(out)
    }

    /// Inheritance from the parent is disabled on this object's DACL.
    pub fn dacl_protected(&self) -> bool {
        self.control.contains(Control::DACL_PROTECTED)
    }
}
