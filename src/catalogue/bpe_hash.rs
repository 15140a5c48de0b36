//! The hash and slot layout of the tokenizer's rank table, shared by `build.rs` (which
//! fills the table at compile time) and `bpe.rs` (which reads it): the two must agree bit
//! for bit, so they are written once, here. Plain Rust, no dependencies.

/// The hash of a token's bytes.
#[inline(always)]
pub fn hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

/// log2 of the number of slots for a table of `tokens` tokens: at most half full, so a
/// probe sequence stays short.
pub fn slot_bits(tokens: usize) -> u32 {
    (tokens * 2).next_power_of_two().trailing_zeros().max(4)
}

/// The slot a rank's bytes of hash `h` start probing from, in a table of `1 << bits`.
#[inline(always)]
pub fn home_slot(h: u64, bits: u32) -> usize {
    (h >> (64 - bits)) as usize
}

/// What a filled slot holds: the high 32 bits of the hash as a tag, and `rank + 1` (0
/// marks an empty slot).
#[inline(always)]
pub fn slot_value(h: u64, rank: u32) -> u64 {
    (h << 32) | u64::from(rank + 1)
}

/// The tag a slot must carry to hold bytes of hash `h`.
#[inline(always)]
pub fn slot_tag(h: u64) -> u64 {
    h << 32
}
