//! What we change in a DACL, as pure functions: the merge `apply` writes and the take-back `revert` writes.
//!
//! Both start from the DACL as read just before the write, never from an older copy, and both compare only
//! what an administrator controls on the object: its explicit ACEs and the DACL control bits. Inherited ACEs
//! are the server's business (a parent written a moment ago, or Windows' background propagation, changes
//! them at any time), so they never make a target look "changed by someone else".

use crate::security::access::walk;
use crate::security::{
    AccessMask, Ace, AceFlags, Acl, Control, Guid, Member, Place, Reach, Request,
    SecurityDescriptor, Sid, Token, Verdict, reach,
};

/// The control bits that describe the DACL itself (present, defaulted, inheritance blocked).
const DACL_BITS: u16 = Control::DACL_PRESENT | 0x0008 | Control::DACL_PROTECTED;

fn explicit(sd: &SecurityDescriptor) -> impl Iterator<Item = &Ace> {
    sd.dacl
        .iter()
        .flat_map(|d| d.aces.iter())
        .filter(|a| !a.is_inherited())
}

/// Whether `a` and `b` have the same explicit ACEs, in the same order, and the same DACL control bits.
pub fn same_explicit(a: &SecurityDescriptor, b: &SecurityDescriptor) -> bool {
    a.control.0 & DACL_BITS == b.control.0 & DACL_BITS && explicit(a).eq(explicit(b))
}

/// If every explicit ACE of `inner` is in `outer`, in the same order, with the same DACL control bits (so
/// `outer` is `inner` plus someone else's additions), those additions.
pub fn explicit_additions(
    inner: &SecurityDescriptor,
    outer: &SecurityDescriptor,
) -> Option<Vec<Ace>> {
    if inner.control.0 & DACL_BITS != outer.control.0 & DACL_BITS {
        return None;
    }
    let mut want = explicit(inner).peekable();
    let mut extra = Vec::new();
    for a in explicit(outer) {
        if want.peek() == Some(&a) {
            want.next();
        } else {
            extra.push(a.clone());
        }
    }
    want.peek().is_none().then_some(extra)
}

/// `current` with `add` inserted in canonical order (ACEs an explicit ACE already covers are skipped).
/// Returns the descriptor and how many ACEs went in.
pub fn merge(current: &SecurityDescriptor, add: &[Ace]) -> (SecurityDescriptor, usize) {
    let mut after = current.clone();
    let dacl = after.dacl.get_or_insert_with(Default::default);
    let inserted = add
        .iter()
        .filter(|ace| dacl.insert_canonical((*ace).clone()))
        .count();
    (after, inserted)
}

/// What taking our ACEs back out of a DACL comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeback {
    /// The descriptor to write; `None` when none of our rights was there.
    pub sd: Option<SecurityDescriptor>,
    /// The explicit ACEs and control bits are the original's again.
    pub restored: bool,
    /// Explicit ACEs that still give the connector one of our rights and that we could not take apart (our
    /// ACE was rewritten into another shape, or another grant covers it): the right survives.
    pub remaining: Vec<Ace>,
    /// Grants of the same rights that another writer added beside ours; ours are gone, theirs stay.
    pub others: Vec<Ace>,
    /// The explicit ACEs the take-back changes or removes, as they are before it: after a crash, finding all
    /// of them still there is what says the take-back never landed.
    pub taking: Vec<Ace>,
}

/// The ACEs of `all` that are not in `pool`, counting duplicates (each ACE of `pool` pairs with one of `all`).
pub fn missing_from<'a>(all: impl Iterator<Item = &'a Ace>, mut pool: Vec<Ace>) -> Vec<Ace> {
    let mut missing = Vec::new();
    for a in all {
        match pool.iter().position(|p| p == a) {
            Some(i) => {
                pool.swap_remove(i);
            }
            None => missing.push(a.clone()),
        }
    }
    missing
}

/// Same trustee, type, object types and inheritance: the ACE we added, whatever its mask became.
fn same_shape(a: &Ace, ours: &Ace) -> bool {
    let (Some(x), Some(y)) = (a.access(), ours.access()) else {
        return false;
    };
    !a.is_inherited()
        && a.ace_type == ours.ace_type
        && a.flags.0 & AceFlags::INHERITANCE == ours.flags.0 & AceFlags::INHERITANCE
        && x.sid == y.sid
        && x.object_type == y.object_type
        && x.inherited_object_type == y.inherited_object_type
}

/// Whether `a` is `ours` as apply added it, perhaps merged into a larger mask: same shape, all of our bits.
pub fn holds_as_added(a: &Ace, ours: &Ace) -> bool {
    same_shape(a, ours)
        && matches!((a.access(), ours.access()), (Some(x), Some(y)) if x.mask.0 & y.mask.0 == y.mask.0)
}

/// The right `ours` (one of our ACEs) gives, as a request, and the places it reaches: for "Descendant User
/// objects" the user class below the target, otherwise the target itself, of class `own_class` if known.
pub(crate) fn right_of(ours: &Ace, own_class: Option<Guid>) -> Option<(Request, Vec<Place>)> {
    let body = ours.access()?;
    let property_set = super::profile::PROPERTY_SETS
        .iter()
        .find(|(attribute, _)| Some(*attribute) == body.object_type)
        .map(|(_, set)| *set);
    let request = Request::new(
        body.mask,
        body.inherited_object_type.or(own_class),
        property_set,
        body.object_type,
    );
    Some((request, Place::reached_by(ours.flags)))
}

/// Whether explicit allow ACE `a` still grants (or may grant) some of `ours`' rights to the same trustee on
/// the objects ours reached (broader object types, property sets and generic rights included).
fn grants_like(a: &Ace, ours: &Ace) -> bool {
    let (Some((request, places)), Some(trustee)) = (right_of(ours, None), ours.sid()) else {
        return false;
    };
    let same = |sid: &Sid| {
        if sid == trustee {
            Member::Yes
        } else {
            Member::No
        }
    };
    !a.is_inherited()
        && places.into_iter().any(|place| {
            matches!(
                reach(a, &request, place, same),
                Reach::Grants | Reach::Uncertain(_)
            )
        })
}

/// A group in `token` (not the connector itself) through which the connector already holds what `wanted`
/// gives, on every object `wanted` reaches: the DACL walked in stored order (a deny first wins) is decided
/// there by an allow for that group. The right is held "via GROUP".
pub fn held_via_group(dacl: &Acl, wanted: &Ace, token: &Token) -> Option<Sid> {
    let (request, places) = right_of(wanted, None)?;
    let connector = wanted.sid()?;
    let mut group = None;
    for place in places {
        let Verdict::Allowed { ace, .. } =
            walk(dacl, &request, place, |sid| token.member(sid, None))
        else {
            return None;
        };
        let sid = ace.sid()?.clone();
        if sid == *connector || group.as_ref().is_some_and(|g| *g != sid) {
            return None;
        }
        group = Some(sid);
    }
    group
}

/// `current` without the rights of `ours`: for each of our ACEs, its mask bits come off explicit ACEs of the
/// same shape (the exact ACE first, then one another tool merged it into), keeping the rest of a merged
/// mask; an ACE left with no rights goes. Nothing else is touched. When the explicit part is the original's
/// again, the ACL revision is put back too, so the server returns the original bytes.
pub fn take_back(
    current: &SecurityDescriptor,
    original: &SecurityDescriptor,
    ours: &[Ace],
) -> Takeback {
    let mut sd = current.clone();
    let mut changed = false;
    let mut remaining = Vec::new();
    let mut others = Vec::new();
    if let Some(dacl) = sd.dacl.as_mut() {
        for our in ours {
            let Some(want) = our.access().map(|a| a.mask.0) else {
                continue;
            };
            let mut left = want;
            let mut candidates: Vec<usize> = (0..dacl.aces.len())
                .filter(|&i| {
                    same_shape(&dacl.aces[i], our)
                        && dacl.aces[i].access().is_some_and(|a| a.mask.0 & want != 0)
                })
                .collect();
            // The ACE exactly as we wrote it first; a stable sort keeps DACL order otherwise.
            candidates.sort_by_key(|&i| dacl.aces[i].access().map(|a| a.mask.0) != Some(want));
            let mut emptied = Vec::new();
            for i in candidates {
                if left == 0 {
                    break;
                }
                if let Some(a) = dacl.aces[i].access_mut() {
                    let bits = a.mask.0 & left;
                    a.mask = AccessMask(a.mask.0 & !bits);
                    left &= !bits;
                    changed = true;
                    if a.mask.0 == 0 {
                        emptied.push(i);
                    }
                }
            }
            emptied.sort_unstable();
            for i in emptied.into_iter().rev() {
                dacl.aces.remove(i);
            }
            let still: Vec<Ace> = dacl
                .aces
                .iter()
                .filter(|a| grants_like(a, our))
                .cloned()
                .collect();
            let sink = if left == 0 {
                &mut others
            } else {
                &mut remaining
            };
            for a in still {
                if !sink.contains(&a) {
                    sink.push(a);
                }
            }
        }
    }
    let restored = same_explicit(&sd, original);
    if restored && let (Some(now), Some(was)) = (sd.dacl.as_mut(), original.dacl.as_ref()) {
        now.revision = was.revision;
    }
    let taking = if changed {
        missing_from(explicit(current), explicit(&sd).cloned().collect())
    } else {
        Vec::new()
    };
    Takeback {
        sd: changed.then_some(sd),
        restored,
        remaining,
        others,
        taking,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::profile::{AppliesTo, Grant, PASSWORD_WRITEBACK};
    use crate::security::{Acl, Sid, parse_ace};

    fn sid() -> Sid {
        "S-1-5-21-1-2-3-1108".parse().unwrap()
    }

    fn sd(aces: &[&str]) -> SecurityDescriptor {
        let mut acl = Acl::default();
        acl.revision = 4;
        acl.aces = aces.iter().map(|a| parse_ace(a).unwrap()).collect();
        SecurityDescriptor::with_dacl(0, acl)
    }

    fn ours() -> Vec<Ace> {
        PASSWORD_WRITEBACK
            .iter()
            .map(|r| {
                Grant {
                    right: *r,
                    applies_to: AppliesTo::DescendantUsers,
                }
                .ace(&sid())
            })
            .collect()
    }

    const BASE: &[&str] = &[
        "(D;;DT;;;S-1-1-0)",
        "(A;;RPLCLORC;;;S-1-5-11)",
        "(A;CIID;GA;;;S-1-5-21-1-2-3-512)",
    ];

    #[test]
    fn merge_goes_after_explicit_and_before_inherited_and_revert_restores() {
        let original = sd(BASE);
        let (after, n) = merge(&original, &ours());
        assert_eq!(n, 4);
        let aces = &after.dacl.as_ref().unwrap().aces;
        assert!(aces[2..6].iter().all(|a| a.sid() == Some(&sid())));
        assert!(aces[6].is_inherited());
        assert!(same_explicit(&original, &original));
        assert!(!same_explicit(&original, &after));
        let back = take_back(&after, &original, &ours());
        assert!(back.restored && back.remaining.is_empty() && back.others.is_empty());
        assert_eq!(back.sd.unwrap().to_bytes(), original.to_bytes());
    }

    #[test]
    fn inherited_changes_do_not_count_as_changed() {
        let a = sd(BASE);
        let mut more = BASE.to_vec();
        more.push("(OA;CIIOID;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)");
        assert!(same_explicit(&a, &sd(&more)));
        let mut protected = sd(BASE);
        protected.control.0 |= Control::DACL_PROTECTED;
        assert!(
            !same_explicit(&a, &protected),
            "inheritance switched off is a change"
        );
    }

    #[test]
    fn a_merged_mask_loses_only_our_bit() {
        let original = sd(BASE);
        let (after, _) = merge(&original, &ours());
        // Another tool folds "Read lockoutTime" into our Write lockoutTime ACE.
        let mut merged = after.clone();
        for a in merged.dacl.as_mut().unwrap().aces.iter_mut() {
            if a.to_string().contains("28630ebf") {
                a.access_mut().unwrap().mask = AccessMask(0x30);
            }
        }
        let back = take_back(&merged, &original, &ours());
        let text = back.sd.as_ref().unwrap().to_string();
        assert!(
            text.contains("(OA;CIIO;RP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)"),
            "{text}"
        );
        assert!(!text.contains(";WP;28630ebf"), "{text}");
        assert!(back.remaining.is_empty());
        assert!(!back.restored, "the read right someone else added stays");
    }

    #[test]
    fn another_writers_identical_ace_survives_and_is_named() {
        let original = sd(BASE);
        let (after, _) = merge(&original, &ours());
        let mut twice = after.clone();
        let dup = ours()[0].clone();
        twice.dacl.as_mut().unwrap().aces.insert(0, dup.clone());
        let back = take_back(&twice, &original, &ours());
        let dacl = back.sd.as_ref().unwrap().dacl.clone().unwrap();
        assert_eq!(dacl.aces.iter().filter(|a| **a == dup).count(), 1);
        assert_eq!(back.others, vec![dup]);
        assert!(back.remaining.is_empty());
    }

    #[test]
    fn a_broader_grant_we_cannot_take_apart_is_reported_as_remaining() {
        let original = sd(BASE);
        // Someone replaced our four ACEs with one GenericAll for the connector on descendants.
        let rewritten = sd(&[
            BASE[0],
            BASE[1],
            "(A;CIIO;GA;;;S-1-5-21-1-2-3-1108)",
            BASE[2],
        ]);
        let back = take_back(&rewritten, &original, &ours());
        assert!(back.sd.is_none(), "nothing of ours to remove");
        assert_eq!(back.remaining.len(), 1);
    }

    #[test]
    fn a_property_set_grant_that_keeps_pwd_last_set_writable_is_remaining() {
        let original = sd(BASE);
        let (after, _) = merge(&original, &ours());
        let set = "(OA;CIIO;WP;4c164200-20c0-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)";
        let mut with_set = after.clone();
        with_set
            .dacl
            .as_mut()
            .unwrap()
            .insert_canonical(parse_ace(set).unwrap());
        let back = take_back(&with_set, &original, &ours());
        assert!(back.sd.is_some(), "ours are removed");
        assert_eq!(
            back.others.len(),
            1,
            "the set grant is named: {:?}",
            back.others
        );
    }

    #[test]
    fn nothing_of_ours_means_nothing_to_write() {
        let original = sd(BASE);
        let back = take_back(&original, &original, &ours());
        assert!(back.sd.is_none() && back.restored && back.remaining.is_empty());
    }
}
