//! The comment exports against known-good files and independent readers: Python's `csv`
//! module for the CSV, a CMX 3600 shape check for the EDL, roxmltree for the FCPXML.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use reelplan_domain::export::{
    export, file_name, format_smpte, frames_at, parse_smpte, ExportComment, ExportError,
    ExportFormat, ExportOptions, ExportVersion, FrameRate,
};

/// The version of the fixtures: 29.97 (drop-frame), 10 min 5.25 s long.
fn version() -> ExportVersion<'static> {
    ExportVersion {
        project_name: "Spring Campaign — Teaser",
        number: 3,
        fps: Some(FrameRate::Fps29_97),
        duration: Some(605.25),
    }
}

/// A comment created `minutes` after 2026-03-02 10:00 UTC.
fn comment(
    id: i64,
    parent_id: Option<i64>,
    author: &'static str,
    text: &'static str,
) -> ExportComment<'static> {
    ExportComment {
        id,
        parent_id,
        author,
        text,
        timecode: None,
        timecode_end: None,
        resolved: false,
        created: Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap() + Duration::minutes(id - 100),
    }
}

/// The fixtures' comments, oldest first, with every case the formats must survive: commas,
/// quotes, CR/LF, `|`, XML specials, a control character, non-ASCII; a reply before its
/// parent, a reply to a reply, a reply whose parent is not here, a comment without a
/// timecode, a range, a resolved comment, and a comment given after later ones in the video.
fn comments() -> Vec<ExportComment<'static>> {
    vec![
        ExportComment {
            timecode: Some(12.5),
            ..comment(101, None, "Alice", "Fix the colour here")
        },
        comment(102, Some(101), "Bob", "Agreed, warmer please"),
        ExportComment {
            timecode: Some(61.0),
            timecode_end: Some(63.5),
            resolved: true,
            ..comment(103, None, "Chloé", "Logo \"pops\" too early,\nmove it 2 frames later")
        },
        comment(104, None, "Alice", "General: the music is great"),
        comment(107, Some(106), "Eve", "I'll re-sync\u{7} it"),
        ExportComment {
            timecode: Some(600.0),
            created: Utc.with_ymd_and_hms(2026, 3, 2, 10, 6, 0).unwrap()
                + Duration::microseconds(123_456),
            ..comment(106, None, "Dan", "Sound & picture <out of sync> | check 'ADR'")
        },
        comment(108, Some(999), "Bob", "Answer to a deleted comment"),
        comment(109, Some(103), "Bob", "Done ✔ — moved\r\nto 01:00:01;03"),
        comment(110, Some(109), "Chloé", "Merci, 完璧"),
        ExportComment {
            timecode: Some(0.0),
            ..comment(111, None, "Alice", "Slate visible | cut it")
        },
    ]
}

/// The fixtures' start: 01:00:00;00, as Resolve's timelines start.
fn options() -> ExportOptions {
    let start_frames = parse_smpte("01:00:00;00", FrameRate::Fps29_97).unwrap();
    ExportOptions { fps: None, start_frames }
}

fn render(
    version: ExportVersion,
    comments: &[ExportComment],
    format: ExportFormat,
    options: ExportOptions,
) -> String {
    export(version, comments, format, options).unwrap().collect()
}

// ---------------------------------------------------------------------------------------
// Frame rates and SMPTE timecode
// ---------------------------------------------------------------------------------------

#[test]
fn frame_rates_parse_the_listed_decimals_and_their_exact_rationals() {
    let listed = [
        (23.976, FrameRate::Fps23_976, 24_000.0 / 1001.0),
        (24.0, FrameRate::Fps24, 24.0),
        (25.0, FrameRate::Fps25, 25.0),
        (29.97, FrameRate::Fps29_97, 30_000.0 / 1001.0),
        (30.0, FrameRate::Fps30, 30.0),
        (48.0, FrameRate::Fps48, 48.0),
        (50.0, FrameRate::Fps50, 50.0),
        (59.94, FrameRate::Fps59_94, 60_000.0 / 1001.0),
        (60.0, FrameRate::Fps60, 60.0),
    ];
    for (decimal, rate, exact) in listed {
        assert_eq!(FrameRate::parse(decimal), Ok(rate), "{decimal}");
        assert_eq!(FrameRate::parse(exact), Ok(rate), "{exact}");
        assert_eq!(FrameRate::parse(decimal + 0.0009), Ok(rate), "{decimal} + float error");
        assert_eq!(rate.as_f64(), exact);
        assert_eq!(rate.to_string().parse::<f64>(), Ok(decimal));
    }
    for wrong in [0.0, -25.0, 23.98, 29.0, 29.96, 31.0, 120.0, f64::NAN, f64::INFINITY] {
        assert!(FrameRate::parse(wrong).is_err(), "{wrong}");
    }
}

#[test]
fn frame_rates_know_their_labels() {
    let table = [
        (FrameRate::Fps23_976, 24, false, (24_000, 1001)),
        (FrameRate::Fps24, 24, false, (24, 1)),
        (FrameRate::Fps25, 25, false, (25, 1)),
        (FrameRate::Fps29_97, 30, true, (30_000, 1001)),
        (FrameRate::Fps30, 30, false, (30, 1)),
        (FrameRate::Fps48, 48, false, (48, 1)),
        (FrameRate::Fps50, 50, false, (50, 1)),
        (FrameRate::Fps59_94, 60, true, (60_000, 1001)),
        (FrameRate::Fps60, 60, false, (60, 1)),
    ];
    assert_eq!(FrameRate::ALL.len(), table.len());
    for (rate, nominal, drop_frame, rational) in table {
        assert_eq!(rate.nominal(), nominal, "{rate}");
        assert_eq!(rate.is_drop_frame(), drop_frame, "{rate}");
        assert_eq!(rate.rational(), rational, "{rate}");
    }
}

#[test]
fn smpte_labels_at_every_rate() {
    use FrameRate::*;
    let table = [
        // 23.976 counts 24 labels a second and drops none.
        (Fps23_976, 0, "00:00:00:00"),
        (Fps23_976, 23, "00:00:00:23"),
        (Fps23_976, 24, "00:00:01:00"),
        (Fps23_976, 1440, "00:01:00:00"),
        (Fps23_976, 86_400, "01:00:00:00"),
        (Fps24, 86_399, "00:59:59:23"),
        (Fps24, 86_400, "01:00:00:00"),
        (Fps25, 1501, "00:01:00:01"),
        (Fps25, 90_000, "01:00:00:00"),
        (Fps30, 1800, "00:01:00:00"),
        (Fps30, 17_982, "00:09:59:12"),
        (Fps48, 2933, "00:01:01:05"),
        (Fps50, 180_000, "01:00:00:00"),
        (Fps60, 3600, "00:01:00:00"),
        (Fps60, 215_999, "00:59:59:59"),
        // 29.97 drop-frame: ;00 and ;01 are skipped at every minute but each tenth.
        (Fps29_97, 0, "00:00:00;00"),
        (Fps29_97, 1799, "00:00:59;29"),
        (Fps29_97, 1800, "00:01:00;02"),
        (Fps29_97, 3597, "00:01:59;29"),
        (Fps29_97, 3598, "00:02:00;02"),
        (Fps29_97, 17_981, "00:09:59;29"),
        (Fps29_97, 17_982, "00:10:00;00"),
        (Fps29_97, 17_983, "00:10:00;01"),
        (Fps29_97, 19_781, "00:10:59;29"),
        (Fps29_97, 19_782, "00:11:00;02"),
        (Fps29_97, 107_892, "01:00:00;00"),
        // 59.94 drop-frame: ;00 to ;03 are skipped likewise.
        (Fps59_94, 3599, "00:00:59;59"),
        (Fps59_94, 3600, "00:01:00;04"),
        (Fps59_94, 35_963, "00:09:59;59"),
        (Fps59_94, 35_964, "00:10:00;00"),
        (Fps59_94, 39_564, "00:11:00;04"),
        (Fps59_94, 215_784, "01:00:00;00"),
    ];
    for (rate, frames, label) in table {
        assert_eq!(format_smpte(frames, rate), label, "frame {frames} at {rate}");
        assert_eq!(parse_smpte(label, rate), Ok(frames), "{label} at {rate}");
    }
}

#[test]
fn smpte_wraps_after_a_day() {
    assert_eq!(format_smpte(24 * 3600 * 25, FrameRate::Fps25), "00:00:00:00");
    assert_eq!(format_smpte(24 * 3600 * 25 - 1, FrameRate::Fps25), "23:59:59:24");
    assert_eq!(format_smpte(2_589_407, FrameRate::Fps29_97), "23:59:59;29");
    assert_eq!(format_smpte(2_589_408, FrameRate::Fps29_97), "00:00:00;00");
}

#[test]
fn drop_frame_labels_only_go_up() {
    for rate in [FrameRate::Fps29_97, FrameRate::Fps59_94] {
        let twenty_minutes = 20 * 60 * u64::from(rate.nominal());
        let labels: Vec<String> = (0..twenty_minutes).map(|f| format_smpte(f, rate)).collect();
        assert!(labels.windows(2).all(|pair| pair[0] < pair[1]), "{rate}");
    }
}

#[test]
fn smpte_parsing_refuses_what_is_not_a_label() {
    use FrameRate::*;
    let refused = [
        (Fps29_97, "00:01:00;00"),
        (Fps29_97, "00:01:00;01"),
        (Fps29_97, "00:01:00:01"),
        (Fps29_97, "01:59:00;00"),
        (Fps59_94, "00:01:00;03"),
        (Fps30, "00:00:00:30"),
        (Fps23_976, "00:00:00:24"),
        (Fps25, "00:00:00:25"),
        (Fps60, "00:00:00:60"),
        (Fps25, "00:60:00:00"),
        (Fps25, "00:00:60:00"),
        (Fps25, "24:00:00:00"),
        (Fps25, "1:00:00:00"),
        (Fps25, "01:00:00:00 "),
        (Fps25, "01:00:00.00"),
        (Fps25, "01;00;00;00"),
        (Fps25, "0a:00:00:00"),
        (Fps25, ""),
        (Fps25, "+1:00:00:00"),
    ];
    for (rate, label) in refused {
        assert!(parse_smpte(label, rate).is_err(), "{label:?} at {rate}");
    }
    // The last separator does not decide drop-frame; the rate does.
    assert_eq!(parse_smpte("00:01:00:02", Fps29_97), Ok(1800));
    assert_eq!(parse_smpte("00:00:01;00", Fps25), Ok(25));
    assert_eq!(parse_smpte("00:10:00;00", Fps29_97), Ok(17_982));
    assert_eq!(parse_smpte("00:01:00;04", Fps59_94), Ok(3600));
    assert_eq!(parse_smpte("00:00:00:29", Fps30), Ok(29));
}

#[test]
fn seconds_land_on_the_frame_showing() {
    use FrameRate::*;
    assert_eq!(frames_at(0.0, Fps29_97), 0);
    assert_eq!(frames_at(12.5, Fps24), 300);
    assert_eq!(frames_at(12.5, Fps29_97), 374); // 374.6…: floor, not round
    assert_eq!(frames_at(1.001, Fps29_97), 30); // exactly frame 30, despite float error
    assert_eq!(frames_at(1.0, Fps23_976), 23); // 23.976…
    assert_eq!(frames_at(10.0, Fps23_976), 239);
    assert_eq!(frames_at(600.0, Fps29_97), 17_982);
    assert_eq!(frames_at(0.039_999, Fps25), 0);
    assert_eq!(frames_at(0.04, Fps25), 1);
    assert_eq!(frames_at(-1.0, Fps25), 0);
    assert_eq!(frames_at(f64::NAN, Fps25), 0);
}

#[test]
fn start_offsets_are_added_in_frames() {
    let version = ExportVersion { fps: Some(FrameRate::Fps25), ..version() };
    let at = |seconds| ExportComment { timecode: Some(seconds), ..comment(1, None, "A", "x") };
    let comments = [at(2.0), at(59.96)];
    let start_frames = parse_smpte("01:00:00:00", FrameRate::Fps25).unwrap();
    assert_eq!(start_frames, 90_000);
    let options = ExportOptions { fps: None, start_frames };
    let csv = render(version, &comments, ExportFormat::Csv, options);
    assert!(csv.contains(",01:00:02:00,"), "{csv}");
    assert!(csv.contains(",01:00:59:24,"), "{csv}");
    let edl = render(version, &comments, ExportFormat::Edl, options);
    assert!(edl.contains("01:00:02:00 01:00:02:01 01:00:02:00 01:00:02:01"), "{edl}");
    // At 29.97 the offset is a drop-frame label and is added as frames, not as a label.
    let start_frames = parse_smpte("00:00:59;29", FrameRate::Fps29_97).unwrap();
    let options = ExportOptions { fps: Some(FrameRate::Fps29_97), start_frames };
    let csv = render(version, &[at(0.0), at(1.0 / 29.97)], ExportFormat::Csv, options);
    assert!(csv.contains(",00:00:59;29,"), "{csv}");
    assert!(csv.contains(",00:01:00;02,"), "{csv}");
}

/// A rate of the table, by index.
fn any_rate() -> impl Strategy<Value = FrameRate> {
    (0..FrameRate::ALL.len()).prop_map(|i| FrameRate::ALL[i])
}

proptest! {
    #[test]
    fn parse_undoes_format(rate in any_rate(), frames in 0u64..2_000_000) {
        // 2,000,000 frames is under 24 hours at every rate (24 fps: 2,073,600).
        prop_assert_eq!(parse_smpte(&format_smpte(frames, rate), rate), Ok(frames));
    }

    #[test]
    fn format_undoes_parse(
        rate in any_rate(), hh in 0u64..24, mm in 0u64..60, ss in 0u64..60, ff in 0u64..60,
    ) {
        let ff = ff % u64::from(rate.nominal());
        let separator = if rate.is_drop_frame() { ';' } else { ':' };
        let label = format!("{hh:02}:{mm:02}:{ss:02}{separator}{ff:02}");
        let dropped = match rate {
            FrameRate::Fps29_97 => 2,
            FrameRate::Fps59_94 => 4,
            _ => 0,
        };
        let skipped = ss == 0 && ff < dropped && mm % 10 != 0;
        let parsed = parse_smpte(&label, rate);
        prop_assert_eq!(parsed.is_err(), skipped, "{} at {}", label, rate);
        if let Ok(frames) = parsed {
            prop_assert_eq!(format_smpte(frames, rate), label);
        }
    }

    #[test]
    fn frame_starts_are_their_own_frame(rate in any_rate(), frames in 0u64..10_000_000) {
        let (num, den) = rate.rational();
        let seconds = frames as f64 * den as f64 / num as f64;
        prop_assert_eq!(frames_at(seconds, rate), frames);
    }
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

#[test]
fn csv_matches_the_known_good_file() {
    let csv = render(version(), &comments(), ExportFormat::Csv, options());
    assert_eq!(csv, include_str!("export/comments.csv"));
}

/// The derived columns of each fixture comment, by id: timecode, timecode_end, smpte,
/// smpte_end, resolved, created.
fn expected_csv_columns(id: i64) -> [&'static str; 6] {
    match id {
        101 => ["12.5", "", "01:00:12;14", "", "false", "2026-03-02T10:01:00Z"],
        103 => ["61", "63.5", "01:01:01;00", "01:01:03;15", "true", "2026-03-02T10:03:00Z"],
        106 => ["600", "", "01:10:00;00", "", "false", "2026-03-02T10:06:00.123456Z"],
        111 => ["0", "", "01:00:00;00", "", "false", "2026-03-02T10:11:00Z"],
        102 => ["", "", "", "", "false", "2026-03-02T10:02:00Z"],
        104 => ["", "", "", "", "false", "2026-03-02T10:04:00Z"],
        107 => ["", "", "", "", "false", "2026-03-02T10:07:00Z"],
        108 => ["", "", "", "", "false", "2026-03-02T10:08:00Z"],
        109 => ["", "", "", "", "false", "2026-03-02T10:09:00Z"],
        110 => ["", "", "", "", "false", "2026-03-02T10:10:00Z"],
        other => panic!("no fixture comment {other}"),
    }
}

/// Reads CSV from stdin with Python's `csv` module and prints its rows as JSON, each field
/// as the hex of its UTF-8 so that the JSON needs no escapes to be read back here.
const PYTHON_READ_CSV: &str = "import csv, io, json, sys
rows = csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline=''), strict=True)
print(json.dumps([[field.encode('utf-8').hex() for field in row] for row in rows], separators=(',', ':')))";

#[test]
fn python_reads_the_csv_back_to_the_same_fields() {
    let comments = comments();
    let csv = render(version(), &comments, ExportFormat::Csv, options());
    let Some(rows) = python_csv_rows(&csv) else { return };
    let mut expected =
        vec!["id,version,timecode,timecode_end,smpte,smpte_end,author,text,resolved,created"
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>()];
    for c in &comments {
        let [tc, tc_end, smpte, smpte_end, resolved, created] = expected_csv_columns(c.id);
        let row = [
            &c.id.to_string(),
            "3",
            tc,
            tc_end,
            smpte,
            smpte_end,
            c.author,
            c.text,
            resolved,
            created,
        ];
        expected.push(row.iter().map(|field| field.to_string()).collect());
    }
    assert_eq!(rows, expected);
}

/// The rows Python's `csv` module reads from `csv`, or None (and a note) without python3.
fn python_csv_rows(csv: &str) -> Option<Vec<Vec<String>>> {
    let spawned = Command::new("python3")
        .args(["-c", PYTHON_READ_CSV])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: python3 is not installed, so the CSV was not read back");
            return None;
        }
        Err(error) => panic!("could not start python3: {error}"),
    };
    child.stdin.take().unwrap().write_all(csv.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "python3 failed: {}", String::from_utf8_lossy(&output.stderr));
    // `[["6964","..."],["..."]]`: hex digits only, so splitting on the punctuation is exact.
    let inner = stdout.trim().strip_prefix("[[\"").and_then(|s| s.strip_suffix("\"]]"));
    let inner = inner.unwrap_or_else(|| panic!("unexpected output from python3: {stdout}"));
    let field = |hex: &str| {
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        String::from_utf8(bytes).unwrap()
    };
    Some(inner.split("\"],[\"").map(|row| row.split("\",\"").map(field).collect()).collect())
}

#[test]
fn csv_works_without_a_frame_rate_and_leaves_smpte_empty() {
    let version = ExportVersion { fps: None, ..version() };
    let comments = comments();
    let csv = render(version, &comments, ExportFormat::Csv, ExportOptions::default());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[1], "101,3,12.5,,,,Alice,Fix the colour here,false,2026-03-02T10:01:00Z");
    assert!(lines[3].starts_with("103,3,61,63.5,,,Chloé,"), "{}", lines[3]);
    assert!(lines[6].starts_with("106,3,600,,,,Dan,"), "{}", lines[6]);
    assert_eq!(lines[11], "111,3,0,,,,Alice,Slate visible | cut it,false,2026-03-02T10:11:00Z");
}

#[test]
fn csv_streams_one_chunk_per_comment() {
    let comments = comments();
    let chunks: Vec<String> =
        export(version(), &comments, ExportFormat::Csv, options()).unwrap().collect();
    assert_eq!(chunks.len(), 1 + comments.len());
    assert!(chunks.iter().all(|chunk| chunk.ends_with("\r\n")));
    assert!(chunks[1].starts_with("101,"));
}

// ---------------------------------------------------------------------------------------
// EDL
// ---------------------------------------------------------------------------------------

#[test]
fn edl_matches_the_known_good_file() {
    let edl = render(version(), &comments(), ExportFormat::Edl, options());
    assert_eq!(edl, include_str!("export/comments.edl"));
}

/// One event of a marker EDL, as read back.
#[derive(Debug)]
struct Event {
    number: u32,
    record_in: String,
    colour: String,
    name: String,
    duration: u64,
}

/// Reads a marker EDL the way a CMX 3600 reader would, asserting its shape: TITLE, FCM,
/// then per event a blank line, the event line (number, reel, track `V`, cut `C`, source
/// in/out and record in/out, out one frame after in) and the `|C: |M: |D:` line.
fn read_edl(edl: &str, rate: FrameRate) -> (String, String, Vec<Event>) {
    assert!(!edl.replace("\r\n", "").contains(['\r', '\n']), "every line ends CRLF: {edl:?}");
    let body = edl.strip_suffix("\r\n").expect("the last line ends CRLF");
    let lines: Vec<&str> = body.split("\r\n").collect();
    let title = lines[0].strip_prefix("TITLE: ").expect("a TITLE line").to_owned();
    let fcm = lines[1].strip_prefix("FCM: ").expect("an FCM line").to_owned();
    assert_eq!((lines.len() - 2) % 3, 0, "events of three lines: {lines:#?}");
    let events = lines[2..]
        .chunks(3)
        .map(|event| {
            assert_eq!(event[0], "", "a blank line before each event");
            let (number, timecodes) = read_event_line(event[1]);
            let [source_in, source_out, record_in, record_out] =
                timecodes.map(|tc| parse_smpte(&tc, rate).unwrap_or_else(|e| panic!("{tc}: {e}")));
            assert_eq!((source_in, source_out), (record_in, record_out), "{}", event[1]);
            assert_eq!(record_out, record_in + 1, "one frame long: {}", event[1]);
            let rest = event[2].strip_prefix(" |C:").expect("a |C: line");
            let (colour, rest) = rest.split_once(" |M:").expect("a |M: field");
            let (name, duration) = rest.rsplit_once(" |D:").expect("a |D: field");
            Event {
                number,
                record_in: format_smpte(record_in, rate),
                colour: colour.to_owned(),
                name: name.to_owned(),
                duration: duration.parse().expect("|D: is a frame count"),
            }
        })
        .collect();
    (title, fcm, events)
}

/// The event number and four timecodes of a CMX 3600 event line, asserting Resolve's layout:
/// `NNN  001      V     C        IN OUT IN OUT  ` (the shape of
/// `^\d{3,}  001      V     C        (\d\d:\d\d:\d\d[:;]\d\d ){4} $`).
fn read_event_line(line: &str) -> (u32, [String; 4]) {
    let tokens: Vec<&str> = line.split(' ').filter(|token| !token.is_empty()).collect();
    assert_eq!(tokens.len(), 8, "{line:?}");
    let number = tokens[0];
    assert!(number.len() >= 3 && number.bytes().all(|b| b.is_ascii_digit()), "{line:?}");
    assert_eq!(&tokens[1..4], ["001", "V", "C"], "{line:?}");
    let timecodes: [String; 4] = std::array::from_fn(|i| tokens[4 + i].to_owned());
    for tc in &timecodes {
        let b = tc.as_bytes();
        let digits =
            [0, 1, 3, 4, 6, 7, 9, 10].iter().all(|&i| b.get(i).is_some_and(u8::is_ascii_digit));
        assert!(
            b.len() == 11
                && digits
                && b[2] == b':'
                && b[5] == b':'
                && (b[8] == b':' || b[8] == b';'),
            "{tc:?}"
        );
    }
    let [a, b, c, d] = &timecodes;
    assert_eq!(line, format!("{number}  001      V     C        {a} {b} {c} {d}  "));
    (number.parse().unwrap(), timecodes)
}

#[test]
fn edl_reads_back_as_a_drop_frame_marker_list() {
    let edl = render(version(), &comments(), ExportFormat::Edl, options());
    let (title, fcm, events) = read_edl(&edl, FrameRate::Fps29_97);
    assert_eq!(title, "Spring Campaign — Teaser v3");
    assert_eq!(fcm, "DROP FRAME");
    // One event per top-level comment with a timecode (104 has none), in timeline order.
    let summary: Vec<(u32, &str, &str, u64)> = events
        .iter()
        .map(|e| (e.number, e.record_in.as_str(), e.colour.as_str(), e.duration))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "01:00:00;00", "ResolveColorBlue", 1),
            (2, "01:00:12;14", "ResolveColorBlue", 1),
            (3, "01:01:01;00", "ResolveColorGreen", 75),
            (4, "01:10:00;00", "ResolveColorBlue", 1),
        ]
    );
    // Drop-frame labels are written with ';' before the frames.
    let event_lines = edl.lines().filter(|line| line.starts_with(|c: char| c.is_ascii_digit()));
    assert!(
        event_lines.clone().count() == 4
            && event_lines.clone().all(|l| l.matches(';').count() == 4)
    );
    // Replies follow their top-level comment in its name, however deep and wherever given.
    assert_eq!(events[0].name, "Slate visible / cut it");
    assert_eq!(events[1].name, "Fix the colour here — Bob: Agreed, warmer please");
    assert_eq!(
        events[2].name,
        "Logo \"pops\" too early, move it 2 frames later — Bob: Done ✔ — moved to 01:00:01;03 \
         — Chloé: Merci, 完璧"
    );
    assert_eq!(
        events[3].name,
        "Sound & picture <out of sync> / check 'ADR' — Eve: I'll re-sync it"
    );
    assert!(!edl.contains("deleted comment"), "a reply without its parent is left out");
    assert!(!edl.contains("music"), "a comment without a timecode is left out");
}

#[test]
fn edl_at_a_non_drop_rate() {
    let comments = comments();
    let options = ExportOptions { fps: Some(FrameRate::Fps24), start_frames: 0 };
    let edl = render(version(), &comments, ExportFormat::Edl, options);
    let (_, fcm, events) = read_edl(&edl, FrameRate::Fps24);
    assert_eq!(fcm, "NON-DROP FRAME");
    let event_lines = edl.lines().filter(|line| line.starts_with(|c: char| c.is_ascii_digit()));
    assert!(event_lines.clone().count() == 4 && event_lines.clone().all(|l| !l.contains(';')));
    let at: Vec<&str> = events.iter().map(|e| e.record_in.as_str()).collect();
    assert_eq!(at, ["00:00:00:00", "00:00:12:12", "00:01:01:00", "00:10:00:00"]);
    assert_eq!(events[2].duration, 60); // 2.5 s at 24
}

#[test]
fn edl_and_fcpxml_need_a_frame_rate() {
    let version = ExportVersion { fps: None, ..version() };
    let comments = comments();
    for format in [ExportFormat::Edl, ExportFormat::Fcpxml] {
        let result = export(version, &comments, format, ExportOptions::default());
        assert_eq!(result.err(), Some(ExportError::FpsRequired), "{format:?}");
        // ?fps= alone is enough.
        let options = ExportOptions { fps: Some(FrameRate::Fps25), start_frames: 0 };
        assert!(export(version, &comments, format, options).is_ok(), "{format:?}");
    }
}

#[test]
fn the_requested_rate_overrides_the_versions() {
    let version = ExportVersion { fps: Some(FrameRate::Fps25), ..version() };
    let comments = comments();
    let own = render(version, &comments, ExportFormat::Edl, ExportOptions::default());
    assert!(own.contains("FCM: NON-DROP FRAME") && own.contains("00:00:12:12"), "{own}");
    let options = ExportOptions { fps: Some(FrameRate::Fps29_97), start_frames: 0 };
    let asked = render(version, &comments, ExportFormat::Edl, options);
    assert!(asked.contains("FCM: DROP FRAME") && asked.contains("00:00:12;14"), "{asked}");
}

// ---------------------------------------------------------------------------------------
// FCPXML
// ---------------------------------------------------------------------------------------

#[test]
fn fcpxml_matches_the_known_good_file() {
    let xml = render(version(), &comments(), ExportFormat::Fcpxml, options());
    assert_eq!(xml, include_str!("export/comments.fcpxml"));
}

/// Parses `xml` as FCPXML declares it: with a document type declaration.
fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    roxmltree::Document::parse_with_options(xml, options).expect("well-formed XML")
}

/// The only element named `name`.
fn only<'a, 'x>(doc: &'a roxmltree::Document<'x>, name: &str) -> roxmltree::Node<'a, 'x> {
    let mut found = doc.descendants().filter(|n| n.has_tag_name(name));
    let node = found.next().unwrap_or_else(|| panic!("no <{name}>"));
    assert!(found.next().is_none(), "one <{name}>");
    node
}

/// `"n/ds"` or `"0s"` as (n, d).
fn rational(time: &str) -> (u64, u64) {
    let time = time.strip_suffix('s').expect("a time ends in s");
    match time.split_once('/') {
        Some((n, d)) => (n.parse().unwrap(), d.parse().unwrap()),
        None => (time.parse().unwrap(), 1),
    }
}

#[test]
fn fcpxml_parses_with_one_marker_per_timed_top_level_comment() {
    let comments = comments();
    let xml = render(version(), &comments, ExportFormat::Fcpxml, options());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n"));
    let doc = parse_xml(&xml);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "fcpxml");
    assert_eq!(root.attribute("version"), Some("1.10"));
    assert_eq!(only(&doc, "format").attribute("frameDuration"), Some("1001/30000s"));
    let sequence = only(&doc, "sequence");
    assert_eq!(sequence.attribute("format"), Some("r1"));
    assert_eq!(sequence.attribute("tcFormat"), Some("DF"));
    // 01:00:00;00 is 107,892 frames of 1001/30000 s.
    assert_eq!(sequence.attribute("tcStart"), Some("107999892/30000s"));
    // 605.25 s is 18,139.4 frames: the clip holds the last, partly shown, one too.
    assert_eq!(sequence.attribute("duration"), Some("18158140/30000s"));
    let gap = only(&doc, "gap");
    assert_eq!(gap.attribute("offset"), sequence.attribute("tcStart"));
    assert_eq!(gap.attribute("start"), sequence.attribute("tcStart"));
    assert_eq!(gap.attribute("duration"), sequence.attribute("duration"));

    let markers: Vec<roxmltree::Node> =
        doc.descendants().filter(|n| n.has_tag_name("marker")).collect();
    let timed_top_level = comments.iter().filter(|c| c.parent_id.is_none() && c.timecode.is_some());
    assert_eq!(markers.len(), timed_top_level.count());
    let attributes =
        |name| markers.iter().map(|m| m.attribute(name).unwrap_or("-")).collect::<Vec<_>>();
    // (107,892 + frame) * 1001 / 30000 s, frames 0, 374, 1828 and 17,982.
    assert_eq!(
        attributes("start"),
        ["107999892/30000s", "108374266/30000s", "109829720/30000s", "125999874/30000s"]
    );
    assert_eq!(
        attributes("duration"),
        ["1001/30000s", "1001/30000s", "75075/30000s", "1001/30000s"]
    );
    assert_eq!(attributes("completed"), ["0", "0", "1", "0"]);
    // Texts come back exactly, newlines included, once the parser has undone the escapes.
    assert_eq!(
        attributes("value"),
        [
            "Slate visible | cut it",
            "Fix the colour here",
            "Logo \"pops\" too early,\nmove it 2 frames later",
            "Sound & picture <out of sync> | check 'ADR'",
        ]
    );
    assert_eq!(
        attributes("note"),
        [
            "-",
            "Bob: Agreed, warmer please",
            "Bob: Done ✔ — moved\r\nto 01:00:01;03\nChloé: Merci, 完璧",
            // The BEL XML 1.0 cannot hold is gone.
            "Eve: I'll re-sync it",
        ]
    );
    assert!(
        xml.contains(r#"value="Sound &amp; picture &lt;out of sync&gt; | check &apos;ADR&apos;""#)
    );
    assert!(xml.contains("&quot;pops&quot;"));
    // Every marker lies within the gap, and every time is whole frames.
    let (gap_start, _) = rational(gap.attribute("start").unwrap());
    let (gap_length, _) = rational(gap.attribute("duration").unwrap());
    for marker in &markers {
        let (start, den) = rational(marker.attribute("start").unwrap());
        assert_eq!((den, start % 1001), (30_000, 0));
        assert!(gap_start <= start && start < gap_start + gap_length);
    }
}

#[test]
fn fcpxml_without_a_duration_ends_a_second_after_the_last_marker() {
    let version = ExportVersion { fps: Some(FrameRate::Fps24), duration: None, ..version() };
    let comments = comments();
    let xml = render(version, &comments, ExportFormat::Fcpxml, ExportOptions::default());
    let doc = parse_xml(&xml);
    let sequence = only(&doc, "sequence");
    assert_eq!(sequence.attribute("tcFormat"), Some("NDF"));
    assert_eq!(sequence.attribute("tcStart"), Some("0s"));
    // The last marker is at 600 s = frame 14,400, one frame long; then 24 frames more.
    assert_eq!(sequence.attribute("duration"), Some("1442500/2400s"));
    assert_eq!(only(&doc, "format").attribute("frameDuration"), Some("100/2400s"));
    let first = doc.descendants().find(|n| n.has_tag_name("marker")).unwrap();
    assert_eq!(first.attribute("start"), Some("0s"));
}

#[test]
fn fcpxml_stretches_a_short_clip_over_every_marker_and_copes_with_none() {
    let version = ExportVersion { duration: Some(10.0), ..version() };
    let comments = comments();
    let xml = render(version, &comments, ExportFormat::Fcpxml, ExportOptions::default());
    // The marker at 600 s is frame 17,982, so the clip lasts 17,983 frames, not 300.
    assert!(xml.contains(r#"duration="18000983/30000s""#), "{xml}");
    let xml = render(version, &[], ExportFormat::Fcpxml, ExportOptions::default());
    let doc = parse_xml(&xml);
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("marker")).count(), 0);
    assert_eq!(only(&doc, "sequence").attribute("duration"), Some("300300/30000s"));
}

#[test]
fn fcpxml_escapes_the_project_name() {
    let version = ExportVersion { project_name: "Tom & Jerry's <\"Cut\">", ..version() };
    let xml = render(version, &[], ExportFormat::Fcpxml, options());
    let doc = parse_xml(&xml);
    assert_eq!(only(&doc, "event").attribute("name"), Some("Tom & Jerry's <\"Cut\">"));
    assert_eq!(
        only(&doc, "project").attribute("name"),
        Some("Tom & Jerry's <\"Cut\"> v3 comments")
    );
}

// ---------------------------------------------------------------------------------------
// Formats and file names
// ---------------------------------------------------------------------------------------

#[test]
fn formats_parse_their_wire_names() {
    let table = [
        ("csv", ExportFormat::Csv, "text/csv; charset=utf-8"),
        ("edl", ExportFormat::Edl, "text/plain; charset=utf-8"),
        ("fcpxml", ExportFormat::Fcpxml, "application/xml"),
    ];
    for (name, format, content_type) in table {
        assert_eq!(ExportFormat::parse(name), Ok(format));
        assert_eq!(format.extension(), name);
        assert_eq!(format.content_type(), content_type);
    }
    for wrong in ["", "CSV", "xml", "fcpxmld", " csv"] {
        assert!(ExportFormat::parse(wrong).is_err(), "{wrong:?}");
    }
}

#[test]
fn file_names_are_safe() {
    let name = |project: &str| file_name(project, 3, ExportFormat::Csv);
    assert_eq!(name("Spring Campaign — Teaser!"), "Spring-Campaign-Teaser-v3-comments.csv");
    assert_eq!(name("my_film.final-cut"), "my_film.final-cut-v3-comments.csv");
    assert_eq!(name("--a   b--"), "a-b-v3-comments.csv");
    assert_eq!(name("../../etc/passwd"), "etc-passwd-v3-comments.csv");
    assert_eq!(name(".hidden"), "hidden-v3-comments.csv");
    assert_eq!(name(""), "project-v3-comments.csv");
    assert_eq!(name("日本語"), "project-v3-comments.csv");
    assert_eq!(name("a\"b\\c\r\nd;e"), "a-b-c-d-e-v3-comments.csv");
    assert_eq!(name(&"x".repeat(200)), format!("{}-v3-comments.csv", "x".repeat(80)));
    // Cut at 80 characters, then no dangling '-'.
    assert_eq!(
        name(&format!("{} b", "x".repeat(79))),
        format!("{}-v3-comments.csv", "x".repeat(79))
    );
    assert_eq!(file_name("Reel", 12, ExportFormat::Edl), "Reel-v12-comments.edl");
    assert_eq!(file_name("Reel", 1, ExportFormat::Fcpxml), "Reel-v1-comments.fcpxml");
}
