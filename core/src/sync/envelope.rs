//! The wire envelope of sync messages: a request or response body is either the encoded
//! message itself or, compressed, `RHZ1` + the encoded length (LEB128) + the message as one
//! raw DEFLATE stream (RFC 1951).
//!
//! Compression lives in the protocol, not in HTTP `Content-Encoding`, so it works the same
//! through every [`super::client::Transport`] the apps supply, and so the request signature
//! covers the bytes as they travel: the server authenticates a request before it inflates
//! anything. Inflating is bounded by the declared length, which is checked against the
//! receiver's limit first, and the stream must produce exactly that many bytes. A server
//! compresses its response only when the request came compressed, so an uncompressed client
//! keeps working.

use std::borrow::Cow;
use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use super::codec::{DecodeError, Reader, Writer};

const COMPRESSED_MAGIC: &[u8; 4] = b"RHZ1";

/// The body for an encoded message: compressed when `compress` is set (always, even when a
/// tiny message grows by a few bytes: a compressed request is how a client says it reads
/// compressed responses).
pub fn seal(message: Vec<u8>, compress: bool) -> Vec<u8> {
    if !compress {
        return message;
    }
    let mut header = Writer::new();
    header.fixed(COMPRESSED_MAGIC);
    header.uint(message.len() as u64);
    let mut encoder = DeflateEncoder::new(header.finish(), Compression::fast());
    match encoder.write_all(&message).and_then(|()| encoder.finish()) {
        Ok(bytes) => bytes,
        // Writing into a Vec cannot fail; were it to, the message travels as it is.
        Err(_) => message,
    }
}

/// Whether a body travels compressed.
pub fn is_compressed(body: &[u8]) -> bool {
    body.starts_with(COMPRESSED_MAGIC)
}

/// The encoded message inside a body, inflating at most `max_len` bytes.
pub fn open(body: &[u8], max_len: usize) -> Result<Cow<'_, [u8]>, DecodeError> {
    if !is_compressed(body) {
        return Ok(Cow::Borrowed(body));
    }
    let mut r = Reader::new(&body[COMPRESSED_MAGIC.len()..]);
    let len = r.uint("compressed message length")?;
    if len > max_len as u64 {
        return Err(DecodeError::TooLarge {
            what: "compressed message",
            len,
            max: max_len as u64,
        });
    }
    let stream = r.rest();
    let len = len as usize;
    let mut out = Vec::with_capacity(len);
    DeflateDecoder::new(stream)
        .take(len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::BadCompression("the DEFLATE stream is corrupt"))?;
    if out.len() != len {
        return Err(DecodeError::BadCompression(
            "the DEFLATE stream does not hold the declared length",
        ));
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn message(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 7) as u8).collect()
    }

    #[test]
    fn a_compressed_body_opens_to_the_same_message() {
        let m = message(10_000);
        let body = seal(m.clone(), true);
        assert!(is_compressed(&body));
        assert!(body.len() < m.len() / 10);
        assert_eq!(open(&body, 10_000).unwrap().as_ref(), m.as_slice());
    }

    #[test]
    fn uncompressed_messages_travel_as_they_are_and_any_message_round_trips() {
        let m = message(10_000);
        assert_eq!(seal(m.clone(), false), m);
        assert_eq!(open(&m, 10).unwrap().as_ref(), m.as_slice());
        let mut noise = vec![0u8; 4096];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut noise).unwrap();
        for m in [Vec::new(), message(3), noise] {
            let body = seal(m.clone(), true);
            assert!(is_compressed(&body));
            assert!(
                body.len() <= m.len() + m.len() / 8 + 16,
                "{} -> {}",
                m.len(),
                body.len()
            );
            assert_eq!(open(&body, m.len()).unwrap().as_ref(), m.as_slice());
        }
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_inflating() {
        let body = seal(message(10_000), true);
        assert!(matches!(
            open(&body, 9_999),
            Err(DecodeError::TooLarge { len: 10_000, .. })
        ));
    }

    #[test]
    fn a_stream_longer_or_shorter_than_declared_or_corrupt_is_refused() {
        let m = message(10_000);
        let body = seal(m, true);
        // Declare 9,000 bytes: the stream holds more.
        let mut w = Writer::new();
        w.fixed(COMPRESSED_MAGIC);
        w.uint(9_000);
        let mut header = w.finish();
        let stream_start = COMPRESSED_MAGIC.len() + 2; // 10,000 takes two LEB128 bytes
        header.extend_from_slice(&body[stream_start..]);
        assert_eq!(
            open(&header, 20_000).unwrap_err().code(),
            "wire.bad_compression"
        );
        // Declare 11,000: the stream holds less.
        let mut w = Writer::new();
        w.fixed(COMPRESSED_MAGIC);
        w.uint(11_000);
        let mut longer = w.finish();
        longer.extend_from_slice(&body[stream_start..]);
        assert_eq!(
            open(&longer, 20_000).unwrap_err().code(),
            "wire.bad_compression"
        );
        // Truncated and garbled streams.
        assert!(open(&body[..body.len() / 2], 20_000).is_err());
        let mut garbled = body.clone();
        for b in garbled.iter_mut().skip(stream_start) {
            *b ^= 0x5a;
        }
        assert!(open(&garbled, 20_000).is_err());
        assert!(open(b"RHZ1", 20_000).is_err());
    }
}
