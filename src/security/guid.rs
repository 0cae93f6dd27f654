//! GUID, [MS-DTYP] 2.3.4.2, in the mixed-endian wire form AD uses for `schemaIDGUID` and ACE object types:
//! Data1 (u32), Data2 (u16) and Data3 (u16) little-endian, then Data4 (8 bytes) as written. The byte order is
//! the `uuid` crate's `bytes_le` form.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A GUID; its wire bytes are [`Guid::to_bytes`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(Uuid);

impl Guid {
    /// From the value as written in text, `00299570-246d-11d0-a768-00aa006e0529` = `0x00299570_246d_11d0_a768_00aa006e0529`.
    pub const fn from_u128(text_value: u128) -> Self {
        Self(Uuid::from_u128(text_value))
    }

    /// From the 16 wire bytes (mixed-endian).
    pub const fn from_bytes(wire: [u8; 16]) -> Self {
        Self(Uuid::from_bytes_le(wire))
    }

    /// The 16 wire bytes (mixed-endian).
    pub fn to_bytes(&self) -> [u8; 16] {
        self.0.to_bytes_le()
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GUID {0:?}: expected 8-4-4-4-12 hexadecimal digits")]
pub struct ParseGuidError(pub String);

impl FromStr for Guid {
    type Err = ParseGuidError;

    /// `8-4-4-4-12` hexadecimal digits, optionally in braces (as ADSI and PowerShell print them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        // uuid also takes the 32-digit and urn: forms; SDDL and AD tools only ever use the hyphenated one.
        if t.len() != 36 {
            return Err(ParseGuidError(s.to_string()));
        }
        Uuid::try_parse(t)
            .map(Self)
            .map_err(|_| ParseGuidError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_class_guid_is_mixed_endian_on_the_wire() {
        let user: Guid = "bf967aba-0de6-11d0-a285-00aa003049e2".parse().unwrap();
        assert_eq!(
            user.to_bytes(),
            [
                0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30,
                0x49, 0xe2
            ]
        );
        assert_eq!(
            user,
            Guid::from_u128(0xbf967aba_0de6_11d0_a285_00aa003049e2)
        );
        assert_eq!(user.to_string(), "bf967aba-0de6-11d0-a285-00aa003049e2");
        assert_eq!(
            "{BF967ABA-0DE6-11D0-A285-00AA003049E2}"
                .parse::<Guid>()
                .unwrap(),
            user
        );
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "bf967aba0de611d0a28500aa003049e2",
            "bf967aba-0de6-11d0-a285-00aa003049e",
            "zf967aba-0de6-11d0-a285-00aa003049e2",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad}");
        }
    }
}
