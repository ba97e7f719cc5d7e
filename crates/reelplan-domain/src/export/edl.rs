//! The EDL export: a CMX 3600 marker list in the shape DaVinci Resolve writes with
//! Timeline > Export > Timeline Markers to EDL, which it reads back with Timeline > Import >
//! Timeline Markers from EDL. Each marker is an event one frame long on reel `001`, track
//! `V`, a cut (`C`); its colour, name and length are on the comment line after it.

use super::{format_smpte, markers, ExportComment, ExportVersion, FrameRate, Marker};

/// The longest title CMX 3600 allows.
const TITLE_CHARS: usize = 70;

/// The TITLE and FCM lines, then one event per marker, each after a blank line.
pub(super) fn chunks<'a>(
    version: ExportVersion<'a>,
    comments: &'a [ExportComment<'a>],
    fps: FrameRate,
    start: u64,
) -> impl Iterator<Item = String> + Send + 'a {
    let title: String = one_line(&format!("{} v{}", version.project_name, version.number))
        .chars()
        .take(TITLE_CHARS)
        .collect();
    let fcm = if fps.is_drop_frame() { "DROP FRAME" } else { "NON-DROP FRAME" };
    let head = format!("TITLE: {title}\r\nFCM: {fcm}\r\n");
    let events = markers(comments, fps, start)
        .into_iter()
        .enumerate()
        .map(move |(index, marker)| event(index + 1, &marker, fps));
    std::iter::once(head).chain(events)
}

/// Event `number`: a blank line, the event line, the marker line.
fn event(number: usize, marker: &Marker, fps: FrameRate) -> String {
    let tc_in = format_smpte(marker.frame, fps);
    let tc_out = format_smpte(marker.frame.saturating_add(1), fps);
    let colour = if marker.comment.resolved { "ResolveColorGreen" } else { "ResolveColorBlue" };
    let mut name = one_line(marker.comment.text);
    for reply in &marker.replies {
        name.push_str(&format!(" — {}: {}", one_line(reply.author), one_line(reply.text)));
    }
    // The spacing is Resolve's own, column for column, trailing two spaces included.
    format!(
        "\r\n{number:03}  001      V     C        {tc_in} {tc_out} {tc_in} {tc_out}  \r\n \
         |C:{colour} |M:{name} |D:{length}\r\n",
        length = marker.length,
    )
}

/// `text` fit for one field of an EDL line: CR, LF, CRLF and tab become one space, other
/// control characters are dropped, and `|`, which starts the next field, becomes `/`.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' | '\t' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line.push(' ');
            }
            '|' => line.push('/'),
            c if c.is_control() => {}
            c => line.push(c),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn fields_are_one_line_without_separators() {
        assert_eq!(one_line("a\r\nb\nc\rd\te"), "a b c d e");
        assert_eq!(one_line("left | right"), "left / right");
        assert_eq!(one_line("bell\u{7}less"), "bellless");
        assert_eq!(one_line("çà et là"), "çà et là");
    }
}
