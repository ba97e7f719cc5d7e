//! ETags (API.md 1.1, "Conditional requests"): a weak tag of the body a caller gets, and the
//! weak comparison `If-None-Match` and `If-Match` use.
//!
//! The tag is the 64-bit XXH3 of the body: a specified, seedless hash, so every instance and
//! every build tags the same body alike, and fast enough (tens of GB/s) that tagging a warm
//! read costs next to nothing (std's SipHash costs 8% of the server's CPU on the read-only
//! mix, measured).

use axum::http::HeaderValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// `W/"<16 hex digits>"` of a body.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let hash = xxhash_rust::xxh3::xxh3_64(body);
    HeaderValue::from_str(&format!("W/\"{hash:016x}\"")).expect("hex digits are a valid header")
}

/// `W/"<16 hex digits>.<page>"` of a page of a list: the body's tag, then which page it is
/// (its query string, base64url), so that a write holding the tag can read that page again and
/// see whether it changed. The first page (no query) has the plain tag.
pub fn page_etag(body: &[u8], query: &str) -> HeaderValue {
    let hash = xxhash_rust::xxh3::xxh3_64(body);
    let tag = match query {
        "" => format!("W/\"{hash:016x}\""),
        query => format!("W/\"{hash:016x}.{}\"", URL_SAFE_NO_PAD.encode(query)),
    };
    HeaderValue::from_str(&tag).expect("hex digits and base64url are a valid header")
}

/// The query of the page a [`page_etag`] names (`""` for the first page); None when `tag`
/// is not a tag of ours.
pub fn page_of_tag(tag: &str) -> Option<String> {
    let opaque = tag.trim().trim_start_matches("W/").strip_prefix('"')?.strip_suffix('"')?;
    let (hash, page) = opaque.split_once('.').unwrap_or((opaque, ""));
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    String::from_utf8(URL_SAFE_NO_PAD.decode(page).ok()?).ok()
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

    #[test]
    fn a_page_tag_names_its_page() {
        let body = b"{\"result\":[]}";
        let first = page_etag(body, "");
        assert_eq!(first, etag_of(body), "the first page's tag is the plain one");
        assert_eq!(page_of_tag(first.to_str().unwrap()).as_deref(), Some(""));
        let later = page_etag(body, "limit=5&cursor=abc");
        assert_ne!(later, first);
        assert_eq!(page_of_tag(later.to_str().unwrap()).as_deref(), Some("limit=5&cursor=abc"));
        for foreign in ["*", "\"x\"", "W/\"0123456789abcdef.!!\"", "W/\"short.bGltaXQ\""] {
            assert_eq!(page_of_tag(foreign), None, "{foreign}");
        }
    }
}
