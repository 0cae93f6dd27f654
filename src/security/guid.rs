//! GUID, [MS-DTYP] 2.3.4.2, in the mixed-endian wire form AD uses for `schemaIDGUID` and ACE object types:
//! Data1 (u32), Data2 (u16) and Data3 (u16) little-endian, then Data4 (8 bytes) as written.

use std::fmt;
use std::str::FromStr;

/// A GUID held in its 16 wire bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid([u8; 16]);

impl Guid {
    /// From the value as written in text, `00299570-246d-11d0-a768-00aa006e0529` = `0x00299570_246d_11d0_a768_00aa006e0529`.
    pub const fn from_u128(text_value: u128) -> Self {
        let t = text_value.to_be_bytes();
        Self([
            t[3], t[2], t[1], t[0], t[5], t[4], t[7], t[6], t[8], t[9], t[10], t[11], t[12], t[13],
            t[14], t[15],
        ])
    }

    pub const fn from_bytes(wire: [u8; 16]) -> Self {
        Self(wire)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    fn text_value(&self) -> u128 {
        let w = self.0;
        u128::from_be_bytes([
            w[3], w[2], w[1], w[0], w[5], w[4], w[7], w[6], w[8], w[9], w[10], w[11], w[12], w[13],
            w[14], w[15],
        ])
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.text_value();
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            v >> 96,
            (v >> 80) & 0xffff,
            (v >> 64) & 0xffff,
            (v >> 48) & 0xffff,
            v & 0xffff_ffff_ffff
        )
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

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseGuidError(s.to_string());
        let t = s.trim().trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = t.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if lengths != [8, 4, 4, 4, 12]
            || !groups
                .iter()
                .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(err());
        }
        let value = u128::from_str_radix(&groups.concat(), 16).map_err(|_| err())?;
        Ok(Self::from_u128(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_class_guid_is_mixed_endian_on_the_wire() {
        let user: Guid = "bf967aba-0de6-11d0-a285-00aa003049e2".parse().unwrap();
        assert_eq!(
            user.as_bytes(),
            &[
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
