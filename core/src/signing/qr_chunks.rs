//! Moving sealed visit content between tablets with no network, as a series of QR
//! codes: the case handler's tablet shows the codes, a team member's tablet scans them
//! (in any order, repeats ignored), rebuilds the exact bytes, checks their SHA-256 and
//! only then shows the record for signing.
//!
//! Transport-agnostic: this module makes and reads byte strings; rendering and scanning
//! QR codes is the app's job. The content is deflate-compressed once, and the
//! compressed stream is cut into chunks. Each chunk, big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | tag `b'C'` |
//! | 1 | version (1) |
//! | 32 | SHA-256 of the whole (uncompressed) content |
//! | 2 | index, from 0 |
//! | 2 | total number of chunks |
//! | n | slice of the compressed stream |
//! | 4 | first 4 bytes of SHA-256 over everything before (catches misreads per chunk) |

use std::io::Read;

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::signing::canonical::sha256;

pub use crate::signing::error::ChunkError;

/// First byte of every chunk.
pub const CHUNK_TAG: u8 = b'C';
/// The chunk version this code writes and reads.
pub const CHUNK_VERSION: u8 = 1;
/// Bytes before the payload: tag, version, content hash, index, total.
pub const CHUNK_HEADER_LEN: usize = 2 + 32 + 2 + 2;
/// Bytes of the per-chunk checksum after the payload.
pub const CHUNK_CHECKSUM_LEN: usize = 4;
/// Header plus checksum.
pub const CHUNK_OVERHEAD: usize = CHUNK_HEADER_LEN + CHUNK_CHECKSUM_LEN;
/// Default size of one whole chunk: about 1,000 bytes, a QR code that mid-range tablet
/// cameras read at arm's length (version ~22 at error-correction level L).
pub const DEFAULT_MAX_CHUNK_BYTES: usize = 1000;

/// How content is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// Most payload bytes per chunk (the whole chunk is this plus [`CHUNK_OVERHEAD`]).
    pub max_payload: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_payload: DEFAULT_MAX_CHUNK_BYTES - CHUNK_OVERHEAD,
        }
    }
}

/// One decoded chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// SHA-256 of the whole uncompressed content.
    pub content_hash: [u8; 32],
    /// Position of this chunk, from 0.
    pub index: u16,
    /// Number of chunks of the content.
    pub total: u16,
    /// This chunk's slice of the compressed stream.
    pub payload: Vec<u8>,
}

fn checksum(bytes: &[u8]) -> [u8; CHUNK_CHECKSUM_LEN] {
    let full = sha256(bytes);
    [full[0], full[1], full[2], full[3]]
}

/// Compresses `content` and cuts it into chunk byte strings, one per QR code: the
/// fewest chunks of at most `max_payload` payload bytes, filled evenly.
pub fn split_into_chunks(content: &[u8], config: &ChunkConfig) -> Result<Vec<Vec<u8>>, ChunkError> {
    if config.max_payload == 0 {
        return Err(ChunkError::Split("max_payload must be at least 1".into()));
    }
    let compressed = compress(content)?;
    // As many chunks as needed, then evenly filled: same count, smaller QR codes.
    let count = compressed.len().div_ceil(config.max_payload).max(1);
    let (base, extra) = (compressed.len() / count, compressed.len() % count);
    let mut pieces: Vec<&[u8]> = Vec::with_capacity(count);
    let mut rest = compressed.as_slice();
    for i in 0..count {
        let (piece, tail) = rest.split_at(base + usize::from(i < extra));
        pieces.push(piece);
        rest = tail;
    }
    let total = u16::try_from(pieces.len()).map_err(|_| {
        ChunkError::Split(format!(
            "{} chunks needed, at most 65535 allowed",
            pieces.len()
        ))
    })?;
    let content_hash = sha256(content);
    let mut out = Vec::with_capacity(pieces.len());
    for (index, piece) in (0..total).zip(pieces) {
        let mut chunk = Vec::with_capacity(CHUNK_OVERHEAD + piece.len());
        chunk.push(CHUNK_TAG);
        chunk.push(CHUNK_VERSION);
        chunk.extend_from_slice(&content_hash);
        chunk.extend_from_slice(&index.to_be_bytes());
        chunk.extend_from_slice(&total.to_be_bytes());
        chunk.extend_from_slice(piece);
        let sum = checksum(&chunk);
        chunk.extend_from_slice(&sum);
        out.push(chunk);
    }
    Ok(out)
}

fn compress(content: &[u8]) -> Result<Vec<u8>, ChunkError> {
    use std::io::Write;
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(content)
        .map_err(|e| ChunkError::Split(e.to_string()))?;
    encoder
        .finish()
        .map_err(|e| ChunkError::Split(e.to_string()))
}

/// Decodes one scanned chunk and checks its tag, version, lengths and checksum.
pub fn parse_chunk(bytes: &[u8]) -> Result<Chunk, ChunkError> {
    if bytes.len() < 2 || bytes[0] != CHUNK_TAG {
        return Err(ChunkError::NotAChunk);
    }
    if bytes[1] != CHUNK_VERSION {
        return Err(ChunkError::UnsupportedVersion(bytes[1]));
    }
    if bytes.len() <= CHUNK_OVERHEAD {
        return Err(ChunkError::NotAChunk);
    }
    let (body, sum) = bytes.split_at(bytes.len() - CHUNK_CHECKSUM_LEN);
    if checksum(body) != sum {
        return Err(ChunkError::Corrupted);
    }
    let mut content_hash = [0u8; 32];
    content_hash.copy_from_slice(&body[2..34]);
    let index = u16::from_be_bytes([body[34], body[35]]);
    let total = u16::from_be_bytes([body[36], body[37]]);
    if total == 0 || index >= total {
        return Err(ChunkError::InconsistentTotal { index, total });
    }
    Ok(Chunk {
        content_hash,
        index,
        total,
        payload: body[CHUNK_HEADER_LEN..].to_vec(),
    })
}

/// Limits that keep a hostile or mistaken sender from exhausting the receiving tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssemblyLimits {
    /// Largest content after decompression (stops zip bombs).
    pub max_decompressed_bytes: usize,
    /// Most chunks one content may have.
    pub max_chunks: u16,
    /// Largest single chunk, header included (a version-40 QR code holds 2,953 bytes).
    pub max_chunk_bytes: usize,
}

impl Default for AssemblyLimits {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 1024 * 1024,
            max_chunks: 200,
            max_chunk_bytes: 3000,
        }
    }
}

/// What happened to an accepted chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A chunk not seen before.
    New,
    /// An identical copy of a chunk already received (ignored).
    Duplicate,
}

/// Collects scanned chunks of one content and rebuilds it.
///
/// Created with [`new`](Self::new) it binds to the content of the first chunk it
/// accepts; with [`expecting`](Self::expecting) it accepts only the content whose hash
/// the receiver already knows (e.g. from the signature request).
#[derive(Debug, Clone)]
pub struct Assembler {
    limits: AssemblyLimits,
    content_hash: Option<[u8; 32]>,
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
}

impl Assembler {
    /// An assembler that binds to the first chunk's content.
    pub fn new(limits: AssemblyLimits) -> Self {
        Self {
            limits,
            content_hash: None,
            parts: Vec::new(),
            received: 0,
        }
    }

    /// An assembler that accepts only chunks of the content with this SHA-256.
    pub fn expecting(content_hash: [u8; 32], limits: AssemblyLimits) -> Self {
        Self {
            content_hash: Some(content_hash),
            ..Self::new(limits)
        }
    }

    /// The hash of the content being assembled, once known.
    pub fn content_hash(&self) -> Option<[u8; 32]> {
        self.content_hash
    }

    /// `(received, total)` once the first chunk arrived.
    pub fn progress(&self) -> Option<(usize, usize)> {
        (!self.parts.is_empty()).then_some((self.received, self.parts.len()))
    }

    /// Indices of the chunks still missing (empty before the first chunk).
    pub fn missing(&self) -> Vec<u16> {
        (0..=u16::MAX)
            .zip(&self.parts)
            .filter(|(_, p)| p.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// `true` when every chunk has arrived.
    pub fn is_complete(&self) -> bool {
        !self.parts.is_empty() && self.received == self.parts.len()
    }

    /// Takes one scanned chunk. Chunks may come in any order; exact repeats are ignored.
    pub fn accept(&mut self, bytes: &[u8]) -> Result<Accepted, ChunkError> {
        if bytes.len() > self.limits.max_chunk_bytes {
            return Err(ChunkError::LimitExceeded(format!(
                "chunk of {} bytes, limit {}",
                bytes.len(),
                self.limits.max_chunk_bytes
            )));
        }
        let chunk = parse_chunk(bytes)?;
        if self.content_hash.is_some_and(|h| h != chunk.content_hash) {
            return Err(ChunkError::OtherContent);
        }
        if self.parts.is_empty() {
            if chunk.total > self.limits.max_chunks {
                return Err(ChunkError::LimitExceeded(format!(
                    "{} chunks, limit {}",
                    chunk.total, self.limits.max_chunks
                )));
            }
            self.content_hash = Some(chunk.content_hash);
            self.parts = vec![None; usize::from(chunk.total)];
        } else if usize::from(chunk.total) != self.parts.len() {
            return Err(ChunkError::InconsistentTotal {
                index: chunk.index,
                total: chunk.total,
            });
        }
        let slot = &mut self.parts[usize::from(chunk.index)];
        match slot {
            Some(existing) if *existing == chunk.payload => Ok(Accepted::Duplicate),
            Some(_) => Err(ChunkError::ConflictingDuplicate(chunk.index)),
            None => {
                *slot = Some(chunk.payload);
                self.received += 1;
                Ok(Accepted::New)
            }
        }
    }

    /// Decompresses the complete content (within the size limit) and checks its SHA-256.
    pub fn finish(&self) -> Result<Vec<u8>, ChunkError> {
        let (Some(hash), true) = (self.content_hash, self.is_complete()) else {
            return Err(ChunkError::Incomplete {
                missing: self.parts.len() - self.received,
                total: u16::try_from(self.parts.len()).unwrap_or(u16::MAX),
            });
        };
        let compressed: Vec<u8> = self.parts.iter().flatten().flatten().copied().collect();
        let content = decompress_limited(&compressed, self.limits.max_decompressed_bytes)?;
        if sha256(&content) != hash {
            return Err(ChunkError::HashMismatch);
        }
        Ok(content)
    }
}

/// Inflates `compressed`, refusing output over `limit` bytes and trailing input.
fn decompress_limited(compressed: &[u8], limit: usize) -> Result<Vec<u8>, ChunkError> {
    let mut decoder = DeflateDecoder::new(compressed);
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    (&mut decoder)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| ChunkError::Decompress(e.to_string()))?;
    if out.len() > limit {
        return Err(ChunkError::TooLarge(limit));
    }
    if usize::try_from(decoder.total_in()).ok() != Some(compressed.len()) {
        return Err(ChunkError::Decompress(
            "bytes after the end of the compressed stream".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "qr_chunks_tests.rs"]
mod tests;
