//! Planning: from a `[[directory]]` and the features to the list of targets, each with its current DACL, the
//! ACEs it needs and the DACL after. Nothing here writes; `apply`, `check` and `revert` start from a [`Plan`].

use futures::future::try_join_all;

use super::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK, UNEXPIRE_PASSWORD, schema_names};
use crate::ad::account::Account;
use std::collections::HashMap;

use crate::ad::access::Tokens;
use crate::ad::connection::{DaclRead, DcRef};
use crate::ad::dcs::Dcs;
use crate::ad::discovery::Forest;
use crate::ad::discovery::{Domain, by_domain};
use crate::ad::dn::Dn;
use crate::ad::{ConnectionSettings, Session, schema};
use crate::answers::{Directory, Features, Scope};
use crate::error::{Error, Result};
use crate::security::{Ace, SecurityDescriptor, Sid, Token};

/// What a target is, which decides how the rights apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    DomainRoot,
    Container,
    /// Neither OU nor container (e.g. one user): the rights go on the object itself.
    Object,
    AdminSdHolder,
}

impl TargetKind {
    /// What a selected object is, from its objectClass values.
    pub fn of_selected(classes: &[String]) -> Self {
        let has = |c: &str| classes.iter().any(|x| x.eq_ignore_ascii_case(c));
        if has("domainDNS") {
            Self::DomainRoot
        } else if has("organizationalUnit") || has("container") || has("builtinDomain") {
            Self::Container
        } else {
            Self::Object
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::DomainRoot => "domain root",
            Self::Container => "OU/container",
            Self::Object => "object",
            Self::AdminSdHolder => "AdminSDHolder",
        }
    }
}

/// One object's part of the plan. The descriptor after is always the one before with `to_add` merged in
/// (fields are private so that cannot drift apart).
#[derive(Debug, Clone)]
pub struct TargetPlan {
    pub dn: String,
    pub kind: TargetKind,
    pub grants: Vec<Grant>,
    /// The DACL-only descriptor as read.
    original: Vec<u8>,
    before: SecurityDescriptor,
    /// The ACEs to insert (those not already present), in the order of `grants`.
    to_add: Vec<(Grant, Ace)>,
    /// Grants the connector already holds through a group (not added again unless asked).
    held_via: Vec<(Grant, Sid)>,
    after: SecurityDescriptor,
    /// The admin account may change this DACL (WRITE_DAC), as the server reports it.
    writable: bool,
    /// The object's GUID, which finds it again after a move or rename.
    guid: Option<crate::security::Guid>,
    /// The DC of the target's domain that read it and will write it, and how it was reached.
    pub dc: DcRef,
}

impl TargetPlan {
    pub fn changes(&self) -> bool {
        !self.to_add.is_empty()
    }

    pub fn original(&self) -> &[u8] {
        &self.original
    }

    pub fn before(&self) -> &SecurityDescriptor {
        &self.before
    }

    pub fn after(&self) -> &SecurityDescriptor {
        &self.after
    }

    pub fn to_add(&self) -> &[(Grant, Ace)] {
        &self.to_add
    }

    /// Grants the connector already holds on this target through a group, with the group's SID.
    pub fn held_via(&self) -> &[(Grant, Sid)] {
        &self.held_via
    }

    pub fn added_aces(&self) -> Vec<Ace> {
        self.to_add.iter().map(|(_, a)| a.clone()).collect()
    }

    pub fn writable(&self) -> bool {
        self.writable
    }

    pub fn guid(&self) -> Option<crate::security::Guid> {
        self.guid
    }
}

/// How to plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Add the connector's own explicit ACE even where it holds the right through a group.
    pub explicit: bool,
}

/// The forest's DCs (signed in) with everything resolved, and the per-target plan.
pub struct Plan {
    /// A DC of each domain the plan touches.
    pub dcs: Dcs,
    /// The first DC (the one `url` or DNS gave for the forest).
    pub session: Session,
    pub settings: ConnectionSettings,
    pub forest: Forest,
    pub connector: Account,
    /// The connector and the admin as the answers name them.
    pub connector_name: String,
    pub admin_name: String,
    /// How the admin signs in (for the journal).
    pub auth: crate::answers::Auth,
    pub spn_host: Option<String>,
    targets: Vec<TargetPlan>,
    /// Names of the groups through which the connector already holds some rights.
    pub group_names: std::collections::HashMap<Sid, String>,
    pub warnings: Vec<String>,
}

impl Plan {
    /// Connects, binds as the admin, discovers the forest, verifies the schema GUIDs, resolves the connector,
    /// reads every target's DACL (as many at once as the session allows) and computes the changes. Any bad
    /// input, and any DACL that would outgrow its size limit, fails here, before a write.
    pub async fn prepare(directory: &Directory, features: &Features) -> Result<Self> {
        Self::prepare_with(directory, features, PlanOptions::default()).await
    }

    pub async fn prepare_with(
        directory: &Directory,
        features: &Features,
        options: PlanOptions,
    ) -> Result<Self> {
        let (dcs, connector) = connect(directory, true).await?;
        let (reads, token) = futures::try_join!(
            read_candidates(directory, features, &dcs),
            crate::ad::access::token(&dcs, &connector)
        )?;
        Self::from_reads(directory, features, options, dcs, connector, reads, &token).await
    }

    /// The plan from what was read of the candidate targets ([`candidates`]): a selected object missing from
    /// `reads` does not exist. `token` is the connector's (rights it holds through groups).
    pub(crate) async fn from_reads(
        directory: &Directory,
        features: &Features,
        options: PlanOptions,
        dcs: Dcs,
        connector: Account,
        mut reads: Reads,
        token: &Tokens,
    ) -> Result<Self> {
        let forest = dcs.forest().clone();
        let session = dcs.primary().clone();
        let specs = target_specs(directory, features, &forest, &reads)?;
        // With --explicit, rights held through groups do not count: the connector gets its own ACEs.
        let via = (!options.explicit).then_some(token);
        let targets = specs
            .into_iter()
            .map(|(dn, kind, grants)| {
                let key = Dn::parse(&dn).map(|d| d.key()).unwrap_or_default();
                let (read, dc) = reads.remove(&key).flatten().ok_or_else(|| {
                    Error::runtime(format!("{dn} does not exist"))
                        .hint("nothing was written; check the forest's objects")
                })?;
                let token = via.map(|t| t.for_dn(&forest, &dn));
                let mut target = plan_target(dn, kind, grants, read.sd, &connector.sid, token)?;
                target.writable = read.writable;
                target.guid = read.guid;
                target.dc = dc;
                Ok(target)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut warnings = directory.security_warnings();
        for t in &targets {
            if t.before.dacl.as_ref().is_some_and(|d| !d.is_canonical()) {
                warnings.push(format!("the DACL of {} is not in canonical order; it is left as it is apart from the additions", t.dn));
            }
        }
        if let Some(refusal) = not_writable(&targets) {
            warnings.push(format!("apply would refuse: {}", refusal.message));
        }
        let groups: Vec<&Sid> = targets
            .iter()
            .flat_map(|t| t.held_via.iter().map(|(_, g)| g))
            .collect();
        let group_names = if groups.is_empty() {
            Default::default()
        } else {
            crate::ad::access::names_of(&dcs, groups.into_iter()).await?
        };
        Ok(Self {
            dcs,
            session,
            settings: ConnectionSettings::from(directory),
            forest,
            connector,
            connector_name: directory.connector.clone(),
            admin_name: directory.admin.clone(),
            auth: directory.auth,
            spn_host: directory.spn_host.clone(),
            targets,
            group_names,
            warnings,
        })
    }

    /// A group's name for messages (its SID when it has none).
    pub fn group_name(&self, sid: &Sid) -> String {
        self.group_names
            .get(sid)
            .cloned()
            .unwrap_or_else(|| sid.to_string())
    }

    pub fn targets(&self) -> &[TargetPlan] {
        &self.targets
    }

    pub fn changed(&self) -> impl Iterator<Item = &TargetPlan> {
        self.targets.iter().filter(|t| t.changes())
    }

    /// The error apply gives, before any write, when the admin may not change some DACL it has to change.
    pub fn refusal(&self) -> Option<Error> {
        not_writable(&self.targets)
    }
}

/// Names every target the admin may not change (WRITE_DAC), and explains the domain root's Unexpire Password.
fn not_writable(targets: &[TargetPlan]) -> Option<Error> {
    let refused: Vec<&TargetPlan> = targets
        .iter()
        .filter(|t| t.changes() && !t.writable)
        .collect();
    if refused.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let mut names: Vec<&str> = refused.iter().take(SHOWN).map(|t| t.dn.as_str()).collect();
    let more = refused.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    names.sort_unstable();
    let only_unexpire_roots = refused.iter().all(|t| {
        t.kind == TargetKind::DomainRoot
            && t.to_add.iter().all(|(g, _)| g.right == UNEXPIRE_PASSWORD)
    });
    let hint = if only_unexpire_roots {
        "Unexpire Password is granted on the domain root, which takes Modify permissions there (a Domain Admin, or an Enterprise Admin for every domain): run apply as such an account, or set features.unexpire_password = false and ask one to grant it".to_string()
    } else {
        "run as an account with Modify permissions (WRITE_DAC) on these objects: a Domain Admin, an Enterprise Admin for every domain, or one delegated \"Modify permissions\" there; nothing was written".to_string()
    };
    Some(
        Error::runtime(format!(
            "the admin account may not change the permissions (WRITE_DAC) of {}{more}",
            names.join("; ")
        ))
        .hint(hint),
    )
}

/// Connects and signs in (the first DC, then each domain's as needed), discovers the forest, checks it is the
/// one the answers name, and resolves the connector forest-wide (with the schema GUIDs verified alongside
/// when `verify_schema`).
pub async fn connect(directory: &Directory, verify_schema: bool) -> Result<(Dcs, Account)> {
    let dcs = Dcs::open(directory).await?;
    let expected = if verify_schema {
        schema_names()
    } else {
        Vec::new()
    };
    let (connector, ()) = futures::try_join!(
        Account::resolve(&dcs, &directory.connector, "connector"),
        async {
            if expected.is_empty() {
                Ok(())
            } else {
                schema::verify(dcs.primary(), dcs.forest(), &expected).await
            }
        }
    )?;
    Ok((dcs, connector))
}

/// Computes the DACL after adding `grants` for `trustee` (the connector). With `via` (the connector's token),
/// a right it holds through one of its groups is not added again.
pub fn plan_target(
    dn: String,
    kind: TargetKind,
    grants: Vec<Grant>,
    original: Vec<u8>,
    trustee: &Sid,
    via: Option<&Token>,
) -> Result<TargetPlan> {
    let before = SecurityDescriptor::from_bytes(&original).map_err(|e| {
        Error::runtime(format!(
            "cannot decode the security descriptor of {dn}: {e}"
        ))
        .hint("nothing was written; please report this descriptor")
    })?;
    let mut after = before.clone();
    let dacl = after.dacl.get_or_insert_with(Default::default);
    let mut to_add = Vec::new();
    let mut held_via = Vec::new();
    for grant in &grants {
        let ace = grant.ace(trustee);
        if dacl.explicitly_covers(&ace) {
            continue;
        }
        if let Some(group) = via.and_then(|token| super::dacl::held_via_group(dacl, &ace, token)) {
            held_via.push((grant.clone(), group));
            continue;
        }
        if dacl.insert_canonical(ace.clone()) {
            to_add.push((grant.clone(), ace));
        }
    }
    if let Err(e) = after.to_bytes() {
        return Err(Error::runtime(format!(
            "{dn}: with the new ACEs the DACL cannot be stored: {e}"
        ))
        .hint("an ACL holds at most 64 KB: remove explicit ACEs that are no longer needed there, or grant on a parent OU instead; nothing was written"));
    }
    Ok(TargetPlan {
        dn,
        kind,
        grants,
        original,
        before,
        to_add,
        held_via,
        after,
        writable: true,
        guid: None,
        dc: DcRef::default(),
    })
}

/// What was read for each candidate target (by DN key): its DACL, and the DC that read it; `None` when it
/// does not exist.
pub(crate) type Reads = HashMap<String, Option<(DaclRead, DcRef)>>;

/// The domains in scope: every domain, or those holding a selected OU (each OU checked to be in the forest).
fn domains_in_scope<'a>(directory: &Directory, forest: &'a Forest) -> Result<Vec<&'a Domain>> {
    let mut out: Vec<&Domain> = Vec::new();
    match directory.scope {
        Scope::Domains => out.extend(forest.domains.iter()),
        Scope::Selected => {
            for (i, ou) in directory.ous().iter().enumerate() {
                let domain = forest.domain_of(ou).ok_or_else(|| {
                    Error::usage(format!(
                        "ous[{}]: {ou} is not in forest {}",
                        i + 1,
                        forest.forest_name()
                    ))
                    .hint("list DNs that end with a domain of this forest")
                })?;
                if !out.iter().any(|d| d.nc.same_as(&domain.nc)) {
                    out.push(domain);
                }
            }
        }
    }
    Ok(out)
}

/// Every object that may become a target (selected OUs, domain roots, AdminSDHolder), per domain, each DN
/// once.
pub(crate) fn candidates(
    directory: &Directory,
    features: &Features,
    forest: &Forest,
) -> Result<Vec<(Domain, Vec<String>)>> {
    let mut all: Vec<(Domain, String)> = Vec::new();
    for domain in domains_in_scope(directory, forest)? {
        all.push((domain.clone(), domain.nc.to_string()));
        if features.admin_sd_holder {
            all.push((
                domain.clone(),
                format!("CN=AdminSDHolder,CN=System,{}", domain.nc),
            ));
        }
    }
    if directory.scope == Scope::Selected {
        for ou in directory.ous() {
            if let Some(domain) = forest.domain_of(&ou) {
                all.push((domain.clone(), ou.to_string()));
            }
        }
    }
    let mut per_domain = by_domain(all);
    // Each object once, however its DN was spelled (case, spacing).
    let key = |dn: &String| Dn::parse(dn).map_or_else(|_| dn.clone(), |d| d.key());
    for (_, dns) in &mut per_domain {
        dns.sort_by_key(key);
        dns.dedup_by_key(|dn| key(dn));
    }
    Ok(per_domain)
}

/// Reads every candidate target, each domain's on its own DC and siblings together, in one pass.
async fn read_candidates(directory: &Directory, features: &Features, dcs: &Dcs) -> Result<Reads> {
    let per_domain = candidates(directory, features, dcs.forest())?;
    read_these(dcs, per_domain).await
}

/// Reads these objects (per domain, on its DC, siblings together) into [`Reads`].
pub(crate) async fn read_these(dcs: &Dcs, per_domain: Vec<(Domain, Vec<String>)>) -> Result<Reads> {
    let reads = try_join_all(per_domain.into_iter().map(|(domain, dns)| async move {
        let session = dcs.for_domain(&domain).await?;
        let found = session.read_dacls(&dns).await?;
        Ok::<_, Error>(
            dns.into_iter()
                .zip(found)
                .map(|(dn, r)| {
                    let key = Dn::parse(&dn).map(|d| d.key()).unwrap_or_default();
                    (key, r.map(|r| (r, session.dc().clone())))
                })
                .collect::<Vec<_>>(),
        )
    }))
    .await?;
    Ok(reads.into_iter().flatten().collect())
}

/// (DN, kind, grants) for every target, merged per DN, from what was read: a selected object's class decides
/// how the rights apply to it, and one that does not exist is an error naming it.
fn target_specs(
    directory: &Directory,
    features: &Features,
    forest: &Forest,
    reads: &Reads,
) -> Result<Vec<(String, TargetKind, Vec<Grant>)>> {
    let writeback = |applies_to: AppliesTo| -> Vec<Grant> {
        if features.password_writeback {
            PASSWORD_WRITEBACK
                .iter()
                .map(|r| Grant {
                    right: *r,
                    applies_to,
                })
                .collect()
        } else {
            Vec::new()
        }
    };
    let unexpire = || -> Vec<Grant> {
        if features.unexpire_password {
            vec![Grant {
                right: UNEXPIRE_PASSWORD,
                applies_to: AppliesTo::ThisObject,
            }]
        } else {
            Vec::new()
        }
    };
    let mut specs: Vec<(Dn, TargetKind, Vec<Grant>)> = Vec::new();
    let domains = domains_in_scope(directory, forest)?;
    match directory.scope {
        Scope::Domains => {
            for d in &domains {
                specs.push((
                    d.nc.clone(),
                    TargetKind::DomainRoot,
                    writeback(AppliesTo::DescendantUsers),
                ));
            }
        }
        Scope::Selected => {
            for (i, ou) in directory.ous().into_iter().enumerate() {
                let classes = match reads.get(&ou.key()) {
                    Some(Some((read, _))) => &read.classes,
                    _ => {
                        return Err(Error::usage(format!("ous[{}]: {ou} does not exist", i + 1))
                            .hint("check the DN's spelling; nothing was written"));
                    }
                };
                let kind = TargetKind::of_selected(classes);
                let applies = if kind == TargetKind::Object {
                    AppliesTo::ThisObject
                } else {
                    AppliesTo::DescendantUsers
                };
                specs.push((ou, kind, writeback(applies)));
            }
        }
    }
    for d in &domains {
        specs.push((d.nc.clone(), TargetKind::DomainRoot, unexpire()));
        if features.admin_sd_holder {
            let holder = Dn::parse(&format!("CN=AdminSDHolder,CN=System,{}", d.nc))
                .map_err(Error::runtime)?;
            specs.push((
                holder,
                TargetKind::AdminSdHolder,
                writeback(AppliesTo::ThisObjectAndDescendants),
            ));
        }
    }
    // One target per DN (by key, so linear): a domain root listed twice gets both sets of grants in one write.
    let mut merged: Vec<(Dn, TargetKind, Vec<Grant>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (dn, kind, grants) in specs {
        match index.get(&dn.key()) {
            Some(&i) => {
                let existing = &mut merged[i].2;
                for g in grants {
                    if !existing.contains(&g) {
                        existing.push(g);
                    }
                }
            }
            None => {
                index.insert(dn.key(), merged.len());
                merged.push((dn, kind, grants));
            }
        }
    }
    Ok(merged
        .into_iter()
        .filter(|(_, _, g)| !g.is_empty())
        .map(|(dn, kind, g)| (dn.to_string(), kind, g))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::profile::PASSWORD_WRITEBACK;
    use crate::security::{Acl, parse_ace};

    fn dacl_with(n: u32) -> Vec<u8> {
        let mut acl = Acl::default();
        acl.aces = (0..n)
            .map(|i| parse_ace(&format!("(A;;RP;;;S-1-5-21-1-2-3-{})", 10_000 + i)).unwrap())
            .collect();
        SecurityDescriptor::with_dacl(0, acl).to_bytes().unwrap()
    }

    fn grants() -> Vec<Grant> {
        PASSWORD_WRITEBACK
            .iter()
            .map(|r| Grant {
                right: *r,
                applies_to: AppliesTo::DescendantUsers,
            })
            .collect()
    }

    #[test]
    fn a_dacl_that_would_outgrow_64_kb_is_refused_by_the_plan() {
        let sid: Sid = "S-1-5-21-1-2-3-1108".parse().unwrap();
        // 1,820 ACEs of 36 bytes: 65,528 bytes with the header, just under the limit, until ours go in.
        let full = dacl_with(1820);
        let err = plan_target(
            "OU=Big,DC=x".into(),
            TargetKind::Container,
            grants(),
            full,
            &sid,
            None,
        )
        .expect_err("refused");
        assert!(err.message.starts_with("OU=Big,DC=x:"), "{}", err.message);
        assert!(err.message.contains("ACL size"), "{}", err.message);
        assert!(err.hint.unwrap().contains("64 KB"));
        let roomy = dacl_with(1700);
        let plan = plan_target(
            "OU=Ok,DC=x".into(),
            TargetKind::Container,
            grants(),
            roomy,
            &sid,
            None,
        )
        .unwrap();
        assert_eq!(plan.to_add().len(), 4);
    }
}
