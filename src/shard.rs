//! `--shard i/n`: splits a scan across n CI jobs. Files are assigned by a
//! stable hash (FNV-1a, 64-bit) of their display path, so every job of a
//! matrix agrees on the split without talking to the others, on any machine
//! and any Rust version.
//!
//! Every shard still parses every manifest for the cross-object index (CRDs,
//! Services and their workloads, duplicates …); it only *reports* findings
//! whose path belongs to it, so the union of the n reports is the unsharded
//! report, with nothing lost or doubled.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub total: u32,
}

impl Shard {
    /// Whether this shard reports findings on `path` (a display path).
    pub fn contains(&self, path: &str) -> bool {
        self.total <= 1
            || fnv1a(path.as_bytes()) % u64::from(self.total) == u64::from(self.index - 1)
    }
}

/// FNV-1a, 64-bit: tiny, stable, and spreads paths evenly enough.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a shard: expected i/n with 1 ≤ i ≤ n (e.g. 2/4)");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let total: u32 = n.trim().parse().map_err(|_| bad())?;
        if total == 0 || index == 0 || index > total {
            return Err(bad());
        }
        Ok(Shard { index, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, total: 3 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard { index: 1, total: 1 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/2", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_is_stable() {
        // FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn every_path_in_exactly_one_shard() {
        for n in 1..=7u32 {
            for p in ["a.yaml", "deploy/web.yaml", "src/main.rs", "x/y/z.json"] {
                let hits = (1..=n)
                    .filter(|&i| Shard { index: i, total: n }.contains(p))
                    .count();
                assert_eq!(hits, 1, "{p} with n={n}");
            }
        }
    }
}
