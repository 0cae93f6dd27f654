//! The permission back end: profiles as data ([`profile`]), and plan / apply / check / revert against one
//! directory. The command line and the TUI both drive exactly this code.

pub mod apply;
pub mod check;
pub mod dacl;
pub mod effective;
pub mod explain;
pub mod journal;
pub mod plan;
pub mod profile;
pub mod revert;
pub mod scope;

pub use plan::{Plan, TargetKind, TargetPlan};
