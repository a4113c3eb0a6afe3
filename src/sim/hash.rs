//! The stable hash of a run's trace, and of reports in a sweep: the same on every run, thread
//! and platform, because reports and baselines print it.

use std::hash::Hasher;

/// A fast 64-bit hasher with a fixed definition (no random keys, integers fed little-endian),
/// so a trace hashes the same on every run, thread and platform. FxHash's word-at-a-time mixing,
/// finished with a murmur3 avalanche so every input bit reaches every output bit.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableHasher(u64);

impl StableHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stable_hash_is_pinned_and_sensitive_to_every_byte() {
        let hash = |bytes: &[u8]| {
            let mut h = StableHasher::default();
            h.write(bytes);
            h.finish()
        };
        // Pinned: the hash is part of every report, so its definition must not drift.
        assert_eq!(hash(b"ticket:updated"), 0x0bb3_8d7b_b3e2_4864);
        assert_ne!(hash(b"ticket:updated"), hash(b"ticket:updatee"));
        assert_ne!(hash(b"a"), hash(b"a\0"), "length is part of the tail");
    }
}
