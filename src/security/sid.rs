//! SID, [MS-DTYP] 2.4.2.2.
//!
//! ```text
//! offset size
//! 0      1    Revision (1)
//! 1      1    SubAuthorityCount (0..=15)
//! 2      6    IdentifierAuthority, big-endian
//! 8      4*n  SubAuthority[n], each little-endian
//! ```

use std::fmt;
use std::str::FromStr;

use super::reader::{DecodeError, Reader};

const MAX_SUB_AUTHORITIES: usize = 15;

/// A security identifier such as `S-1-5-21-1004336348-1177238915-682003330-512`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    revision: u8,
    authority: [u8; 6],
    sub_authorities: Vec<u32>,
}

impl Sid {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let revision = r.u8("SID revision")?;
        let count = usize::from(r.u8("SID sub-authority count")?);
        if count > MAX_SUB_AUTHORITIES {
            return Err(DecodeError::Invalid {
                what: "SID",
                detail: format!("{count} sub-authorities (at most 15)"),
            });
        }
        let mut authority = [0u8; 6];
        authority.copy_from_slice(r.take(6, "SID authority")?);
        let sub_authorities = (0..count)
            .map(|_| r.u32("SID sub-authority"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            revision,
            authority,
            sub_authorities,
        })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(self.revision);
        // At most 15 sub-authorities: every constructor checks it.
        out.push(u8::try_from(self.sub_authorities.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.authority);
        for s in &self.sub_authorities {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    pub fn encoded_len(&self) -> usize {
        8 + 4 * self.sub_authorities.len()
    }

    /// Decodes a SID that fills `bytes` exactly (for example an `objectSid` value).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let sid = Self::read(&mut r)?;
        if r.remaining() != 0 {
            return Err(DecodeError::Invalid {
                what: "SID",
                detail: format!("{} trailing bytes", r.remaining()),
            });
        }
        Ok(sid)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
        out
    }

    /// The relative identifier: the last sub-authority (512 for Domain Admins).
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }

    pub fn revision(&self) -> u8 {
        self.revision
    }

    pub fn sub_authorities(&self) -> &[u32] {
        &self.sub_authorities
    }

    pub fn authority_value(&self) -> u64 {
        self.authority
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-", self.revision)?;
        // MS-DTYP 2.4.2.1: decimal below 2^32, hexadecimal above.
        let authority = self.authority_value();
        if authority >> 32 == 0 {
            write!(f, "{authority}")?
        } else {
            write!(f, "0x{authority:012X}")?
        }
        for s in &self.sub_authorities {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

/// The SID string was not of the form `S-1-<authority>-<sub>...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SID {0:?}: expected S-1-<authority>-<sub-authority>..., e.g. S-1-5-21-1-2-3-1108")]
pub struct ParseSidError(pub String);

impl FromStr for Sid {
    type Err = ParseSidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSidError(s.to_string());
        let mut parts = s.split('-');
        if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("S")) {
            return Err(err());
        }
        let revision: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let authority_text = parts.next().ok_or_else(err)?;
        let authority = match authority_text
            .strip_prefix("0x")
            .or_else(|| authority_text.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| err())?,
            None => authority_text.parse::<u64>().map_err(|_| err())?,
        };
        if authority >> 48 != 0 {
            return Err(err());
        }
        let sub_authorities: Vec<u32> = parts
            .map(|p| p.parse::<u32>().map_err(|_| err()))
            .collect::<Result<_, _>>()?;
        if sub_authorities.len() > MAX_SUB_AUTHORITIES {
            return Err(err());
        }
        let mut bytes = [0u8; 6];
        bytes.copy_from_slice(&authority.to_be_bytes()[2..]);
        let authority = bytes;
        Ok(Self {
            revision,
            authority,
            sub_authorities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, bytes): authority big-endian, sub-authorities little-endian.
    fn cases() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("S-1-1-0", vec![1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            ("S-1-5-18", vec![1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]),
            (
                "S-1-5-32-544",
                vec![1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0],
            ),
            (
                "S-1-5-21-4294967295-1-2-1108",
                vec![
                    1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 2, 0,
                    0, 0, 0x54, 4, 0, 0,
                ],
            ),
            (
                "S-1-4294967295-7",
                vec![1, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0],
            ),
            (
                "S-1-0x010000000000-7",
                vec![1, 1, 1, 0, 0, 0, 0, 0, 7, 0, 0, 0],
            ),
        ]
    }

    #[test]
    fn text_and_bytes_agree() {
        for (text, bytes) in cases() {
            let from_text: Sid = text.parse().unwrap();
            assert_eq!(from_text.to_bytes(), bytes, "{text}");
            let from_bytes = Sid::from_bytes(&bytes).unwrap();
            assert_eq!(from_bytes.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "S",
            "S-1",
            "X-1-5",
            "S-1-5-x",
            "S-1-281474976710656",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            assert!(bad.parse::<Sid>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_truncated_and_oversized_bytes() {
        assert!(Sid::from_bytes(&[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0]).is_err());
        assert!(Sid::from_bytes(&[1, 16]).is_err());
        assert!(Sid::from_bytes(&[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0, 9]).is_err());
    }
}
