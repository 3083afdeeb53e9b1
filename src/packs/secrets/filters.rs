//! Cheap tests that turn regex matches into findings or drop them:
//! Shannon entropy, offline checksums and placeholder / template detection.

/// Shannon entropy of the bytes, in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of a CRC32, left-padded with `0` to 6 characters.
pub fn base62_crc32(data: &[u8]) -> String {
    let mut n = crc32fast::hash(data) as u64;
    let mut out = Vec::with_capacity(6);
    while n > 0 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < 6 {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// GitHub (`ghp_` …) and npm (`npm_`) tokens: `prefix_` + 30 random
/// characters + base62 CRC32 of those 30 characters (6 characters).
/// Look-alikes (placeholders, hand-typed samples) fail this test.
pub fn crc32_token_valid(token: &[u8]) -> bool {
    let Some(us) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &token[us + 1..];
    if body.len() < 7 {
        return false;
    }
    let (random, check) = body.split_at(body.len() - 6);
    base62_crc32(random).as_bytes() == check
}

/// Substrings (of the lowercased value) that mark documentation samples,
/// templates and indirections rather than credentials.
const PLACEHOLDER_MARKS: &[&str] = &[
    "xxxx",
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "redacted",
    "dummy",
    "sample",
    "****",
    "....",
    // shiplint's own redaction (`Vb7n…`), pasted from a report into docs.
    "…",
    "${",
    "{{",
    "$(",
    "%(",
    "<",
    ">",
    "process.env",
    "os.environ",
    "getenv",
    "secrets.",
    "insert_",
    "replace_me",
    "not_a_real",
    "notreal",
    "password",
    "passwd",
];

/// Whole values that documentation uses as stand-ins.
const PLACEHOLDER_VALUES: &[&str] = &[
    "secret", "pass", "test", "admin", "root", "guest", "user", "pwd", "token", "none", "null",
];

/// True for values that are obviously not real credentials.
pub fn is_placeholder(lower: &str) -> bool {
    if PLACEHOLDER_MARKS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    if PLACEHOLDER_VALUES.contains(&lower) {
        return true;
    }
    // `%NUGET_PASSWORD%`, `$TOKEN`: environment references.
    let env_ref = lower.strip_prefix('$').is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    });
    if env_ref || (lower.len() > 2 && lower.starts_with('%') && lower.ends_with('%')) {
        return true;
    }
    // One repeated character, punctuation aside (`aaaaaaaa`, a zero UUID).
    let mut bytes = lower.bytes().filter(|b| b.is_ascii_alphanumeric());
    match bytes.next() {
        Some(first) => bytes.all(|b| b == first),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"ab") - 1.0).abs() < 1e-9);
        assert!(entropy(b"0123456789abcdef") > 3.9);
    }

    #[test]
    fn crc32_checksum_accepts_valid_and_rejects_lookalikes() {
        let random = "0123456789ABCDEFGHIJabcdefghij";
        let token = format!("ghp_{random}{}", base62_crc32(random.as_bytes()));
        assert_eq!(token.len(), 40);
        assert!(crc32_token_valid(token.as_bytes()));
        assert!(!crc32_token_valid(format!("ghp_{random}AAAAAA").as_bytes()));
        let mut flipped = token.clone().into_bytes();
        flipped[10] = b'z';
        assert!(!crc32_token_valid(&flipped));
        let npm = format!("npm_{random}{}", base62_crc32(random.as_bytes()));
        assert!(crc32_token_valid(npm.as_bytes()));
        assert!(!crc32_token_valid(b"npm_"));
    }

    #[test]
    fn placeholders() {
        for p in [
            "akiaiosfodnn7example",
            "your_api_key",
            "${token}",
            "{{ .values.x }}",
            "<redacted>",
            "vb7n…",
            "changeme",
            "$password",
            "%nuget%",
            "aaaaaaaaaaaa",
            "process.env.api_key",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("q7f3k9zpl2m8"));
    }
}
