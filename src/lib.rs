//! writeback-wizard: grant, check and revert the Active Directory permissions that SSPR password writeback needs.
//!
//! - [`security`]: the security descriptor codec (MS-DTYP), pure.
//! - [`answers`]: the versioned answers file, the one validation path for every front end.
//! - [`ad`]: LDAP access to a domain controller (connect, bind, discovery, security descriptors).
//! - [`grants`]: permission profiles as data, and plan / apply / check / revert.
//! - [`cloud`]: Microsoft Entra ID sign-in and Graph checks.
//! - [`cli`]: the command line.
//! - [`wizard`]: the wizard's model (pages, messages, effects), pure; [`ui`] draws it; [`runtime`] owns the
//!   terminal and runs the back-end effects.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod ad;
pub mod answers;
pub mod cli;
pub mod cloud;
pub mod error;
pub mod grants;
pub mod runtime;
pub mod secret;
pub mod security;
pub mod ui;
pub mod wizard;
