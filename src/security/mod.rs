//! Windows security descriptors as Active Directory stores them in `nTSecurityDescriptor`, named after
//! [MS-DTYP] section 2.4: SID, GUID, access mask, ACE, ACL, self-relative security descriptor, SDDL.
//!
//! Pure codec: no I/O, no LDAP. Everything we do not understand is kept as bytes, so a descriptor we do not
//! change encodes back byte for byte.
//!
//! [MS-DTYP]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-dtyp/

pub mod access;
mod access_mask;
mod ace;
mod acl;
mod descriptor;
mod guid;
pub mod reach;
mod reader;
mod sddl;
mod sid;

pub use access::{Request, Token, Verdict};
pub use access_mask::AccessMask;
pub use ace::{AccessBody, Ace, AceBody, AceFlags, AceType};
pub use acl::Acl;
pub use descriptor::{Control, SecurityDescriptor};
pub use guid::Guid;
pub use reach::{Member, Place, Reach, Unsure, reach};
pub use reader::{DecodeError, EncodeError};
pub use sddl::{SddlError, parse_ace, parse_sid};
pub use sid::Sid;

#[cfg(test)]
mod tests;
