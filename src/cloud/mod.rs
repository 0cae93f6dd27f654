//! Microsoft Entra ID: sign-in (device code, username and password, client credentials) with the `oauth2`
//! crate over reqwest, then Microsoft Graph checks: who signed in, the tenant, and whether the account holds a
//! role that may configure password writeback. Tokens stay in memory ([`secrecy::SecretString`]) and are never
//! printed or written.
//!
//! The tenant-side switch "Write back passwords to your on-premises directory" has no supported Graph API
//! (`features.passwordWritebackEnabled` is documented as not in use), so we never call it and say instead which
//! portal step is left ([`PORTAL_STEP`]).

pub mod assertion;
pub mod check;
pub mod endpoints;
pub mod graph;
mod http;
pub mod roles;
pub mod signin;

/// What the administrator still has to do in the portal; printed by `plan` and `apply`.
pub const PORTAL_STEP: &str = "In the Microsoft Entra admin center, as a Global Administrator: Protection > Password reset > \
On-premises integration > turn on \"Enable password write back for synced users\" and Save. \
(There is no supported Graph API for this switch; writeback-wizard does not change it.)";
