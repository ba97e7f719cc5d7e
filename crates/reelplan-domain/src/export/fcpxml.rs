//! The FCPXML export: Final Cut Pro XML 1.10 holding one sequence with one `gap` clip the
//! length of the version, and the comments as to-do markers on that gap.
//!
//! A gap rather than an asset clip, because an asset would need the media file's URL, which
//! an editor's machine does not share with the server. The gap starts at `?start=` both on
//! the sequence (`offset`) and in its own time (`start`), so a marker's `start` is simply
//! `?start=` plus its frame. Every time is a whole number of frames written in the rate's
//! time base (`3003/30000s`, `300/2400s`; zero is `0s`), as Final Cut writes them.

use super::{markers, ExportComment, ExportVersion, FrameRate, Marker};

/// The head (everything down to the gap's opening tag), one chunk per marker, the tail.
pub(super) fn chunks<'a>(
    version: ExportVersion<'a>,
    comments: &'a [ExportComment<'a>],
    fps: FrameRate,
    start: u64,
) -> impl Iterator<Item = String> + Send + 'a {
    let markers = markers(comments, fps, start);
    let length = clip_length(version.duration, &markers, fps, start);
    let (num, den) = fps.frame_duration();
    let project = attribute(version.project_name);
    let label = attribute(&format!("{} v{}", version.project_name, version.number));
    let (tc_start, duration) = (time(start, fps), time(length, fps));
    let tc_format = if fps.is_drop_frame() { "DF" } else { "NDF" };
    let format = format!(r#"id="r1" frameDuration="{num}/{den}s" width="1920" height="1080""#);
    let sequence =
        format!(r#"format="r1" duration="{duration}" tcStart="{tc_start}" tcFormat="{tc_format}""#);
    let gap =
        format!(r#"name="{label}" offset="{tc_start}" start="{tc_start}" duration="{duration}""#);
    let head = [
        line(0, r#"<?xml version="1.0" encoding="UTF-8"?>"#),
        line(0, "<!DOCTYPE fcpxml>"),
        line(0, r#"<fcpxml version="1.10">"#),
        line(1, "<resources>"),
        line(2, &format!("<format {format}/>")),
        line(1, "</resources>"),
        line(1, "<library>"),
        line(2, &format!(r#"<event name="{project}">"#)),
        line(3, &format!(r#"<project name="{label} comments">"#)),
        line(4, &format!("<sequence {sequence}>")),
        line(5, "<spine>"),
        line(6, &format!("<gap {gap}>")),
    ]
    .concat();
    let tail = [
        line(6, "</gap>"),
        line(5, "</spine>"),
        line(4, "</sequence>"),
        line(3, "</project>"),
        line(2, "</event>"),
        line(1, "</library>"),
        line(0, "</fcpxml>"),
    ]
    .concat();
    let markers = markers.into_iter().map(move |marker| marker_element(&marker, fps));
    std::iter::once(head).chain(markers).chain(std::iter::once(tail))
}

/// `text` indented by `depth` levels of four spaces, as Final Cut indents, with its LF.
fn line(depth: usize, text: &str) -> String {
    format!("{:indent$}{text}\n", "", indent = depth * 4)
}

/// The gap's length in frames: the version's duration (rounded up to whole frames), or,
/// without one, one second past the end of the last marker. Either way long enough to hold
/// every marker, since an importer drops a marker outside its clip; at least one frame.
fn clip_length(duration: Option<f64>, markers: &[Marker], fps: FrameRate, start: u64) -> u64 {
    let last_end =
        markers.iter().map(|m| (m.frame - start).saturating_add(m.length)).max().unwrap_or(0);
    let length = match duration {
        // The last frame of the video is the one showing just before its end.
        Some(seconds) => (seconds * fps.as_f64() - 1e-6).ceil() as u64,
        None => last_end.saturating_add(u64::from(fps.nominal())),
    };
    length.max(last_end).max(1)
}

/// One `<marker/>` line.
fn marker_element(marker: &Marker, fps: FrameRate) -> String {
    let start = time(marker.frame, fps);
    let duration = time(marker.length, fps);
    let value = attribute(marker.comment.text);
    let completed = u8::from(marker.comment.resolved);
    let note = if marker.replies.is_empty() {
        String::new()
    } else {
        let replies: Vec<String> = marker
            .replies
            .iter()
            .map(|reply| format!("{}: {}", reply.author, reply.text))
            .collect();
        format!(" note=\"{}\"", attribute(&replies.join("\n")))
    };
    line(
        7,
        &format!(
            r#"<marker start="{start}" duration="{duration}" value="{value}" completed="{completed}"{note}/>"#
        ),
    )
}

/// `frames` as FCPXML time: a multiple of the frame duration, `0s` for zero.
fn time(frames: u64, fps: FrameRate) -> String {
    let (num, den) = fps.frame_duration();
    match frames {
        0 => "0s".to_owned(),
        frames => format!("{}/{den}s", frames.saturating_mul(num)),
    }
}

/// `text` as a double-quoted XML 1.0 attribute value. The five special characters become
/// entities; tab, LF and CR become character references, since a parser would otherwise
/// turn them into spaces; characters XML 1.0 forbids (other C0 controls, U+FFFE, U+FFFF)
/// are dropped.
fn attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_escape_specials_and_drop_what_xml_forbids() {
        assert_eq!(
            attribute(r#"a & b < c > d "e" 'f'"#),
            "a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;"
        );
        assert_eq!(attribute("l1\nl2\r\tx"), "l1&#10;l2&#13;&#9;x");
        assert_eq!(attribute("nul\u{0}bell\u{7}\u{fffe}ok é"), "nulbellok é");
    }

    #[test]
    fn times_are_frames_in_the_time_base() {
        assert_eq!(time(0, FrameRate::Fps29_97), "0s");
        assert_eq!(time(3, FrameRate::Fps29_97), "3003/30000s");
        assert_eq!(time(3, FrameRate::Fps24), "300/2400s");
        assert_eq!(time(1, FrameRate::Fps59_94), "1001/60000s");
    }
}
