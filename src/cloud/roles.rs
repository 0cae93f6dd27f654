//! Whether the signed-in account may go on, as the original wizard decides it (Global Administrator; Hybrid
//! Identity Administrator with the documented caveat), plus PIM and app-only cases. Pure: a table-driven test.

use serde::Serialize;

pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const HYBRID_IDENTITY_ADMINISTRATOR: &str = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", content = "message", rename_all = "kebab-case")]
pub enum RoleDecision {
    Pass(String),
    PassWithWarning(String),
    Refuse(String),
}

impl RoleDecision {
    pub fn passes(&self) -> bool {
        !matches!(self, Self::Refuse(_))
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Pass(m) | Self::PassWithWarning(m) | Self::Refuse(m) => m,
        }
    }
}

/// `active` and `eligible` are role template ids; `who` names the account in messages.
pub fn decide(who: &str, active: &[String], eligible: &[String], app_only: bool) -> RoleDecision {
    let has = |set: &[String], id: &str| set.iter().any(|r| r.eq_ignore_ascii_case(id));
    if app_only {
        return RoleDecision::PassWithWarning(format!(
            "signed in as application {who} (app-only): no user role can be checked; checked instead that the application can read the \
             tenant (GET /organization). The portal step still needs a Global Administrator."
        ));
    }
    if has(active, GLOBAL_ADMINISTRATOR) {
        return RoleDecision::Pass(format!("{who} is a Global Administrator."));
    }
    if has(active, HYBRID_IDENTITY_ADMINISTRATOR) {
        return RoleDecision::PassWithWarning(format!(
            "{who} is a Hybrid Identity Administrator: enough to configure synchronization, but configuring Self-Service Password Reset \
             (turning on password writeback in the portal) still requires a user with the Global Administrator role."
        ));
    }
    if has(eligible, GLOBAL_ADMINISTRATOR) || has(eligible, HYBRID_IDENTITY_ADMINISTRATOR) {
        let role = if has(eligible, GLOBAL_ADMINISTRATOR) {
            "Global Administrator"
        } else {
            "Hybrid Identity Administrator"
        };
        return RoleDecision::Refuse(format!(
            "Privileged Identity Management enabled: {who} is eligible for {role} but the role is not active now. Activate it in \
             PIM (My roles > Activate), then sign in again."
        ));
    }
    RoleDecision::Refuse(format!(
        "The user {who} was authenticated successfully, but the user isn't assigned the Global Administrator role."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (active, eligible, app-only, expected kind, words in the message)
    type Row = (Vec<String>, Vec<String>, bool, &'static str, &'static str);

    #[test]
    fn role_decisions() {
        let ga = GLOBAL_ADMINISTRATOR.to_string();
        let hia = HYBRID_IDENTITY_ADMINISTRATOR.to_string();
        let other = "fe930be7-5e62-47db-91af-98c3a49a38b1".to_string(); // User Administrator
        let table: Vec<Row> = vec![
            (
                vec![ga.clone()],
                vec![],
                false,
                "pass",
                "is a Global Administrator",
            ),
            (
                vec![hia.clone(), ga.clone()],
                vec![],
                false,
                "pass",
                "Global Administrator",
            ),
            (
                vec![hia.clone()],
                vec![],
                false,
                "warn",
                "still requires a user with the Global Administrator role",
            ),
            (
                vec![],
                vec![ga.clone()],
                false,
                "refuse",
                "eligible for Global Administrator but the role is not active",
            ),
            (
                vec![other.clone()],
                vec![hia.clone()],
                false,
                "refuse",
                "Privileged Identity Management enabled",
            ),
            (
                vec![other.clone()],
                vec![],
                false,
                "refuse",
                "authenticated successfully, but the user isn't assigned the Global Administrator role",
            ),
            (
                vec![],
                vec![],
                false,
                "refuse",
                "isn't assigned the Global Administrator role",
            ),
            (vec![], vec![], true, "warn", "app-only"),
        ];
        for (active, eligible, app_only, kind, words) in table {
            let d = decide(
                "admin@contoso.onmicrosoft.com",
                &active,
                &eligible,
                app_only,
            );
            let got = match d {
                RoleDecision::Pass(_) => "pass",
                RoleDecision::PassWithWarning(_) => "warn",
                RoleDecision::Refuse(_) => "refuse",
            };
            assert_eq!(got, kind, "{active:?} {eligible:?} {app_only}");
            assert!(
                d.message().contains(words),
                "{:?} lacks {words:?}",
                d.message()
            );
        }
    }
}
