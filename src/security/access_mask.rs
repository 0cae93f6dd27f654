//! ACCESS_MASK, [MS-DTYP] 2.4.3, with the directory-service rights of [MS-ADTS] 5.1.3.2 and their SDDL codes.

/// A 32-bit access mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessMask(pub u32);

impl AccessMask {
    pub const CREATE_CHILD: Self = Self(0x0000_0001);
    pub const DELETE_CHILD: Self = Self(0x0000_0002);
    pub const LIST_CHILDREN: Self = Self(0x0000_0004);
    pub const SELF_WRITE: Self = Self(0x0000_0008);
    pub const READ_PROPERTY: Self = Self(0x0000_0010);
    pub const WRITE_PROPERTY: Self = Self(0x0000_0020);
    pub const DELETE_TREE: Self = Self(0x0000_0040);
    pub const LIST_OBJECT: Self = Self(0x0000_0080);
    /// Extended rights such as Reset Password ("CR" in SDDL).
    pub const CONTROL_ACCESS: Self = Self(0x0000_0100);

    pub const GENERIC_ALL: Self = Self(0x1000_0000);
    pub const GENERIC_EXECUTE: Self = Self(0x2000_0000);
    pub const GENERIC_WRITE: Self = Self(0x4000_0000);
    pub const GENERIC_READ: Self = Self(0x8000_0000);
    const READ_CONTROL: u32 = 0x0002_0000;
    /// Every standard and directory-service right (what GENERIC_ALL maps to on a directory object).
    const DS_ALL: u32 = 0x000F_01FF;

    /// The mask with generic rights replaced by the directory-service rights they stand for ([MS-ADTS]
    /// 5.1.3.3, the generic mapping for directory objects).
    pub fn mapped(self) -> Self {
        let mut m = self.0 & 0x0FFF_FFFF;
        if self.0 & Self::GENERIC_ALL.0 != 0 {
            m |= Self::DS_ALL;
        }
        if self.0 & Self::GENERIC_READ.0 != 0 {
            m |= Self::READ_CONTROL
                | Self::READ_PROPERTY.0
                | Self::LIST_CHILDREN.0
                | Self::LIST_OBJECT.0;
        }
        if self.0 & Self::GENERIC_WRITE.0 != 0 {
            m |= Self::READ_CONTROL | Self::WRITE_PROPERTY.0 | Self::SELF_WRITE.0;
        }
        if self.0 & Self::GENERIC_EXECUTE.0 != 0 {
            m |= Self::READ_CONTROL | Self::LIST_CHILDREN.0;
        }
        Self(m)
    }

    /// Whether every right in `other` is also in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// SDDL right codes in the order Windows and Samba print them.
pub(crate) const SDDL_RIGHTS: &[(&str, u32)] = &[
    ("GA", 0x1000_0000),
    ("GR", 0x8000_0000),
    ("GW", 0x4000_0000),
    ("GX", 0x2000_0000),
    ("RP", 0x0000_0010),
    ("WP", 0x0000_0020),
    ("CR", 0x0000_0100),
    ("CC", 0x0000_0001),
    ("DC", 0x0000_0002),
    ("LC", 0x0000_0004),
    ("LO", 0x0000_0080),
    ("RC", 0x0002_0000),
    ("WO", 0x0008_0000),
    ("WD", 0x0004_0000),
    ("SD", 0x0001_0000),
    ("DT", 0x0000_0040),
    ("SW", 0x0000_0008),
];
