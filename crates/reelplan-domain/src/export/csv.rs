//! The CSV export: RFC 4180, one row per comment, replies included, in the order given.

use chrono::SecondsFormat;

use super::{format_smpte, frames_at, ExportComment, ExportVersion, FrameRate};

/// The header row, as the contract fixes it.
const HEADER: &str =
    "id,version,timecode,timecode_end,smpte,smpte_end,author,text,resolved,created\r\n";

/// The header, then one row per comment. `fps` is optional here: without it the `smpte`
/// columns stay empty.
pub(super) fn chunks<'a>(
    version: ExportVersion<'a>,
    comments: &'a [ExportComment<'a>],
    fps: Option<FrameRate>,
    start: u64,
) -> impl Iterator<Item = String> + Send + 'a {
    std::iter::once(HEADER.to_owned())
        .chain(comments.iter().map(move |comment| row(version.number, comment, fps, start)))
}

/// One comment's row, CRLF-terminated.
fn row(version: u32, comment: &ExportComment, fps: Option<FrameRate>, start: u64) -> String {
    // `f64`'s Display is the shortest text that reads back as the same number, never with
    // an exponent: `12.5`, `3`, `0.1`.
    let seconds = |t: Option<f64>| t.map(|t| t.to_string()).unwrap_or_default();
    let smpte = |t: Option<f64>| match (t, fps) {
        (Some(t), Some(fps)) => format_smpte(start.saturating_add(frames_at(t, fps)), fps),
        _ => String::new(),
    };
    let fields = [
        comment.id.to_string(),
        version.to_string(),
        seconds(comment.timecode),
        seconds(comment.timecode_end),
        smpte(comment.timecode),
        smpte(comment.timecode_end),
        quote(comment.author),
        quote(comment.text),
        comment.resolved.to_string(),
        // AutoSi with `Z`: the same text the JSON API writes for the time.
        comment.created.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    ];
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

/// `field` as RFC 4180 wants it: quoted, with quotes doubled, when it holds a comma, a
/// quote, CR or LF; as it is otherwise.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn only_fields_that_need_it_are_quoted() {
        assert_eq!(quote("plain text; fine"), "plain text; fine");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(quote("cr\ronly"), "\"cr\ronly\"");
    }
}
