//! Unit tests of [`crate::signing::qr_chunks`].

use super::*;

/// Deterministic, poorly compressible bytes (xorshift), so small payloads still
/// produce several chunks.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()[0]
        })
        .collect()
}

fn small() -> ChunkConfig {
    ChunkConfig { max_payload: 100 }
}

#[test]
fn default_chunk_is_about_one_thousand_bytes() {
    let chunks = split_into_chunks(&noise(5000, 1), &ChunkConfig::default()).expect("split");
    let max_payload = ChunkConfig::default().max_payload;
    let compressed: usize = chunks.iter().map(|c| c.len() - CHUNK_OVERHEAD).sum();
    assert_eq!(
        chunks.len(),
        compressed.div_ceil(max_payload),
        "fewest chunks"
    );
    assert!(chunks.iter().all(|c| c.len() <= DEFAULT_MAX_CHUNK_BYTES));
    let (min, max) = (
        chunks.iter().map(Vec::len).min(),
        chunks.iter().map(Vec::len).max(),
    );
    assert!(
        max.zip(min).is_some_and(|(a, b)| a - b <= 1),
        "evenly filled: {min:?}..{max:?}"
    );
}

#[test]
fn shuffled_and_duplicated_chunks_reassemble() {
    let content = noise(1000, 7);
    let chunks = split_into_chunks(&content, &small()).expect("split");
    assert!(chunks.len() >= 10, "{}", chunks.len());
    // A fixed shuffle (reverse, then interleave) with every chunk twice.
    let mut order: Vec<usize> = (0..chunks.len()).rev().collect();
    order.extend((0..chunks.len()).step_by(2));
    order.extend((1..chunks.len()).step_by(2));
    let mut asm = Assembler::new(AssemblyLimits::default());
    let mut new = 0;
    for i in order {
        match asm.accept(&chunks[i]).expect("accept") {
            Accepted::New => new += 1,
            Accepted::Duplicate => {}
        }
    }
    assert_eq!(new, chunks.len());
    assert!(asm.is_complete());
    assert!(asm.missing().is_empty());
    assert_eq!(asm.finish().expect("finish"), content);
}

#[test]
fn progress_and_missing_are_reported() {
    let content = noise(500, 3);
    let chunks = split_into_chunks(&content, &small()).expect("split");
    let mut asm = Assembler::expecting(sha256(&content), AssemblyLimits::default());
    assert_eq!(asm.progress(), None);
    asm.accept(&chunks[1]).expect("accept");
    assert_eq!(asm.progress(), Some((1, chunks.len())));
    assert!(!asm.missing().contains(&1) && asm.missing().contains(&0));
    assert!(
        matches!(asm.finish(), Err(ChunkError::Incomplete { missing, .. }) if missing == chunks.len() - 1)
    );
}

#[test]
fn corrupted_chunk_is_detected() {
    let content = noise(500, 5);
    let chunks = split_into_chunks(&content, &small()).expect("split");
    for pos in [0, 1, 5, 35, 37, 50, chunks[0].len() - 1] {
        let mut bad = chunks[0].clone();
        bad[pos] ^= 0x20;
        let err = Assembler::new(AssemblyLimits::default())
            .accept(&bad)
            .expect_err("corrupt");
        assert!(
            matches!(
                err,
                ChunkError::Corrupted | ChunkError::NotAChunk | ChunkError::UnsupportedVersion(_)
            ),
            "byte {pos}: {err:?}"
        );
    }
}

#[test]
fn corruption_behind_a_valid_checksum_is_caught_by_the_content_hash() {
    let content = noise(500, 9);
    let mut chunks = split_into_chunks(&content, &small()).expect("split");
    // Rewrite one payload byte and recompute the per-chunk checksum, as a forger would.
    let last = chunks[2].len() - CHUNK_CHECKSUM_LEN;
    chunks[2][CHUNK_HEADER_LEN + 3] ^= 1;
    let sum = checksum(&chunks[2][..last]);
    chunks[2][last..].copy_from_slice(&sum);
    let mut asm = Assembler::new(AssemblyLimits::default());
    for c in &chunks {
        asm.accept(c).expect("accept");
    }
    assert!(matches!(
        asm.finish(),
        Err(ChunkError::HashMismatch | ChunkError::Decompress(_))
    ));
}

#[test]
fn wrong_content_chunk_is_refused() {
    let a = split_into_chunks(&noise(500, 1), &small()).expect("split");
    let b = split_into_chunks(&noise(500, 2), &small()).expect("split");
    let mut asm = Assembler::new(AssemblyLimits::default());
    asm.accept(&a[0]).expect("accept");
    assert_eq!(asm.accept(&b[1]), Err(ChunkError::OtherContent));
    let mut expecting = Assembler::expecting(sha256(&noise(500, 2)), AssemblyLimits::default());
    assert_eq!(expecting.accept(&a[0]), Err(ChunkError::OtherContent));
    assert_eq!(expecting.accept(&b[0]), Ok(Accepted::New));
}

#[test]
fn inconsistent_totals_and_conflicting_duplicates_are_refused() {
    let content = noise(500, 4);
    let hash = sha256(&content);
    let make = |index: u16, total: u16, payload: &[u8]| {
        let mut c = vec![CHUNK_TAG, CHUNK_VERSION];
        c.extend_from_slice(&hash);
        c.extend_from_slice(&index.to_be_bytes());
        c.extend_from_slice(&total.to_be_bytes());
        c.extend_from_slice(payload);
        let sum = checksum(&c);
        c.extend_from_slice(&sum);
        c
    };
    let mut asm = Assembler::new(AssemblyLimits::default());
    asm.accept(&make(0, 3, b"abc")).expect("accept");
    assert_eq!(
        asm.accept(&make(1, 4, b"def")),
        Err(ChunkError::InconsistentTotal { index: 1, total: 4 })
    );
    assert_eq!(
        asm.accept(&make(0, 3, b"xyz")),
        Err(ChunkError::ConflictingDuplicate(0))
    );
    assert_eq!(asm.accept(&make(0, 3, b"abc")), Ok(Accepted::Duplicate));
    assert_eq!(
        parse_chunk(&make(3, 3, b"x")),
        Err(ChunkError::InconsistentTotal { index: 3, total: 3 })
    );
    assert_eq!(
        parse_chunk(&make(0, 0, b"x")),
        Err(ChunkError::InconsistentTotal { index: 0, total: 0 })
    );
}

#[test]
fn decompressed_size_limit_stops_zip_bombs() {
    let bomb = vec![0u8; 5 * 1024 * 1024];
    let chunks = split_into_chunks(&bomb, &ChunkConfig::default()).expect("split");
    assert!(
        chunks.len() <= 8,
        "5 MiB of zeros compresses to {} chunks",
        chunks.len()
    );
    let mut asm = Assembler::new(AssemblyLimits::default());
    for c in &chunks {
        asm.accept(c).expect("accept");
    }
    assert_eq!(asm.finish(), Err(ChunkError::TooLarge(1024 * 1024)));
    let generous = AssemblyLimits {
        max_decompressed_bytes: bomb.len(),
        ..AssemblyLimits::default()
    };
    let mut asm = Assembler::new(generous);
    for c in &chunks {
        asm.accept(c).expect("accept");
    }
    assert_eq!(asm.finish().map(|c| c.len()), Ok(bomb.len()));
}

#[test]
fn chunk_count_and_size_limits() {
    let chunks = split_into_chunks(&noise(3000, 6), &small()).expect("split");
    let few = AssemblyLimits {
        max_chunks: 5,
        ..AssemblyLimits::default()
    };
    assert!(matches!(
        Assembler::new(few).accept(&chunks[0]),
        Err(ChunkError::LimitExceeded(_))
    ));
    let tiny = AssemblyLimits {
        max_chunk_bytes: 50,
        ..AssemblyLimits::default()
    };
    assert!(matches!(
        Assembler::new(tiny).accept(&chunks[0]),
        Err(ChunkError::LimitExceeded(_))
    ));
    assert!(matches!(
        split_into_chunks(b"x", &ChunkConfig { max_payload: 0 }),
        Err(ChunkError::Split(_))
    ));
}

#[test]
fn empty_content_round_trips() {
    let chunks = split_into_chunks(b"", &ChunkConfig::default()).expect("split");
    assert_eq!(chunks.len(), 1);
    let mut asm = Assembler::new(AssemblyLimits::default());
    asm.accept(&chunks[0]).expect("accept");
    assert_eq!(asm.finish(), Ok(Vec::new()));
}

#[test]
fn garbage_is_not_a_chunk() {
    assert_eq!(parse_chunk(b""), Err(ChunkError::NotAChunk));
    assert_eq!(parse_chunk(b"R\x01abc"), Err(ChunkError::NotAChunk));
    assert_eq!(
        parse_chunk(b"C\x02abc"),
        Err(ChunkError::UnsupportedVersion(2))
    );
    assert_eq!(
        parse_chunk(&[CHUNK_TAG, CHUNK_VERSION, 0, 0]),
        Err(ChunkError::NotAChunk)
    );
}

#[test]
fn trailing_bytes_after_the_stream_are_refused() {
    let mut compressed = compress(b"hello").expect("compress");
    assert_eq!(decompress_limited(&compressed, 100), Ok(b"hello".to_vec()));
    compressed.push(0);
    assert!(matches!(
        decompress_limited(&compressed, 100),
        Err(ChunkError::Decompress(_))
    ));
}
