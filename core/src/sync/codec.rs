//! A small strict binary codec for the sync protocol: unsigned LEB128 integers, length-
//! prefixed byte strings, fixed-size arrays. Every read is bounds-checked; every length is
//! checked against a limit before anything is allocated; trailing bytes are an error.

use thiserror::Error;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("message ends early while reading {0}")]
    Truncated(&'static str),
    #[error("{what} is {len} bytes, over the limit of {max}")]
    TooLarge {
        what: &'static str,
        len: u64,
        max: u64,
    },
    #[error("{0} is not a valid integer")]
    BadInteger(&'static str),
    #[error("{0} is not valid UTF-8")]
    BadText(&'static str),
    #[error("unexpected value of {what}: {value}")]
    BadValue { what: &'static str, value: u64 },
    #[error("{0} bytes left over after the message")]
    TrailingBytes(usize),
    #[error("compressed message: {0}")]
    BadCompression(&'static str),
}

impl DecodeError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Truncated(_) => "wire.truncated",
            DecodeError::TooLarge { .. } => "wire.too_large",
            DecodeError::BadInteger(_) => "wire.bad_integer",
            DecodeError::BadText(_) => "wire.bad_text",
            DecodeError::BadValue { .. } => "wire.bad_value",
            DecodeError::TrailingBytes(_) => "wire.trailing_bytes",
            DecodeError::BadCompression(_) => "wire.bad_compression",
        }
    }
}

/// Appends encoded values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn uint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.uint(bytes.len() as u64);
        self.buf.extend_from_slice(bytes);
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    pub fn fixed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads encoded values from a slice.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Everything not read yet (consumes it).
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.input)
    }

    pub fn uint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let (&byte, rest) = self
                .input
                .split_first()
                .ok_or(DecodeError::Truncated(what))?;
            self.input = rest;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && bits > 1 {
                return Err(DecodeError::BadInteger(what));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                // Refuse non-minimal encodings (a trailing zero group), so one value has one form.
                if i > 0 && byte == 0 {
                    return Err(DecodeError::BadInteger(what));
                }
                return Ok(value);
            }
        }
        Err(DecodeError::BadInteger(what))
    }

    /// An integer no larger than `max`.
    pub fn uint_max(&mut self, what: &'static str, max: u64) -> Result<u64, DecodeError> {
        let value = self.uint(what)?;
        if value > max {
            return Err(DecodeError::TooLarge {
                what,
                len: value,
                max,
            });
        }
        Ok(value)
    }

    pub fn bytes(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.uint_max(what, max as u64)? as usize;
        self.take(what, len)
    }

    pub fn text(&mut self, what: &'static str, max: usize) -> Result<String, DecodeError> {
        let bytes = self.bytes(what, max)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::BadText(what))
    }

    pub fn fixed<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(what, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn take(&mut self, what: &'static str, len: usize) -> Result<&'a [u8], DecodeError> {
        if self.input.len() < len {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(head)
    }

    pub fn finish(self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.input.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_malformed_input() {
        let mut w = Writer::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            w.uint(v);
        }
        w.bytes(b"abc");
        w.text("王");
        w.fixed(&[9; 4]);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.uint("n").unwrap(), v);
        }
        assert_eq!(r.bytes("b", 3).unwrap(), b"abc");
        assert_eq!(r.text("t", 8).unwrap(), "王");
        assert_eq!(r.fixed::<4>("f").unwrap(), [9; 4]);
        r.finish().unwrap();

        assert!(matches!(
            Reader::new(&[0x80]).uint("n"),
            Err(DecodeError::Truncated(_))
        ));
        assert!(matches!(
            Reader::new(&[0x80, 0x00]).uint("n"),
            Err(DecodeError::BadInteger(_))
        ));
        assert!(matches!(
            Reader::new(&[0xff; 11]).uint("n"),
            Err(DecodeError::BadInteger(_))
        ));
        assert!(matches!(
            Reader::new(&[5, 1, 2]).bytes("b", 4),
            Err(DecodeError::TooLarge { .. }) | Err(DecodeError::Truncated(_))
        ));
        assert!(matches!(
            Reader::new(&[3, 1, 2]).bytes("b", 4),
            Err(DecodeError::Truncated(_))
        ));
        assert!(matches!(
            Reader::new(&[2, 0xff, 0xfe]).text("t", 4),
            Err(DecodeError::BadText(_))
        ));
        assert!(matches!(
            Reader::new(&[0, 1]).finish(),
            Err(DecodeError::TrailingBytes(2))
        ));
    }
}
