//! LDAP access to an Active Directory domain controller: connect and bind ([`connection`]), forest discovery
//! ([`discovery`]), account and schema resolution ([`account`], [`schema`]), and reading and writing
//! `nTSecurityDescriptor` with the SD flags control ([`Session::read_dacl`], [`Session::write_dacl`]).
//!
//! Written for real AD, which is stricter than Samba: TLS before any password, paged searches, search
//! references skipped (ldap3 issue #156), the SD flags control on every descriptor read and write.

pub mod access;
pub mod account;
pub mod connection;
pub mod dcs;
pub mod discovery;
pub mod dn;
pub mod dns;
mod errors;
pub mod schema;

pub use connection::{ConnectionSettings, Session};
pub use errors::{ldap_error, no_such_object, refused_by_server};
