//! Effective access for every user in scope: can the connector reset, change, write lockoutTime and write
//! pwdLastSet for this user, as the DC would decide it, and if not, why. The decision is the pure access check
//! ([`crate::security::access`]) on each user's stored descriptor; this module gathers the inputs (paged, in
//! constant memory) and turns a refusal into a reason an administrator can act on.

use std::collections::{BTreeMap, HashSet};

use ldap3::{Scope, SearchEntry};
use serde::Serialize;

use super::plan::Plan;
use super::profile::{
    CHANGE_PASSWORD, RESET_PASSWORD, UNEXPIRE_PASSWORD, WRITE_LOCKOUT_TIME, WRITE_PWD_LAST_SET,
};
use crate::ad::access::{SchemaGuids, Tokens};
use crate::ad::connection::{binary_attr, text_attr, text_attrs};
use crate::ad::dn::Dn;
use crate::error::{Error, Result};
use crate::security::access::{EVERYONE, PRINCIPAL_SELF, check};
use crate::security::{
    Ace, AceFlags, Guid, Place, Reach, Request, SecurityDescriptor, Sid, Token, Unsure, Verdict,
    reach,
};

/// The four per-user rights, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRight {
    Reset,
    Change,
    LockoutTime,
    PwdLastSet,
}

impl UserRight {
    pub const ALL: [Self; 4] = [
        Self::Reset,
        Self::Change,
        Self::LockoutTime,
        Self::PwdLastSet,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Reset => RESET_PASSWORD.label,
            Self::Change => CHANGE_PASSWORD.label,
            Self::LockoutTime => WRITE_LOCKOUT_TIME.label,
            Self::PwdLastSet => WRITE_PWD_LAST_SET.label,
        }
    }

    /// The access request on an object of class `class`.
    pub fn request(self, class: Guid, schema: &SchemaGuids) -> Request {
        match self {
            Self::Reset => Request::control_access(class, RESET_PASSWORD.guid),
            Self::Change => Request::control_access(class, CHANGE_PASSWORD.guid),
            Self::LockoutTime | Self::PwdLastSet => {
                let attribute = if self == Self::LockoutTime {
                    WRITE_LOCKOUT_TIME.guid
                } else {
                    WRITE_PWD_LAST_SET.guid
                };
                Request::write_property(class, schema.property_set(&attribute), attribute)
            }
        }
    }
}

/// The attributes whose property sets the checks need from the schema.
pub fn schema_attributes() -> Vec<Guid> {
    vec![WRITE_LOCKOUT_TIME.guid, WRITE_PWD_LAST_SET.guid]
}

/// Why one right is refused, as something to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub right: UserRight,
    /// A stable word: no-grant, deny, user-cannot-change-password, inheritance-disabled-user,
    /// inheritance-disabled-ou, protected-account, wrong-object-type, uncertain.
    pub kind: &'static str,
    pub detail: String,
    /// For `uncertain`: the reason the right would be refused if the uncertain ACE does not apply
    /// (absent when it would be granted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<&'static str>,
}

/// Why an ACE could decide a right but cannot be read as a grant or a deny, naming the ACE.
pub fn uncertain_text(ace: &Ace, why: Unsure) -> String {
    let trustee = ace.sid().map(ToString::to_string);
    match why {
        Unsure::Opaque => format!(
            "{ace} is an ACE this tool cannot evaluate (a callback or conditional ACE, or one with fields it does not know); it may decide this right"
        ),
        Unsure::Trustee => format!(
            "{ace} is for {}, which may be a domain-local group of this object's domain: the connector's groups were read in its own domain, where those are not listed",
            trustee.as_deref().unwrap_or("a trustee")
        ),
        Unsure::Class => format!(
            "{ace} applies to one class of objects only, and the class of the object is not known"
        ),
    }
}

/// One user's verdicts, as `check --users --json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct UserReport {
    pub dn: String,
    pub reset: bool,
    pub change: bool,
    pub lockout_time: bool,
    pub pwd_last_set: bool,
    pub reasons: Vec<Reason>,
}

impl UserReport {
    pub fn covered(&self) -> bool {
        self.reset && self.change && self.lockout_time && self.pwd_last_set
    }

    /// Not covered, but only because of ACEs that cannot be evaluated: nothing is known to block it.
    pub fn uncertain(&self) -> bool {
        !self.covered() && self.reasons.iter().all(|r| r.kind == "uncertain")
    }
}

/// What a user object brings to the check.
#[derive(Debug, Clone)]
pub struct UserObject {
    pub dn: String,
    pub sid: Option<Sid>,
    pub classes: Vec<String>,
    pub admin_count: bool,
    pub sd: SecurityDescriptor,
}

impl UserObject {
    pub fn from_entry(e: &SearchEntry) -> Result<Self> {
        let sd = binary_attr(e, "nTSecurityDescriptor")
            .ok_or_else(|| {
                Error::runtime(format!(
                    "{}: the server returned no security descriptor",
                    e.dn
                ))
                .hint("the admin account needs Read permissions on the users in scope")
            })
            .and_then(|b| {
                SecurityDescriptor::from_bytes(&b).map_err(|err| {
                    Error::runtime(format!("{}: cannot decode its descriptor: {err}", e.dn))
                        .caused_by(err)
                })
            })?;
        Ok(Self {
            dn: e.dn.clone(),
            sid: binary_attr(e, "objectSid").and_then(|b| Sid::from_bytes(&b).ok()),
            classes: text_attrs(e, "objectClass"),
            admin_count: text_attr(e, "adminCount") == Some("1"),
            sd,
        })
    }
}

pub const USER_ATTRS: &[&str] = &[
    "nTSecurityDescriptor",
    "objectSid",
    "objectClass",
    "adminCount",
];
const USER_FILTER: &str = "(&(objectCategory=person)(objectClass=user))";
const CONTAINER_FILTER: &str = "(|(objectClass=organizationalUnit)(objectClass=container))";

/// Every right of one user, each with its verdict.
pub fn evaluate(
    token: &Token,
    schema: &SchemaGuids,
    user: &UserObject,
) -> Vec<(UserRight, Verdict, Request)> {
    let Some((_, class)) = schema.structural_class(&user.classes) else {
        return Vec::new();
    };
    UserRight::ALL
        .iter()
        .map(|right| {
            let request = right.request(class, schema);
            (
                *right,
                check(token, &user.sd, user.sid.as_ref(), &request),
                request,
            )
        })
        .collect()
}

/// The verdicts of one user, with a reason for each refusal. `protected_above` is the nearest OU or
/// container between the scope and the user whose inheritance is disabled.
pub fn report(
    token: &Token,
    schema: &SchemaGuids,
    user: &UserObject,
    protected_above: Option<&str>,
) -> UserReport {
    let verdicts = evaluate(token, schema, user);
    let granted = |r: UserRight| {
        verdicts
            .iter()
            .any(|(right, v, _)| *right == r && v.granted())
    };
    let mut reasons = Vec::new();
    if verdicts.is_empty() {
        for right in UserRight::ALL {
            reasons.push(Reason {
                right,
                kind: "no-grant",
                detail: format!(
                    "its class ({}) is not in the schema as read",
                    user.classes.join(", ")
                ),
                otherwise: None,
            });
        }
    }
    for (right, verdict, request) in &verdicts {
        if !verdict.granted() {
            reasons.push(reason(
                token,
                schema,
                user,
                protected_above,
                *right,
                verdict,
                request,
            ));
        }
    }
    UserReport {
        dn: user.dn.clone(),
        reset: granted(UserRight::Reset),
        change: granted(UserRight::Change),
        lockout_time: granted(UserRight::LockoutTime),
        pwd_last_set: granted(UserRight::PwdLastSet),
        reasons,
    }
}

fn reason(
    token: &Token,
    schema: &SchemaGuids,
    user: &UserObject,
    protected_above: Option<&str>,
    right: UserRight,
    verdict: &Verdict,
    request: &Request,
) -> Reason {
    let make = |kind, detail: String| Reason {
        right,
        kind,
        detail,
        otherwise: None,
    };
    if let Verdict::Uncertain {
        ace,
        why,
        otherwise,
        ..
    } = verdict
    {
        let mut detail = uncertain_text(ace, *why);
        let mut then = None;
        if otherwise.granted() {
            detail.push_str("; without it, the right is granted");
        } else {
            let r = reason(
                token,
                schema,
                user,
                protected_above,
                right,
                otherwise,
                request,
            );
            detail.push_str(&format!("; without it: {}", r.detail));
            then = Some(r.kind);
        }
        return Reason {
            otherwise: then,
            ..make("uncertain", detail)
        };
    }
    if let Verdict::Denied { ace, .. } = verdict {
        let trustee = ace.sid().map(ToString::to_string).unwrap_or_default();
        if right == UserRight::Change
            && !ace.is_inherited()
            && (trustee == EVERYONE || trustee == PRINCIPAL_SELF)
        {
            return make(
                "user-cannot-change-password",
                format!(
                    "\"User cannot change password\" is set on this user: {ace} denies Change Password"
                ),
            );
        }
        let place = if ace.is_inherited() {
            "inherited from an object above"
        } else {
            "set on the user itself"
        };
        return make("deny", format!("denied by {ace} ({place})"));
    }
    if user.admin_count {
        return make(
            "protected-account",
            "adminCount=1: SDProp gives this account AdminSDHolder's permissions, which do not grant it (features.admin_sd_holder grants them there)".into(),
        );
    }
    if user.sd.dacl_protected() {
        return make(
            "inheritance-disabled-user",
            "inheritance is disabled on this user, so the rights granted above never reach it"
                .into(),
        );
    }
    if let Some(ou) = protected_above {
        return make(
            "inheritance-disabled-ou",
            format!(
                "inheritance is disabled on {ou}, so the rights granted above it never reach this user"
            ),
        );
    }
    if let Some(other) = wrong_object_type(token, user, request, schema) {
        return make(
            "wrong-object-type",
            format!(
                "a grant exists but applies to {other} objects only, and this user is a {}",
                user.classes.last().map_or("?", String::as_str)
            ),
        );
    }
    make(
        "no-grant",
        "no ACE grants it to the connector or a group it is in".into(),
    )
}

/// An inherited grant to the token for this right that the DC left inherit-only on this object because its
/// inherited object type is another class: the class's name.
fn wrong_object_type(
    token: &Token,
    user: &UserObject,
    request: &Request,
    schema: &SchemaGuids,
) -> Option<String> {
    let dacl = user.sd.dacl.as_ref()?;
    dacl.aces.iter().find_map(|a| {
        if !a
            .flags
            .contains(AceFlags::INHERITED | AceFlags::INHERIT_ONLY)
        {
            return None;
        }
        let other = a.access()?.inherited_object_type?;
        // What the copy would do had the DC not left it inherit-only here.
        let mut effective = a.clone();
        effective.flags.0 &= !AceFlags::INHERIT_ONLY;
        let grants = reach(&effective, request, Place::Itself, |sid| {
            token.member(sid, user.sid.as_ref())
        }) == Reach::Grants;
        (grants && Some(other) != request.class).then(|| {
            schema
                .class_name(&other)
                .unwrap_or_else(|| other.to_string())
        })
    })
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub users: usize,
    pub fully_covered: usize,
    /// Users with a right known to be refused.
    pub blocked: usize,
    /// Users with no right known to be refused but one that an ACE this tool cannot evaluate may decide.
    pub uncertain: usize,
    /// Users blocked, by reason kind (a user with two kinds counts in both).
    pub by_reason: BTreeMap<&'static str, usize>,
    /// Unexpire Password on each domain root in scope.
    pub unexpire_password: Vec<DomainRight>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainRight {
    pub domain: String,
    pub granted: bool,
    pub detail: String,
}

impl Summary {
    fn add(&mut self, r: &UserReport) {
        self.users += 1;
        if r.covered() {
            self.fully_covered += 1;
        } else {
            if r.uncertain() {
                self.uncertain += 1;
            } else {
                self.blocked += 1;
            }
            let kinds: HashSet<&'static str> = r.reasons.iter().map(|x| x.kind).collect();
            for k in kinds {
                *self.by_reason.entry(k).or_default() += 1;
            }
        }
    }

    /// Whether anything in scope is blocked or uncertain (check exits 3: writeback is not proven to work).
    pub fn any_blocked(&self) -> bool {
        self.blocked > 0 || self.uncertain > 0 || self.unexpire_password.iter().any(|d| !d.granted)
    }
}

/// Whether `dn` lies in `base`'s subtree within one naming context: ACEs never inherit from a parent domain
/// into a child domain.
fn inherits_from(plan: &Plan, dn: &Dn, base: &Dn) -> bool {
    let domain = |d: &Dn| plan.forest.domain_of(d).map(|x| x.nc.key());
    dn.is_within(base) && domain(dn) == domain(base)
}

/// The nearest subtree base of the plan's scope that holds `dn`, if any.
pub fn scope_base_of(plan: &Plan, dn: &str) -> Option<Dn> {
    let dn = Dn::parse(dn).ok()?;
    super::scope::bases(plan)
        .into_iter()
        .filter(|b| b.scope == Scope::Subtree)
        .filter_map(|b| Dn::parse(&b.dn).ok())
        .filter(|b| inherits_from(plan, &dn, b) && !dn.same_as(b))
        .max_by_key(|b| b.ancestor_keys().count())
}

/// Whether `dn` lies in the scope of the plan (below a target that hands rights down, or a target itself).
pub fn in_scope(plan: &Plan, dn: &str) -> bool {
    let Ok(dn) = Dn::parse(dn) else {
        return false;
    };
    super::scope::bases(plan).iter().any(|b| {
        Dn::parse(&b.dn).is_ok_and(|base| match b.scope {
            Scope::Base => dn.same_as(&base),
            _ => inherits_from(plan, &dn, &base),
        })
    })
}

/// Walks every user in scope page by page and hands each report to `each`; memory stays flat however many
/// users there are (only the DNs of OUs with inheritance disabled are kept).
pub async fn check_users(
    plan: &Plan,
    tokens: &Tokens,
    schema: &SchemaGuids,
    mut each: impl FnMut(&UserReport),
) -> Result<Summary> {
    let mut summary = Summary::default();
    let bases = super::scope::bases(plan);
    // First the containers in scope whose inheritance is disabled (their DNs are all that is kept).
    let mut protected: HashSet<String> = HashSet::new();
    super::scope::walk(
        &plan.dcs,
        &bases,
        CONTAINER_FILTER,
        &["nTSecurityDescriptor"],
        |e, base| {
            let is_protected = binary_attr(&e, "nTSecurityDescriptor")
                .and_then(|b| SecurityDescriptor::from_bytes(&b).ok())
                .is_some_and(|sd| sd.dacl_protected());
            if let (true, Ok(dn)) = (is_protected, Dn::parse(&e.dn))
                && dn.key() != base.key
            {
                protected.insert(dn.key());
            }
        },
    )
    .await?;
    let mut failure: Option<Error> = None;
    super::scope::walk(&plan.dcs, &bases, USER_FILTER, USER_ATTRS, |e, _| {
        let user = match UserObject::from_entry(&e) {
            Ok(u) => u,
            Err(err) => {
                failure.get_or_insert(err);
                return;
            }
        };
        let above = ancestor_text(&user.dn, &protected);
        let token = tokens.for_dn(&plan.forest, &user.dn);
        let r = report(token, schema, &user, above.as_deref());
        summary.add(&r);
        each(&r);
    })
    .await?;
    if let Some(err) = failure {
        return Err(err);
    }
    summary.unexpire_password = unexpire(plan, tokens, schema).await?;
    Ok(summary)
}

/// The DN (as the server wrote it) of the nearest protected ancestor of `dn`.
fn ancestor_text(dn: &str, protected: &HashSet<String>) -> Option<String> {
    let mut next = Dn::parse(dn).ok()?.parent();
    while let Some(ancestor) = next {
        if protected.contains(&ancestor.key()) {
            return Some(ancestor.to_string());
        }
        next = ancestor.parent();
    }
    None
}

#[cfg(test)]
mod ancestor_tests {
    #[test]
    fn a_comma_inside_a_name_does_not_split_it() {
        let dn = r"CN=Doe\, Jane,OU=Smith\, J,OU=Lab,DC=x";
        let protected =
            std::collections::HashSet::from([super::Dn::parse("ou=lab,dc=x").unwrap().key()]);
        assert_eq!(
            super::ancestor_text(dn, &protected).as_deref(),
            Some("OU=Lab,DC=x")
        );
        let protected =
            std::collections::HashSet::from([super::Dn::parse(r"OU=smith\2C J,OU=Lab,DC=x")
                .unwrap()
                .key()]);
        assert_eq!(
            super::ancestor_text(dn, &protected).as_deref(),
            Some(r"OU=Smith\, J,OU=Lab,DC=x")
        );
    }
}

/// Unexpire Password on the root of each domain whose users are in scope.
async fn unexpire(plan: &Plan, tokens: &Tokens, schema: &SchemaGuids) -> Result<Vec<DomainRight>> {
    let Some(domain_class) = schema.class("domainDNS") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for b in super::scope::bases(plan) {
        let Some(domain) = plan
            .forest
            .domain_of(&Dn::parse(&b.dn).map_err(Error::runtime)?)
        else {
            continue;
        };
        let nc = domain.nc.to_string();
        if seen.contains(&nc) {
            continue;
        }
        seen.push(nc.clone());
        let bytes = plan.dcs.for_domain(domain).await?.read_dacl(&nc).await?.sd;
        let sd = SecurityDescriptor::from_bytes(&bytes).map_err(|e| {
            Error::runtime(format!("{nc}: cannot decode its descriptor: {e}")).caused_by(e)
        })?;
        let verdict = check(
            tokens.for_dn(&plan.forest, &nc),
            &sd,
            None,
            &Request::control_access(domain_class, UNEXPIRE_PASSWORD.guid),
        );
        let detail = match &verdict {
            Verdict::Allowed { ace, .. } => format!("granted by {ace}"),
            Verdict::NullDacl => "the domain root has no DACL".into(),
            Verdict::Denied { ace, .. } => format!("denied by {ace}: a reset that unexpires the password sets pwdLastSet = 0 instead (the user must change it at next logon)"),
            Verdict::Uncertain { ace, why, .. } => format!("uncertain: {}", uncertain_text(ace, *why)),
            Verdict::NotGranted => "not granted: a reset that unexpires the password sets pwdLastSet = 0 instead (the user must change it at next logon); features.unexpire_password grants it".into(),
        };
        out.push(DomainRight {
            domain: nc,
            granted: verdict.granted(),
            detail,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::profile::{PROPERTY_SETS, USER_CLASS};
    use crate::security::{Acl, parse_ace};

    const CONNECTOR: &str = "S-1-5-21-1-2-3-1108";

    fn schema() -> SchemaGuids {
        SchemaGuids::from_parts(
            &[("top", Guid::from_u128(1)), ("user", USER_CLASS.1)],
            PROPERTY_SETS,
        )
    }

    fn user(aces: Vec<Ace>) -> UserObject {
        let mut acl = Acl::default();
        acl.aces = aces;
        UserObject {
            dn: "CN=u,OU=In,DC=corp,DC=example,DC=test".into(),
            sid: Some("S-1-5-21-1-2-3-1500".parse().unwrap()),
            classes: vec!["top".into(), "user".into()],
            admin_count: false,
            sd: SecurityDescriptor::with_dacl(0, acl),
        }
    }

    /// Our four rights, inherited from the OU.
    fn granted() -> Vec<Ace> {
        [
            "00299570-246d-11d0-a768-00aa006e0529",
            "ab721a53-1e2f-11d0-9819-00aa0040529b",
        ]
        .iter()
        .map(|r| format!("(OA;ID;CR;{r};;{CONNECTOR})"))
        .chain(
            [
                "28630ebf-41d5-11d1-a9c1-0000f80367c1",
                "bf967a0a-0de6-11d0-a285-00aa003049e2",
            ]
            .iter()
            .map(|r| format!("(OA;ID;WP;{r};;{CONNECTOR})")),
        )
        .map(|s| parse_ace(&s).unwrap())
        .collect()
    }

    /// A callback (conditional) deny of Reset Password for the connector, kept opaque by the codec.
    fn callback_deny() -> Ace {
        let mut body = 0x100u32.to_le_bytes().to_vec();
        body.extend_from_slice(&CONNECTOR.parse::<Sid>().unwrap().to_bytes());
        body.extend_from_slice(b"artx\x01\x00\x00\x00");
        let mut bytes = vec![0x0A, 0, u8::try_from(body.len() + 4).unwrap(), 0];
        bytes.extend_from_slice(&body);
        Ace::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn an_opaque_deny_first_makes_the_user_uncertain_not_covered() {
        let token = Token::new(CONNECTOR.parse().unwrap(), []);
        let deny = callback_deny();
        let mut aces = vec![deny.clone()];
        aces.extend(granted());
        let r = report(&token, &schema(), &user(aces), None);
        // A CR deny without object type speaks to every extended right: Reset and Change.
        assert!(
            !r.reset && !r.change && r.lockout_time && r.pwd_last_set,
            "{r:?}"
        );
        assert!(r.uncertain());
        assert_eq!(r.reasons.len(), 2);
        assert_eq!(r.reasons[0].kind, "uncertain");
        assert!(
            r.reasons[0].detail.contains(&deny.to_string()),
            "{:?}",
            r.reasons[0]
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["reasons"][0]["kind"], "uncertain");
        let mut summary = Summary::default();
        summary.add(&r);
        assert_eq!((summary.uncertain, summary.blocked), (1, 0));
        assert!(
            summary.any_blocked(),
            "check --users exits 3 on an uncertain user"
        );

        // Without it: covered.
        let r = report(&token, &schema(), &user(granted()), None);
        assert!(r.covered() && r.reasons.is_empty());
    }

    #[test]
    fn a_token_from_another_domain_is_flagged_where_a_local_group_could_decide() {
        let token = Token::without_domain_local_groups(CONNECTOR.parse().unwrap(), []);
        // An allow for Account Operators (BUILTIN, domain-local) and nothing for the connector.
        let aces = vec![parse_ace("(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;AO)").unwrap()];
        let r = report(&token, &schema(), &user(aces), None);
        assert!(r.uncertain(), "{r:?}");
        let reset = &r.reasons[0];
        assert_eq!(reset.otherwise, Some("no-grant"));
        assert!(reset.detail.contains("S-1-5-32-548"), "{reset:?}");
    }
}
