//! What lies below the targets: the bases of the scope, and walking them page by page in as few searches as
//! possible (when many targets share a parent, one subtree search of the parent instead of one per target),
//! with the work linear in the number of targets.

use std::collections::HashMap;

use ldap3::{Scope, SearchEntry};

use super::plan::{Plan, TargetKind};
use super::profile::AppliesTo;
use crate::ad::dcs::Dcs;
use crate::ad::discovery::Forest;
use crate::ad::dn::Dn;
use crate::error::Result;

/// Sibling bases from this many on are walked with one search of their parent.
const SHARED_PARENT: usize = 8;

/// A place whose objects are in scope: a target that hands rights down (its subtree), or an object targeted
/// itself (just it).
#[derive(Debug, Clone)]
pub struct Base {
    pub dn: String,
    pub key: String,
    pub scope: Scope,
}

/// The bases of the plan's scope, without one that lies inside another.
pub fn bases(plan: &Plan) -> Vec<Base> {
    bases_of(
        &plan.forest,
        plan.targets().iter().filter_map(|t| {
            let dn = Dn::parse(&t.dn).ok()?;
            let reaches_users = t
                .grants
                .iter()
                .any(|g| g.applies_to == AppliesTo::DescendantUsers);
            match t.kind {
                TargetKind::DomainRoot | TargetKind::Container if reaches_users => {
                    Some((dn, Scope::Subtree))
                }
                TargetKind::Object => Some((dn, Scope::Base)),
                _ => None,
            }
        }),
    )
}

/// These (DN, scope) places as bases, without one that lies inside a subtree base of its own domain and
/// without repeats. A child domain is not inside its parent's subtree: a search of the parent domain stops at
/// the child's naming context (AD returns a continuation reference, which the walk skips).
pub fn bases_of(forest: &Forest, places: impl IntoIterator<Item = (Dn, Scope)>) -> Vec<Base> {
    let mut all: Vec<(Dn, Scope)> = places.into_iter().collect();
    let domain_of = |dn: &Dn| forest.domain_of(dn).map(|d| d.nc.key());
    // Subtree bases by key, with their domain: an object of that domain inside one is covered by it.
    let subtrees: HashMap<String, Option<String>> = all
        .iter()
        .filter(|(_, s)| *s == Scope::Subtree)
        .map(|(d, _)| (d.key(), domain_of(d)))
        .collect();
    all.retain(|(dn, _)| {
        let domain = domain_of(dn);
        !dn.ancestor_keys()
            .any(|k| subtrees.get(&k).is_some_and(|d| *d == domain))
    });
    let mut seen = std::collections::HashSet::new();
    all.into_iter()
        .filter(|(dn, _)| seen.insert(dn.key()))
        .map(|(dn, scope)| Base {
            key: dn.key(),
            dn: dn.to_string(),
            scope,
        })
        .collect()
}

/// Calls `each(entry, base)` for every object matching `filter` in the bases' scopes (a subtree base's own
/// entry included), each on its own domain's DC, in constant memory.
pub async fn walk(
    dcs: &Dcs,
    bases: &[Base],
    filter: &str,
    attrs: &[&str],
    mut each: impl FnMut(SearchEntry, &Base),
) -> Result<()> {
    let mut by_parent: HashMap<String, (String, Vec<&Base>)> = HashMap::new();
    let mut alone: Vec<&Base> = Vec::new();
    for b in bases {
        let parent = Dn::parse(&b.dn)
            .ok()
            .filter(|d| !d.is_domain_component())
            .and_then(|d| d.parent());
        match (b.scope, parent) {
            (Scope::Subtree, Some(p)) => by_parent
                .entry(p.key())
                .or_insert_with(|| (p.to_string(), Vec::new()))
                .1
                .push(b),
            _ => alone.push(b),
        }
    }
    for (_, (parent, group)) in by_parent {
        if group.len() < SHARED_PARENT {
            alone.extend(group);
            continue;
        }
        let members: HashMap<&str, &Base> = group.iter().map(|b| (b.key.as_str(), *b)).collect();
        let session = dcs.for_dn(&parent).await?;
        session
            .search_each(&parent, Scope::Subtree, filter, attrs, true, |e| {
                let Ok(dn) = Dn::parse(&e.dn) else { return };
                let own = dn.key();
                let base = std::iter::once(own)
                    .chain(dn.ancestor_keys())
                    .find_map(|k| members.get(k.as_str()).copied());
                if let Some(base) = base {
                    each(e, base);
                }
            })
            .await?;
    }
    for b in alone {
        let session = dcs.for_dn(&b.dn).await?;
        session
            .search_each(&b.dn, b.scope, filter, attrs, true, |e| each(e, b))
            .await?;
    }
    Ok(())
}
