//! An incremental reader of `text/event-stream` bodies, as an `EventSource` reads them: fed
//! the body's chunks as they arrive (split anywhere, even inside a line), it hands out each
//! complete message. Comment lines (the server's keep-alive) are not messages.

/// One message of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The `id:` field, if any.
    pub id: Option<String>,
    /// The `event:` field (`message` when the message has none).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// The reader's state between chunks: the incomplete last line and the fields of the message
/// being read.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Reads `chunk`, calling `each` for every message it completes.
    pub fn push(&mut self, chunk: &[u8], mut each: impl FnMut(Message)) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(end);
            rest = &tail[1..];
            if self.line.is_empty() {
                self.line_done(head, &mut each);
            } else {
                self.line.extend_from_slice(head);
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, &mut each);
            }
        }
        self.line.extend_from_slice(rest);
    }

    fn line_done(&mut self, line: &[u8], each: &mut impl FnMut(Message)) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            // A blank line ends a message; one without data is not dispatched (as a browser's
            // EventSource does not).
            let (id, event, data) = (self.id.take(), self.event.take(), self.data.take());
            if let Some(data) = data {
                each(Message { id, event: event.unwrap_or_else(|| "message".into()), data });
            }
            return;
        }
        if line.starts_with(b":") {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "id" => self.id = Some(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(chunks: &[&[u8]]) -> Vec<Message> {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, |m| out.push(m));
        }
        out
    }

    fn message(id: &str, event: &str, data: &str) -> Message {
        Message { id: Some(id.into()), event: event.into(), data: data.into() }
    }

    #[test]
    fn reads_the_servers_frames_and_skips_keep_alives() {
        let body = b": keep-alive\n\nid: 7\nevent: comment.created\ndata: {\"id\":7}\n\n\
                     id: 8\nevent: reset\ndata: {}\n\n";
        assert_eq!(
            read(&[body]),
            [message("7", "comment.created", "{\"id\":7}"), message("8", "reset", "{}")]
        );
    }

    #[test]
    fn a_message_split_anywhere_reads_the_same() {
        let body: &[u8] = b"id: 12\nevent: phase.updated\ndata: {\"object_id\":3}\n\n";
        let whole = read(&[body]);
        assert_eq!(whole, [message("12", "phase.updated", "{\"object_id\":3}")]);
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(read(&[a, b]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(read(&bytes), whole);
    }

    #[test]
    fn crlf_lines_multi_line_data_and_no_event_field() {
        let body = b"data: a\r\ndata: b\r\n\r\nevent: x\n\n";
        // The second block has no data: not a message.
        assert_eq!(
            read(&[body]),
            [Message { id: None, event: "message".into(), data: "a\nb".into() }]
        );
    }

    #[test]
    fn an_unfinished_message_waits_for_its_blank_line() {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        parser.push(b"id: 1\nevent: e\ndata: d\n", |m| out.push(m));
        assert!(out.is_empty());
        parser.push(b"\n", |m| out.push(m));
        assert_eq!(out, [message("1", "e", "d")]);
    }
}
