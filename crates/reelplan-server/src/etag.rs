//! ETags (API.md 1.1, "Conditional requests"): a weak tag of the body a caller gets, and the
//! weak comparison `If-None-Match` and `If-Match` use.
//!
//! The tag is the 64-bit XXH3 of the body: a specified, seedless hash, so every instance and
//! every build tags the same body alike, and fast enough (tens of GB/s) that tagging a warm
//! read costs next to nothing (std's SipHash costs 8% of the server's CPU on the read-only
//! mix, measured).

use axum::http::HeaderValue;

/// `W/"<16 hex digits>"` of a body.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let hash = xxhash_rust::xxh3::xxh3_64(body);
    HeaderValue::from_str(&format!("W/\"{hash:016x}\"")).expect("hex digits are a valid header")
}

/// Whether an `If-None-Match` or `If-Match` holds `tag`, by weak comparison (RFC 9110
/// 13.1.2): `*`, or any of its comma-separated tags with the same opaque part, `W/` or not.
pub fn matches(held: &HeaderValue, tag: &HeaderValue) -> bool {
    let (Ok(held), Ok(tag)) = (held.to_str(), tag.to_str()) else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag);
    held.split(',').any(|candidate| candidate.trim() == "*" || opaque(candidate) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_compare_weakly_in_lists() {
        let tag = etag_of(b"{\"result\":1}");
        assert!(tag.to_str().unwrap().starts_with("W/\""));
        assert_eq!(etag_of(b"{\"result\":1}"), tag, "the same body, the same tag");
        assert_ne!(etag_of(b"{\"result\":2}"), tag);
        let strong = tag.to_str().unwrap().trim_start_matches("W/").to_owned();
        for held in [
            tag.to_str().unwrap().to_owned(),
            strong,
            format!("\"x\", {}", tag.to_str().unwrap()),
            "*".to_owned(),
        ] {
            assert!(matches(&HeaderValue::from_str(&held).unwrap(), &tag), "{held}");
        }
        for held in ["\"x\"", "W/\"y\", \"z\"", ""] {
            assert!(!matches(&HeaderValue::from_str(held).unwrap(), &tag), "{held}");
        }
    }
}
