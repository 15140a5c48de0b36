//! A faster twin of tiktoken-rs's `CoreBPE::encode_ordinary` for cl100k_base and o200k_base,
//! giving the same token ids, with nothing to build at run time.
//!
//! tiktoken-rs spends most of its time in the fancy_regex pre-tokenizer, then hashes every
//! piece as a `Vec<u8>` key. Here each encoding's pattern is hand-written as a scanner that
//! follows the regex's own semantics (leftmost-first alternation, greedy and possessive
//! quantifiers, the `\s+(?!\S)` look-ahead), over every Unicode character: its classes
//! (`\p{L}`, `\p{N}`, `\s`, the o200k case classes) come from regex-syntax's tables, the
//! same ones fancy_regex matches with. The ranks sit in a flat open-addressing table, and
//! the byte-pair merges are ports of tiktoken's (`_byte_pair_merge` below 100 bytes, the
//! heap version above), so a piece splits into exactly the tokens tiktoken-rs gives it.
//! `tokens.rs`'s tests compare the two on edge cases and thousands of generated strings,
//! ASCII and not.
//!
//! The tables (ranks, character classes) are computed from tiktoken-rs and regex-syntax by
//! `build.rs` and compiled in as static data: the first count costs what any other does,
//! where building them took ~80 ms (cl100k_base) or ~160 ms (o200k_base) on the thread of
//! the first caller. Neither crate is linked into the library.

use std::collections::BinaryHeap;

use super::bpe_hash::{hash, slot_tag};

pub type Rank = u32;

const NO_RANK: Rank = Rank::MAX;

/// Which pre-tokenization pattern (see tiktoken-rs's `openai_public.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
    /// ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
    Cl100k,
    /// `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
    /// [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
    /// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    O200k,
}

// ---------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------

/// `\p{L}`
const F_L: u8 = 1;
/// `\p{N}`
const F_N: u8 = 2;
/// `\s` (Unicode White_Space)
const F_S: u8 = 4;
/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (o200k's "upper" letters)
const F_UP: u8 = 8;
/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (o200k's "lower" letters)
const F_LO: u8 = 16;
/// `\r` or `\n`
const F_NL: u8 = 32;

/// Not in `[^\r\n\p{L}\p{N}]` (the optional prefix of a letter piece) if any of these is set.
const NOT_PREFIX: u8 = F_L | F_N | F_NL;
/// Not in `[^\s\p{L}\p{N}]` (punctuation and symbols) if any of these is set.
const NOT_PUNCT: u8 = F_S | F_L | F_N;

/// The class bits of every character, from regex-syntax's Unicode tables (`build.rs`
/// writes them; `CLASSES` below).
pub(super) struct Classes {
    /// The ASCII characters, inline (the common case; 128..256 are unused).
    ascii: [u8; 256],
    /// Every character of the Basic Multilingual Plane.
    bmp: &'static [u8; 0x10000],
    /// `(first, last, bits)` for characters above U+FFFF, sorted, non-overlapping.
    astral: &'static [(u32, u32, u8)],
}

impl Classes {
    #[inline]
    fn of_code_point(&self, cp: u32) -> u8 {
        if let Some(&bits) = self.bmp.get(cp as usize) {
            return bits;
        }
        let i = self.astral.partition_point(|&(first, _, _)| first <= cp);
        match i.checked_sub(1).and_then(|i| self.astral.get(i)) {
            Some(&(_, last, bits)) if last >= cp => bits,
            _ => 0,
        }
    }

    /// Class bits and UTF-8 length of the character starting at byte `i` (`i < b.len()`,
    /// on a character boundary of valid UTF-8).
    #[inline(always)]
    fn at(&self, b: &[u8], i: usize) -> (u8, usize) {
        let b0 = b[i];
        if b0 < 0x80 {
            return (self.ascii[usize::from(b0)], 1);
        }
        let (cp, len) = decode(b, i);
        (self.of_code_point(cp), len)
    }

    /// End of the run of characters from `i` having any of `mask`'s bits.
    #[inline(always)]
    fn run(&self, b: &[u8], mut i: usize, mask: u8) -> usize {
        while i < b.len() {
            let (bits, len) = self.at(b, i);
            if bits & mask == 0 {
                break;
            }
            i += len;
        }
        i
    }

    /// End of the run of characters from `i` having none of `mask`'s bits.
    #[inline(always)]
    fn run_not(&self, b: &[u8], mut i: usize, mask: u8) -> usize {
        while i < b.len() {
            let (bits, len) = self.at(b, i);
            if bits & mask != 0 {
                break;
            }
            i += len;
        }
        i
    }
}

/// The code point and length of a multi-byte UTF-8 sequence at `i`.
#[inline]
fn decode(b: &[u8], i: usize) -> (u32, usize) {
    let byte = |k: usize| u32::from(b.get(i + k).copied().unwrap_or(0x80) & 0x3F);
    let b0 = u32::from(b[i]);
    if b0 < 0xE0 {
        (((b0 & 0x1F) << 6) | byte(1), 2)
    } else if b0 < 0xF0 {
        (((b0 & 0x0F) << 12) | (byte(1) << 6) | byte(2), 3)
    } else {
        (
            ((b0 & 0x07) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3),
            4,
        )
    }
}

/// The character at `i` folded to ASCII lower case if it is one of the letters of the
/// contractions under Unicode simple case folding (what `(?i:…)` matches), with its length.
#[inline]
fn folded_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    let b0 = *b.get(i)?;
    if b0 < 0x80 {
        return Some((b0.to_ascii_lowercase(), 1));
    }
    // U+017F LATIN SMALL LETTER LONG S folds to 's'; no other non-ASCII character folds to
    // any of s, t, r, e, v, m, l, d (checked against regex-syntax in the tests).
    if b0 == 0xC5 && b.get(i + 1) == Some(&0xBF) {
        return Some((b's', 2));
    }
    None
}

/// Length of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` (the same set as cl100k's
/// `'(?i:[sdmt]|ll|ve|re)`) at `i`, if it matches there.
#[inline]
fn contraction(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'\'') {
        return None;
    }
    let (c1, l1) = folded_at(b, i + 1)?;
    match c1 {
        b's' | b't' | b'm' | b'd' => Some(1 + l1),
        b'r' | b'v' | b'l' => {
            let want = if c1 == b'l' { b'l' } else { b'e' };
            match folded_at(b, i + 1 + l1) {
                Some((c2, l2)) if c2 == want => Some(1 + l1 + l2),
                _ => None,
            }
        }
        _ => None,
    }
}

/// End of the whitespace run starting at `i`, the end of its last `\r`/`\n` (0 if none),
/// and the start of its last character.
#[inline(always)]
fn whitespace_run(cls: &Classes, b: &[u8], i: usize) -> (usize, usize, usize) {
    let (mut j, mut last_nl, mut last_start) = (i, 0, i);
    while j < b.len() {
        let (bits, len) = cls.at(b, j);
        if bits & F_S == 0 {
            break;
        }
        if bits & F_NL != 0 {
            last_nl = j + 1;
        }
        last_start = j;
        j += len;
    }
    (j, last_nl, last_start)
}

/// The end of `\p{N}{1,3}` at `i` (the character at `i` being a number).
#[inline(always)]
fn digits(cls: &Classes, b: &[u8], i: usize, first_len: usize) -> usize {
    let mut j = i + first_len;
    for _ in 0..2 {
        if j >= b.len() {
            break;
        }
        let (bits, len) = cls.at(b, j);
        if bits & F_N == 0 {
            break;
        }
        j += len;
    }
    j
}

/// The end of the cl100k_base piece starting at `i < b.len()`.
#[inline(always)]
fn next_cl100k(cls: &Classes, b: &[u8], i: usize) -> usize {
    let n = b.len();
    let c = b[i];
    // '(?i:[sdmt]|ll|ve|re)
    if c == b'\'' {
        if let Some(len) = contraction(b, i) {
            return i + len;
        }
    }
    let (f, cl) = cls.at(b, i);
    // [^\r\n\p{L}\p{N}]?+\p{L}++ : the prefix, once taken, is never given back.
    if f & NOT_PREFIX == 0 {
        let j = i + cl;
        if j < n {
            let (g, gl) = cls.at(b, j);
            if g & F_L != 0 {
                return cls.run(b, j + gl, F_L);
            }
        }
    } else if f & F_L != 0 {
        return cls.run(b, i + cl, F_L);
    }
    // \p{N}{1,3}+
    if f & F_N != 0 {
        return digits(cls, b, i, cl);
    }
    // ?[^\s\p{L}\p{N}]++[\r\n]*+
    let punct_from = if f & NOT_PUNCT == 0 {
        Some(i)
    } else if c == b' ' && i + 1 < n && cls.at(b, i + 1).0 & NOT_PUNCT == 0 {
        Some(i + 1)
    } else {
        None
    };
    if let Some(p) = punct_from {
        let mut j = cls.run_not(b, p, NOT_PUNCT);
        while j < n && (b[j] == b'\r' || b[j] == b'\n') {
            j += 1;
        }
        return j;
    }
    // Whitespace (every other character is).
    let (j, last_nl, last_start) = whitespace_run(cls, b, i);
    if j == n {
        j // \s++$
    } else if last_nl != 0 {
        last_nl // \s*[\r\n]
    } else if last_start > i {
        last_start // \s+(?!\S)
    } else {
        i + cl // \s
    }
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|…)?` at `s`, as a
/// backtracking matcher runs it: the longest upper run that a lower character follows.
#[inline(always)]
fn upper_star_lower_plus(cls: &Classes, b: &[u8], s: usize) -> Option<usize> {
    let n = b.len();
    let mut u = s;
    let mut last_both = None; // the last character of the upper run that is also "lower"
    while u < n {
        let (bits, len) = cls.at(b, u);
        if bits & F_UP == 0 {
            break;
        }
        if bits & F_LO != 0 {
            last_both = Some(u);
        }
        u += len;
    }
    let lower_from = if u < n && cls.at(b, u).0 & F_LO != 0 {
        u
    } else {
        last_both?
    };
    let e = cls.run(b, lower_from, F_LO);
    Some(e + contraction(b, e).unwrap_or(0))
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|…)?` at `s`.
#[inline(always)]
fn upper_plus_lower_star(cls: &Classes, b: &[u8], s: usize) -> Option<usize> {
    if s >= b.len() || cls.at(b, s).0 & F_UP == 0 {
        return None;
    }
    let u = cls.run(b, s, F_UP);
    let e = cls.run(b, u, F_LO);
    Some(e + contraction(b, e).unwrap_or(0))
}

/// The end of the o200k_base piece starting at `i < b.len()`.
#[inline(always)]
fn next_o200k(cls: &Classes, b: &[u8], i: usize) -> usize {
    let n = b.len();
    let c = b[i];
    let (f, cl) = cls.at(b, i);
    // The two letter alternatives, each with its optional prefix tried first.
    let prefixed = f & NOT_PREFIX == 0 && i + cl < n;
    if prefixed {
        if let Some(e) = upper_star_lower_plus(cls, b, i + cl) {
            return e;
        }
    }
    if f & (F_UP | F_LO) != 0 {
        if let Some(e) = upper_star_lower_plus(cls, b, i) {
            return e;
        }
    }
    if prefixed {
        if let Some(e) = upper_plus_lower_star(cls, b, i + cl) {
            return e;
        }
    }
    if f & F_UP != 0 {
        if let Some(e) = upper_plus_lower_star(cls, b, i) {
            return e;
        }
    }
    // \p{N}{1,3}
    if f & F_N != 0 {
        return digits(cls, b, i, cl);
    }
    // ?[^\s\p{L}\p{N}]+[\r\n/]*
    let punct_from = if f & NOT_PUNCT == 0 {
        Some(i)
    } else if c == b' ' && i + 1 < n && cls.at(b, i + 1).0 & NOT_PUNCT == 0 {
        Some(i + 1)
    } else {
        None
    };
    if let Some(p) = punct_from {
        let mut j = cls.run_not(b, p, NOT_PUNCT);
        while j < n && matches!(b[j], b'\r' | b'\n' | b'/') {
            j += 1;
        }
        return j;
    }
    // Whitespace.
    let (j, last_nl, last_start) = whitespace_run(cls, b, i);
    if last_nl != 0 {
        last_nl // \s*[\r\n]+
    } else if j == n {
        j // \s+(?!\S) at the end
    } else if last_start > i {
        last_start // \s+(?!\S)
    } else {
        j // \s+
    }
}

/// Calls `f` with every piece of `text`, as tiktoken-rs's regex splits it.
#[inline(always)]
fn for_each_piece(cls: &Classes, pattern: Pattern, text: &str, mut f: impl FnMut(&[u8])) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let end = match pattern {
            Pattern::Cl100k => next_cl100k(cls, b, i),
            Pattern::O200k => next_o200k(cls, b, i),
        };
        // Every branch consumes at least one character; the guard only keeps a broken
        // invariant from looping forever or slicing out of bounds.
        let end = end.clamp(i + 1, b.len());
        f(&b[i..end]);
        i = end;
    }
}

/// The pieces of `text`.
#[cfg(test)]
pub fn pieces(pattern: Pattern, text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for_each_piece(&CLASSES, pattern, text, |p| {
        let end = start + p.len();
        out.push(text.get(start..end).unwrap_or(""));
        start = end;
    });
    out
}

// ---------------------------------------------------------------------------------------
// Ranks
// ---------------------------------------------------------------------------------------

/// bytes -> rank, as an open-addressing table whose slots hold a 32-bit hash tag and the
/// rank (see `bpe_hash.rs`); a rank's bytes live in one arena. All of it is static data
/// written by `build.rs`, its integers little-endian.
pub(super) struct RankTable {
    /// The bytes of ranks `0..=last` end to end: rank `r`'s are `arena[starts[r]..starts[r
    /// + 1]]`, empty for special tokens and unused ranks.
    arena: &'static [u8],
    /// `u32`s.
    starts: &'static [u8],
    /// `u64`s, a power of two of them: the ranks of three bytes or more.
    slots: &'static [u8],
    /// `64 - log2(slots)` (see `bpe_hash::home_slot`) and `slots - 1`.
    shift: u32,
    mask: usize,
    /// `u32`s: every two-byte sequence's rank (NO_RANK if none), the first lookups of
    /// every merge.
    pairs: &'static [u8],
    single: [Rank; 256],
    /// The special tokens' ranks and text (for `decode`).
    special: &'static [(Rank, &'static str)],
}

/// Static data aligned to a cache line.
#[repr(C, align(64))]
struct Aligned<T>(T);

// CLASSES, O200K_BASE, CL100K_BASE.
include!(concat!(env!("OUT_DIR"), "/bpe_tables.rs"));

/// The `i`th little-endian `u32` of `bytes`.
#[inline(always)]
fn u32_at(bytes: &[u8], i: usize) -> Option<u32> {
    let word: [u8; 4] = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(word))
}

/// The `i`th little-endian `u64` of `bytes` (0, an empty slot, past the end).
#[inline(always)]
fn u64_at(bytes: &[u8], i: usize) -> u64 {
    match bytes
        .get(i * 8..i * 8 + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        Some(word) => u64::from_le_bytes(word),
        None => 0,
    }
}

/// `a == b`, inlined: keys are short, and a call to memcmp costs more than comparing them.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

impl RankTable {
    #[inline(always)]
    fn bytes_of(&self, rank: Rank) -> &'static [u8] {
        let r = rank as usize;
        match (u32_at(self.starts, r), u32_at(self.starts, r + 1)) {
            (Some(s), Some(e)) => self.arena.get(s as usize..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    #[inline(always)]
    fn get(&self, key: &[u8]) -> Option<Rank> {
        match key {
            [a] => {
                let r = self.single[usize::from(*a)];
                return (r != NO_RANK).then_some(r);
            }
            [a, b] => {
                let r = u32_at(self.pairs, usize::from(*a) << 8 | usize::from(*b))?;
                return (r != NO_RANK).then_some(r);
            }
            _ => {}
        }
        let h = hash(key);
        let tag = slot_tag(h);
        let mut idx = (h >> self.shift) as usize;
        loop {
            let slot = u64_at(self.slots, idx);
            if slot == 0 {
                return None;
            }
            if slot & !0xFFFF_FFFF == tag {
                let rank = (slot as u32).wrapping_sub(1);
                if same_bytes(self.bytes_of(rank), key) {
                    return Some(rank);
                }
            }
            idx = (idx + 1) & self.mask;
        }
    }

    #[inline(always)]
    fn rank_or_max(&self, key: &[u8]) -> Rank {
        self.get(key).unwrap_or(NO_RANK)
    }

    /// tiktoken's `_byte_pair_merge`: the (start, rank) boundaries of `piece`'s tokens,
    /// for pieces of 2..100 bytes.
    fn merge(&self, piece: &[u8], parts: &mut Vec<(usize, Rank)>) {
        parts.clear();
        let mut min_rank: (Rank, usize) = (NO_RANK, usize::MAX);
        for i in 0..piece.len() - 1 {
            let rank = self.rank_or_max(&piece[i..i + 2]);
            if rank < min_rank.0 {
                min_rank = (rank, i);
            }
            parts.push((i, rank));
        }
        parts.push((piece.len() - 1, NO_RANK));
        parts.push((piece.len(), NO_RANK));

        let get_rank = |parts: &Vec<(usize, Rank)>, i: usize| {
            if i + 3 < parts.len() {
                self.rank_or_max(&piece[parts[i].0..parts[i + 3].0])
            } else {
                NO_RANK
            }
        };
        while min_rank.0 != NO_RANK {
            let i = min_rank.1;
            if i > 0 {
                parts[i - 1].1 = get_rank(parts, i - 1);
            }
            parts[i].1 = get_rank(parts, i);
            parts.remove(i + 1);

            min_rank = (NO_RANK, usize::MAX);
            for (i, &(_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
                if rank < min_rank.0 {
                    min_rank = (rank, i);
                }
            }
        }
    }

    /// tiktoken's `_byte_pair_merge_large` (pieces of 100 bytes or more).
    fn merge_large(&self, piece: &[u8], out: &mut impl FnMut(Rank)) {
        #[derive(Eq, PartialEq, Clone, Copy)]
        struct Merge {
            start: usize,
            rank: Rank,
        }
        impl Ord for Merge {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                other
                    .rank
                    .cmp(&self.rank)
                    .then_with(|| other.start.cmp(&self.start))
            }
        }
        impl PartialOrd for Merge {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        struct State {
            prev: usize,
            end: usize,
            next_end: usize,
            next_rank: Rank,
            cur_rank: Rank,
        }

        let mut state = Vec::with_capacity(piece.len());
        state.push(State {
            prev: usize::MAX,
            end: 1,
            next_end: 2,
            next_rank: NO_RANK,
            cur_rank: NO_RANK,
        });
        let mut heap = BinaryHeap::with_capacity(piece.len());
        for i in 0..piece.len() - 1 {
            if let Some(rank) = self.get(&piece[i..i + 2]) {
                heap.push(Merge { start: i, rank });
                state[i].next_rank = rank;
            }
            state.push(State {
                prev: i,
                end: i + 2,
                next_end: i + 3,
                next_rank: NO_RANK,
                cur_rank: NO_RANK,
            });
        }

        let potential_merge = |state: &mut Vec<State>,
                               heap: &mut BinaryHeap<Merge>,
                               start: usize,
                               next_end_item: usize| {
            state[start].next_end = next_end_item;
            state[start].next_rank = NO_RANK;
            if next_end_item <= piece.len() {
                if let Some(rank) = self.get(&piece[start..next_end_item]) {
                    heap.push(Merge { start, rank });
                    state[start].next_rank = rank;
                }
            }
        };

        while let Some(left) = heap.pop() {
            if left.rank == NO_RANK {
                break;
            }
            if left.rank != state[left.start].next_rank {
                continue;
            }
            let left_start = left.start;
            let right_start = state[left_start].end;
            let right_end = state[left_start].next_end;
            let right_next_end = state[right_start].next_end;

            state[left_start].cur_rank = state[left_start].next_rank;
            state[left_start].end = right_end;
            potential_merge(&mut state, &mut heap, left_start, right_next_end);
            if right_end < state.len() {
                state[right_end].prev = left_start;
            }
            if left_start > 0 {
                let prev_start = state[left_start].prev;
                potential_merge(&mut state, &mut heap, prev_start, right_end);
            }
            state[right_start].next_rank = NO_RANK;
        }

        let mut i = 0;
        while i < state.len() {
            if state[i].cur_rank != NO_RANK {
                out(state[i].cur_rank);
            } else {
                out(self.rank_or_max(&piece[i..state[i].end]));
            }
            i = state[i].end;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The encoder
// ---------------------------------------------------------------------------------------

/// One encoding's tokenizer: its pre-tokenizer pattern and rank table. Both encodings are
/// statics ([`FastBpe::O200K_BASE`], [`FastBpe::CL100K_BASE`]): nothing is built at run
/// time.
pub struct FastBpe {
    pattern: Pattern,
    classes: &'static Classes,
    ranks: &'static RankTable,
}

impl FastBpe {
    pub const O200K_BASE: FastBpe = FastBpe {
        pattern: Pattern::O200k,
        classes: &CLASSES,
        ranks: &O200K_BASE,
    };

    pub const CL100K_BASE: FastBpe = FastBpe {
        pattern: Pattern::Cl100k,
        classes: &CLASSES,
        ranks: &CL100K_BASE,
    };

    #[inline(always)]
    fn each_token(&self, text: &str, mut out: impl FnMut(Rank), count_only: bool) {
        let mut parts = Vec::new();
        for_each_piece(self.classes, self.pattern, text, |piece| {
            if let Some(rank) = self.ranks.get(piece) {
                out(rank);
            } else if piece.len() < 100 {
                self.ranks.merge(piece, &mut parts);
                if count_only {
                    for _ in 1..parts.len() {
                        out(NO_RANK);
                    }
                } else {
                    for w in parts.windows(2) {
                        out(self.ranks.rank_or_max(&piece[w[0].0..w[1].0]));
                    }
                }
            } else {
                self.ranks.merge_large(piece, &mut out);
            }
        });
    }

    /// `bpe.encode_ordinary(text).len()`.
    pub fn count(&self, text: &str) -> usize {
        let mut n = 0;
        self.each_token(text, |_| n += 1, true);
        n
    }

    /// `bpe.encode_ordinary(text)`.
    pub fn encode(&self, text: &str) -> Vec<Rank> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        self.each_token(text, |r| out.push(r), false);
        out
    }

    /// `bpe.decode_bytes(tokens)`: the bytes of ordinary and special tokens; `None` if a
    /// token is neither.
    pub fn decode_bytes(&self, tokens: &[Rank]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(tokens.len() * 4);
        // Ids past the table are special or unknown (and kept out of its offset arithmetic).
        let ranks = self.ranks.starts.len() / 4;
        for &token in tokens {
            let bytes = if (token as usize) < ranks {
                self.ranks.bytes_of(token)
            } else {
                &[]
            };
            if !bytes.is_empty() {
                out.extend_from_slice(bytes);
                continue;
            }
            let (_, text) = self.ranks.special.iter().find(|(r, _)| *r == token)?;
            out.extend_from_slice(text.as_bytes());
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pattern: Pattern, text: &str) -> Vec<&str> {
        pieces(pattern, text)
    }

    fn class_ranges(pattern: &str) -> Vec<(u32, u32)> {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .unwrap();
        match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => class
                .ranges()
                .iter()
                .map(|r| (u32::from(r.start()), u32::from(r.end())))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The compiled-in table holds every rank of tiktoken-rs's, with the same bytes, and
    /// decodes special tokens as tiktoken-rs does.
    #[test]
    fn rank_tables_hold_every_tiktoken_rank() {
        let encodings = [
            (FastBpe::O200K_BASE, tiktoken_rs::o200k_base_singleton()),
            (FastBpe::CL100K_BASE, tiktoken_rs::cl100k_base_singleton()),
        ];
        for (fast, bpe) in encodings {
            let last = fast.ranks.special.iter().map(|s| s.0).max().unwrap();
            let mut ordinary = 0;
            for rank in 0..=last + 1 {
                let want = bpe.decode_bytes(&[rank]).ok();
                assert_eq!(fast.decode_bytes(&[rank]), want, "bytes of rank {rank}");
                let Some(bytes) = want else { continue };
                if fast.ranks.special.iter().any(|s| s.0 == rank) {
                    continue;
                }
                ordinary += 1;
                assert_eq!(fast.ranks.get(&bytes), Some(rank), "rank of {bytes:?}");
            }
            assert!(ordinary > 100_000);
            assert_eq!(fast.decode_bytes(&[Rank::MAX]), None);
            assert_eq!(fast.ranks.get(b"\xff\xfe\xfd\xfc"), None);
        }
    }

    #[test]
    fn cl100k_pieces() {
        let p = Pattern::Cl100k;
        // Contractions split off (any case, ſ folding to s), even before more letters.
        assert_eq!(split(p, "don't"), ["don", "'t"]);
        assert_eq!(split(p, "I'LL 'Sam"), ["I", "'LL", " '", "Sam"]);
        assert_eq!(split(p, "'Sam"), ["'S", "am"]);
        assert_eq!(split(p, "x'ſ"), ["x", "'ſ"]);
        // One non-letter, non-newline character leads a word.
        assert_eq!(split(p, "a.b\tc"), ["a", ".b", "\tc"]);
        assert_eq!(split(p, "\nb"), ["\n", "b"]);
        assert_eq!(split(p, "1234567"), ["123", "456", "7"]);
        assert_eq!(split(p, "a !?\n\nb"), ["a", " !?\n\n", "b"]);
        // Whitespace: a run ending the text stays whole; otherwise up to its last newline,
        // else all but its last character, which leads the next piece.
        assert_eq!(split(p, "a  \n  "), ["a", "  \n  "]);
        assert_eq!(split(p, "a \n \n  b"), ["a", " \n \n", " ", " b"]);
        assert_eq!(split(p, "a   b"), ["a", "  ", " b"]);
        assert_eq!(split(p, "a \t1"), ["a", " ", "\t", "1"]);
        assert_eq!(split(p, ""), Vec::<&str>::new());
    }

    #[test]
    fn o200k_pieces() {
        let p = Pattern::O200k;
        // Contractions stay on their word; case runs split words.
        assert_eq!(split(p, "don't DON'T"), ["don't", " DON'T"]);
        assert_eq!(
            split(p, "HTTPServer camelCase"),
            ["HTTPServer", " camel", "Case"]
        );
        assert_eq!(split(p, "'s"), ["'s"]);
        assert_eq!(split(p, "a!\n/b"), ["a", "!\n/", "b"]);
        // Newlines win over the end of the text here (unlike cl100k).
        assert_eq!(split(p, "a  \n  "), ["a", "  \n", "  "]);
        assert_eq!(split(p, "a   b"), ["a", "  ", " b"]);
        // A mark is a "lower" letter: it ends an upper run as a word of its own.
        assert_eq!(split(p, "A\u{301}B"), ["A\u{301}", "B"]);
    }

    #[test]
    fn only_long_s_folds_into_contraction_letters() {
        use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
        for letter in "strevmld".chars() {
            let mut class = ClassUnicode::new([ClassUnicodeRange::new(letter, letter)]);
            class.case_fold_simple();
            let folded: Vec<char> = class
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .collect();
            let mut want = vec![letter.to_ascii_uppercase(), letter];
            if letter == 's' {
                want.push('\u{17F}');
            }
            assert_eq!(folded, want, "case folds of {letter}");
        }
    }

    #[test]
    fn classes_match_regex_syntax() {
        let cls = &CLASSES;
        let checks = [
            (F_L, r"\p{L}"),
            (F_N, r"\p{N}"),
            (F_S, r"\s"),
            (F_UP, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"),
            (F_LO, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"),
        ];
        for (bit, pattern) in checks {
            let ranges = class_ranges(pattern);
            assert!(!ranges.is_empty());
            let inside = |cp: u32| {
                let i = ranges.partition_point(|&(first, _)| first <= cp);
                i > 0 && ranges[i - 1].1 >= cp
            };
            for cp in 0..0x11_0000u32 {
                let Some(c) = char::from_u32(cp) else {
                    continue;
                };
                let mut buf = [0u8; 4];
                let (bits, len) = cls.at(c.encode_utf8(&mut buf).as_bytes(), 0);
                assert_eq!(len, c.len_utf8());
                assert_eq!(bits & bit != 0, inside(cp), "{pattern} of U+{cp:04X}");
            }
        }
    }
}
