//! The permissions as data. Reads like the seed's list: Reset Password, Change Password, Write lockoutTime,
//! Write pwdLastSet on descendant user objects; Unexpire Password on the domain root.
//!
//! GUIDs are the well-known ones ([MS-ADA3], [MS-ADTS] 5.1.3.2.1); [`crate::ad::schema::verify`] checks them
//! against the live schema before anything is written.

use crate::ad::schema::SchemaName;
use crate::security::{AccessMask, Ace, AceFlags, Guid, Sid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Right {
    /// As ADUC shows it.
    pub label: &'static str,
    pub mask: AccessMask,
    pub schema_name: SchemaName,
    pub guid: Guid,
}

pub const RESET_PASSWORD: Right = Right {
    label: "Reset Password",
    mask: AccessMask::CONTROL_ACCESS,
    schema_name: SchemaName::ExtendedRight("User-Force-Change-Password"),
    guid: Guid::from_u128(0x00299570_246d_11d0_a768_00aa006e0529),
};

pub const CHANGE_PASSWORD: Right = Right {
    label: "Change Password",
    mask: AccessMask::CONTROL_ACCESS,
    schema_name: SchemaName::ExtendedRight("User-Change-Password"),
    guid: Guid::from_u128(0xab721a53_1e2f_11d0_9819_00aa0040529b),
};

pub const WRITE_LOCKOUT_TIME: Right = Right {
    label: "Write lockoutTime",
    mask: AccessMask::WRITE_PROPERTY,
    schema_name: SchemaName::SchemaObject("lockoutTime"),
    guid: Guid::from_u128(0x28630ebf_41d5_11d1_a9c1_0000f80367c1),
};

pub const WRITE_PWD_LAST_SET: Right = Right {
    label: "Write pwdLastSet",
    mask: AccessMask::WRITE_PROPERTY,
    schema_name: SchemaName::SchemaObject("pwdLastSet"),
    guid: Guid::from_u128(0xbf967a0a_0de6_11d0_a285_00aa003049e2),
};

pub const UNEXPIRE_PASSWORD: Right = Right {
    label: "Unexpire Password",
    mask: AccessMask::CONTROL_ACCESS,
    schema_name: SchemaName::ExtendedRight("Unexpire-Password"),
    guid: Guid::from_u128(0xccc2dc7d_a6ad_4a7a_8846_c04e3cc53501),
};

/// The user class, the inherited object type of "Descendant User objects".
pub const USER_CLASS: (SchemaName, Guid) = (
    SchemaName::SchemaObject("user"),
    Guid::from_u128(0xbf967aba_0de6_11d0_a285_00aa003049e2),
);

/// The domainDNS class, of a domain root ([MS-ADSC] 2.43).
pub const DOMAIN_DNS_CLASS: Guid = Guid::from_u128(0x19195a5b_6da0_11d0_afd3_00c04fd930c9);

/// The property sets our attributes belong to ([MS-ADA3] attributeSecurityGUID): a write grant on the set
/// covers the attribute. (lockoutTime is in none.) The access check reads these from the live schema; revert
/// uses this table to see that a right survives through such a grant.
pub const PROPERTY_SETS: &[(Guid, Guid)] = &[(
    WRITE_PWD_LAST_SET.guid,
    // User-Account-Restrictions
    Guid::from_u128(0x4c164200_20c0_11d0_a768_00aa006e0529),
)];

/// The password writeback rights, as Microsoft's documentation lists them.
pub const PASSWORD_WRITEBACK: [Right; 4] = [
    RESET_PASSWORD,
    CHANGE_PASSWORD,
    WRITE_LOCKOUT_TIME,
    WRITE_PWD_LAST_SET,
];

/// The "Applies to" column of ADUC's advanced security dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliesTo {
    /// "Descendant User objects": CONTAINER_INHERIT | INHERIT_ONLY, inherited object type user (dsacls /I:S).
    DescendantUsers,
    /// "This object only": no inheritance. Used for Unexpire Password on a domain root, and for a target
    /// that is itself a user (ADSyncConfig strips `;user` there).
    ThisObject,
    /// "This object and all descendant objects" (dsacls /I:T): for AdminSDHolder, whose DACL SDProp copies onto
    /// protected accounts, where the rights must apply to the object itself.
    ThisObjectAndDescendants,
}

impl AppliesTo {
    pub fn label(self) -> &'static str {
        match self {
            Self::DescendantUsers => "Descendant User objects",
            Self::ThisObject => "This object only",
            Self::ThisObjectAndDescendants => "This object and all descendant objects",
        }
    }
}

/// One right for one trustee with one "Applies to": one ACE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub right: Right,
    pub applies_to: AppliesTo,
}

impl Grant {
    pub fn ace(&self, trustee: &Sid) -> Ace {
        let (flags, inherited_object_type) = match self.applies_to {
            AppliesTo::DescendantUsers => (
                AceFlags::CONTAINER_INHERIT | AceFlags::INHERIT_ONLY,
                Some(USER_CLASS.1),
            ),
            AppliesTo::ThisObject => (0, None),
            AppliesTo::ThisObjectAndDescendants => (AceFlags::CONTAINER_INHERIT, None),
        };
        Ace::allow(
            self.right.mask,
            flags,
            Some(self.right.guid),
            inherited_object_type,
            trustee.clone(),
        )
    }

    pub fn label(&self) -> String {
        format!("{} ({})", self.right.label, self.applies_to.label())
    }
}

/// Every schema name the grants use, with its expected GUID, for [`crate::ad::schema::verify`].
pub fn schema_names() -> Vec<(SchemaName, Guid)> {
    PASSWORD_WRITEBACK
        .iter()
        .chain([&UNEXPIRE_PASSWORD])
        .map(|r| (r.schema_name, r.guid))
        .chain([USER_CLASS])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descendant_user_aces_match_the_reference_sddl() {
        let sid: Sid = "S-1-5-21-1-2-3-1108".parse().unwrap();
        let expected = [
            "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)",
            "(OA;CIIO;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)",
            "(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)",
            "(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;S-1-5-21-1-2-3-1108)",
        ];
        for (right, sddl) in PASSWORD_WRITEBACK.iter().zip(expected) {
            assert_eq!(
                Grant {
                    right: *right,
                    applies_to: AppliesTo::DescendantUsers
                }
                .ace(&sid)
                .to_string(),
                sddl
            );
        }
        let unexpire = Grant {
            right: UNEXPIRE_PASSWORD,
            applies_to: AppliesTo::ThisObject,
        }
        .ace(&sid);
        assert_eq!(
            unexpire.to_string(),
            "(OA;;CR;ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501;;S-1-5-21-1-2-3-1108)"
        );
    }
}
