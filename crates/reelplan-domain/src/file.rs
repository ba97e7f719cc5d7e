//! What an uploaded file is called and what its bytes are: [`FileName`] and [`MediaType`].

use serde::Serialize;

use crate::validate::Problem;

/// Longest file name, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest content type, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// A file name as given, trimmed: 1-255 characters, no control characters. Only ever shown
/// and sent back in `Content-Disposition`, never used as a storage key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct FileName(String);

impl FileName {
    /// Trimmed: 1-255 characters, no control characters.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let name = raw.trim();
        if name.is_empty() {
            Err("is required (?name=)")
        } else if name.chars().count() > MAX_NAME_CHARS {
            Err("must be at most 255 characters")
        } else if name.chars().any(char::is_control) {
            Err("must not contain control characters")
        } else {
            Ok(FileName(name.to_owned()))
        }
    }

    /// The name of a video uploaded without one.
    pub fn video() -> Self {
        FileName("video".to_owned())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A content type `type/subtype[; parameters]`, type and subtype lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MediaType(String);

impl MediaType {
    /// `type/subtype[; parameters]`, at most 255 ASCII bytes without control characters.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        const BAD: Problem = "must be a type/subtype media type";
        let value = raw.trim();
        if value.len() > MAX_CONTENT_TYPE_BYTES || value.chars().any(|c| c.is_control()) {
            return Err(BAD);
        }
        let (essence, parameters) = match value.split_once(';') {
            Some((essence, parameters)) => (essence.trim(), Some(parameters.trim())),
            None => (value, None),
        };
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        let Some((kind, subtype)) = essence.split_once('/') else { return Err(BAD) };
        if !token(kind) || !token(subtype) || !value.is_ascii() {
            return Err(BAD);
        }
        let essence = format!("{}/{}", kind.to_ascii_lowercase(), subtype.to_ascii_lowercase());
        Ok(MediaType(match parameters {
            Some(parameters) if !parameters.is_empty() => format!("{essence}; {parameters}"),
            _ => essence,
        }))
    }

    /// `application/octet-stream`: the content type of a file uploaded without one.
    pub fn octet_stream() -> Self {
        MediaType("application/octet-stream".to_owned())
    }

    /// Whether it is a `video/*` type.
    pub fn is_video(&self) -> bool {
        self.0.starts_with("video/")
    }

    /// The content type.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(FileName::parse("  cut.mp4 ").unwrap().as_str(), "cut.mp4");
        assert!(FileName::parse("   ").is_err());
        assert!(FileName::parse("a\nb").is_err());
        assert!(FileName::parse(&"x".repeat(256)).is_err());
        assert_eq!(MediaType::parse("Video/MP4").unwrap().as_str(), "video/mp4");
        assert_eq!(
            MediaType::parse("text/plain;charset=utf-8").unwrap().as_str(),
            "text/plain; charset=utf-8"
        );
        assert!(MediaType::parse("video").is_err());
        assert!(MediaType::parse("video/").is_err());
        assert!(MediaType::parse("a b/c").is_err());
    }
}
