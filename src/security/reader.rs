//! Bounds-checked little-endian reading of untrusted bytes: every read either succeeds or says what was cut short.

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "unexpected end of input: {what} needs {needed} bytes at offset {offset}, {available} left"
    )]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Why a structure cannot be encoded: a size or count does not fit its wire field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} would be {value}, more than the {max} its field holds")]
pub struct EncodeError {
    pub what: &'static str,
    pub value: usize,
    pub max: usize,
}

/// `value` as a u16 field, or the error naming it.
pub(crate) fn u16_field(value: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(value).map_err(|_| EncodeError {
        what,
        value,
        max: usize::from(u16::MAX),
    })
}

/// `value` as a u32 field, or the error naming it.
pub(crate) fn u32_field(value: usize, what: &'static str) -> Result<u32, EncodeError> {
    u32::try_from(value).map_err(|_| EncodeError {
        what,
        value,
        max: usize::try_from(u32::MAX).unwrap_or(usize::MAX),
    })
}
