//! ACL, [MS-DTYP] 2.4.5, and canonical insertion ([MS-DTYP] 2.4.5 and "Order of ACEs in a DACL").
//!
//! ```text
//! AclRevision u8 | Sbz1 u8 | AclSize u16 | AceCount u16 | Sbz2 u16 | ACEs... | (slack up to AclSize)
//! ```

use super::ace::Ace;
use super::reader::{DecodeError, EncodeError, Reader, u16_field};

const ACL_REVISION: u8 = 2;
/// Needed as soon as the ACL holds an object ACE.
const ACL_REVISION_DS: u8 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    pub revision: u8,
    sbz1: u8,
    sbz2: u16,
    pub aces: Vec<Ace>,
    /// Bytes between the last ACE and AclSize, kept verbatim.
    slack: Vec<u8>,
}

impl Default for Acl {
    fn default() -> Self {
        Self {
            revision: ACL_REVISION,
            sbz1: 0,
            sbz2: 0,
            aces: Vec::new(),
            slack: Vec::new(),
        }
    }
}

impl Acl {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let revision = r.u8("ACL revision")?;
        let sbz1 = r.u8("ACL Sbz1")?;
        let size = usize::from(r.u16("ACL size")?);
        let count = r.u16("ACE count")?;
        let sbz2 = r.u16("ACL Sbz2")?;
        if size < 8 {
            return Err(DecodeError::Invalid {
                what: "ACL",
                detail: format!("size {size} is below the 8-byte header"),
            });
        }
        let mut body = Reader::new(r.take(size - 8, "ACL body")?);
        let aces = (0..count)
            .map(|_| Ace::read(&mut body))
            .collect::<Result<Vec<_>, _>>()?;
        let slack = body.take(body.remaining(), "ACL slack")?.to_vec();
        Ok(Self {
            revision,
            sbz1,
            sbz2,
            aces,
            slack,
        })
    }

    /// Appends the ACL; fails when the ACE count or the size (64 KB at most) does not fit its field.
    pub(crate) fn write(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.push(self.revision);
        out.push(self.sbz1);
        out.extend_from_slice(&[0, 0]); // size, patched below
        out.extend_from_slice(&u16_field(self.aces.len(), "ACE count")?.to_le_bytes());
        out.extend_from_slice(&self.sbz2.to_le_bytes());
        for ace in &self.aces {
            ace.write(out)?;
        }
        out.extend_from_slice(&self.slack);
        let size = u16_field(out.len() - start, "ACL size in bytes")?;
        out[start + 2..start + 4].copy_from_slice(&size.to_le_bytes());
        Ok(())
    }

    /// The encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        8 + self.aces.iter().map(Ace::encoded_len).sum::<usize>() + self.slack.len()
    }

    /// Whether an explicit ACE is already `wanted` (see [`Ace::covers`]).
    pub fn explicitly_covers(&self, wanted: &Ace) -> bool {
        self.aces
            .iter()
            .any(|a| !a.is_inherited() && a.covers(wanted))
    }

    /// Adds `ace` in canonical position unless an explicit ACE already covers it; returns whether it was added.
    ///
    /// Allow ACEs go after every explicit ACE (so after explicit denies) and before the first inherited ACE;
    /// deny ACEs go before the first explicit allow. Inherited ACEs are never moved.
    pub fn insert_canonical(&mut self, ace: Ace) -> bool {
        if self.explicitly_covers(&ace) {
            return false;
        }
        let first_inherited = self
            .aces
            .iter()
            .position(Ace::is_inherited)
            .unwrap_or(self.aces.len());
        let at = if ace.ace_type.is_deny() {
            self.aces[..first_inherited]
                .iter()
                .position(|a| !a.ace_type.is_deny())
                .unwrap_or(first_inherited)
        } else {
            first_inherited
        };
        if ace
            .access()
            .is_some_and(|a| a.object_type.is_some() || a.inherited_object_type.is_some())
        {
            self.revision = self.revision.max(ACL_REVISION_DS);
        }
        self.aces.insert(at, ace);
        true
    }

    /// Removes the first explicit ACE equal to `ace`; returns whether one was found.
    pub fn remove_explicit(&mut self, ace: &Ace) -> bool {
        match self.aces.iter().position(|a| !a.is_inherited() && a == ace) {
            Some(i) => {
                self.aces.remove(i);
                true
            }
            None => false,
        }
    }

    /// Explicit denies, then explicit allows, then inherited ACEs (whose order is the server's business).
    pub fn is_canonical(&self) -> bool {
        let rank = |a: &Ace| match (a.is_inherited(), a.ace_type.is_deny()) {
            (false, true) => 0,
            (false, false) => 1,
            (true, _) => 2,
        };
        self.aces.windows(2).all(|w| rank(&w[0]) <= rank(&w[1]))
    }
}
