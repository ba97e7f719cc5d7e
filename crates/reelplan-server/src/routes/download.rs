//! The HTTP side of a download: the `Range` header read into the range the service resolves,
//! and the `Content-Disposition` the file is sent with.

use crate::service::files::ByteRange;

/// Reads a `Range` header per RFC 9110. Only single `bytes` ranges are served; anything else
/// (other units, several ranges, bad syntax, a last byte before the first) is ignored, and
/// the whole file served, as the RFC allows.
pub(super) fn byte_range(header: Option<&str>) -> Option<ByteRange> {
    let spec = header?.trim().strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Numbers too large for u64 are simply very large: past any file's end.
    let number = |s: &str| s.parse::<u64>().unwrap_or(u64::MAX);
    if first.is_empty() {
        return digits(last).then(|| ByteRange::Suffix(number(last)));
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return None;
    }
    let (first, last) = (number(first), (!last.is_empty()).then(|| number(last)));
    match last {
        Some(last) if last < first => None,
        _ => Some(ByteRange::From { first, last }),
    }
}

/// `Content-Disposition` for a download: `inline` for media a browser shows safely (video,
/// audio, raster images), `attachment` otherwise; the name sanitised into an ASCII
/// `filename` (no quotes, backslashes, separators or controls) plus the exact name as
/// RFC 5987 `filename*`.
pub(super) fn content_disposition(name: &str, content_type: &str) -> String {
    let inline = ["video/", "audio/", "image/"].iter().any(|p| content_type.starts_with(p))
        && !content_type.starts_with("image/svg");
    let ascii: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' | '/' | ';' | '%' => '_',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => '_',
        })
        .collect();
    let ascii = ascii.trim_matches(|c| c == ' ' || c == '.');
    let ascii = if ascii.is_empty() { "download" } else { ascii };
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        use ByteRange::*;
        let p = |h: &str| byte_range(Some(h));
        assert_eq!(byte_range(None), None);
        assert_eq!(p("bytes=0-0"), Some(From { first: 0, last: Some(0) }));
        assert_eq!(p(" bytes=2-5"), Some(From { first: 2, last: Some(5) }));
        assert_eq!(p("bytes=2-"), Some(From { first: 2, last: None }));
        assert_eq!(p("bytes=-3"), Some(Suffix(3)));
        assert_eq!(p("bytes=-0"), Some(Suffix(0)));
        assert_eq!(p("bytes=99999999999999999999-"), Some(From { first: u64::MAX, last: None }));
        assert_eq!(p("bytes=5-2"), None, "invalid: ignored");
        assert_eq!(p("bytes=0-1,4-5"), None, "several ranges: ignored");
        assert_eq!(p("items=0-1"), None);
        assert_eq!(p("bytes=a-b"), None);
        assert_eq!(p("bytes=-"), None);
        assert_eq!(p("bytes=+1-2"), None);
    }

    #[test]
    fn dispositions_are_sanitised() {
        assert_eq!(
            content_disposition("cut 1.mp4", "video/mp4"),
            "inline; filename=\"cut 1.mp4\"; filename*=UTF-8''cut%201.mp4"
        );
        assert_eq!(
            content_disposition("../\"evil\";\\x.html", "text/html"),
            "attachment; filename=\"__evil___x.html\"; filename*=UTF-8''..%2F%22evil%22%3B%5Cx.html"
        );
        assert_eq!(
            content_disposition("日本.pdf", "application/pdf"),
            "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf"
        );
        assert!(content_disposition("x.svg", "image/svg+xml").starts_with("attachment"));
    }
}
