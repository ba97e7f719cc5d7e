//! Frame rates and SMPTE timecode (`HH:MM:SS:FF`, drop-frame `HH:MM:SS;FF`).
//!
//! Everything is counted in whole frames: a comment's time in seconds becomes a frame number
//! once ([`frames_at`]) and every label after that is exact integer arithmetic, so a marker
//! lands on the same frame in every format.

use std::fmt;

/// What is wrong with an fps value or a timecode, as a short sentence.
pub type Problem = &'static str;

/// One of the frame rates of the contract's Limits table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameRate {
    /// 24000/1001 (film pulled down for NTSC video); labelled non-drop at 24.
    Fps23_976,
    /// 24 frames per second.
    Fps24,
    /// 25 frames per second (PAL).
    Fps25,
    /// 30000/1001 (NTSC); labelled drop-frame at 30.
    Fps29_97,
    /// 30 frames per second.
    Fps30,
    /// 48 frames per second.
    Fps48,
    /// 50 frames per second.
    Fps50,
    /// 60000/1001; labelled drop-frame at 60.
    Fps59_94,
    /// 60 frames per second.
    Fps60,
}

impl FrameRate {
    /// Every allowed rate, slowest first.
    pub const ALL: [FrameRate; 9] = [
        FrameRate::Fps23_976,
        FrameRate::Fps24,
        FrameRate::Fps25,
        FrameRate::Fps29_97,
        FrameRate::Fps30,
        FrameRate::Fps48,
        FrameRate::Fps50,
        FrameRate::Fps59_94,
        FrameRate::Fps60,
    ];

    /// The rate a client sent, as the decimal of the Limits table (23.976, 24, 25, 29.97, 30,
    /// 48, 50, 59.94, 60). A value within 0.001 of a listed decimal or of its exact rational
    /// is taken for it, so both `29.97` and `30000.0 / 1001.0` mean [`FrameRate::Fps29_97`];
    /// the listed rates are at least 0.024 apart, so no value is close to two of them.
    pub fn parse(fps: f64) -> Result<FrameRate, Problem> {
        const TOLERANCE: f64 = 0.001;
        FrameRate::ALL
            .into_iter()
            .find(|rate| {
                (fps - rate.listed()).abs() <= TOLERANCE || (fps - rate.as_f64()).abs() <= TOLERANCE
            })
            .ok_or("must be one of 23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60")
    }

    /// The decimal as the Limits table writes it.
    pub fn listed(self) -> f64 {
        match self {
            FrameRate::Fps23_976 => 23.976,
            FrameRate::Fps29_97 => 29.97,
            FrameRate::Fps59_94 => 59.94,
            other => f64::from(other.nominal()),
        }
    }

    /// The whole number of frames a timecode second counts (its `FF` runs 0 to this - 1).
    pub fn nominal(self) -> u32 {
        match self {
            FrameRate::Fps23_976 | FrameRate::Fps24 => 24,
            FrameRate::Fps25 => 25,
            FrameRate::Fps29_97 | FrameRate::Fps30 => 30,
            FrameRate::Fps48 => 48,
            FrameRate::Fps50 => 50,
            FrameRate::Fps59_94 | FrameRate::Fps60 => 60,
        }
    }

    /// Whether timecodes at this rate are drop-frame: 29.97 and 59.94 only. 23.976 is
    /// conventionally labelled non-drop at 24 (its labels drift from the wall clock).
    pub fn is_drop_frame(self) -> bool {
        matches!(self, FrameRate::Fps29_97 | FrameRate::Fps59_94)
    }

    /// The exact rate as frames per second `(numerator, denominator)`, e.g. `(30000, 1001)`.
    pub fn rational(self) -> (u64, u64) {
        match self {
            FrameRate::Fps23_976 => (24_000, 1001),
            FrameRate::Fps29_97 => (30_000, 1001),
            FrameRate::Fps59_94 => (60_000, 1001),
            other => (u64::from(other.nominal()), 1),
        }
    }

    /// The exact rate as a float, e.g. 29.97002997….
    pub fn as_f64(self) -> f64 {
        let (num, den) = self.rational();
        num as f64 / den as f64
    }

    /// How long one frame lasts, in seconds, as `(numerator, denominator)` in the time base
    /// Final Cut Pro writes: `(1001, 30000)` at 29.97, `(100, 2400)` at 24.
    pub fn frame_duration(self) -> (u64, u64) {
        match self.rational() {
            (num, 1) => (100, num * 100),
            (num, den) => (den, num),
        }
    }

    /// Frames dropped from the labels at each minute not divisible by ten: 2 at 29.97, 4 at
    /// 59.94, none otherwise.
    fn dropped_per_minute(self) -> u64 {
        match self {
            FrameRate::Fps29_97 => 2,
            FrameRate::Fps59_94 => 4,
            _ => 0,
        }
    }

    /// Frames in 24 hours of labels: timecode wraps there, as SMPTE 12M clocks do.
    fn frames_per_day(self) -> u64 {
        let n = u64::from(self.nominal());
        // A drop-frame day is 144 ten-minute blocks, each 9 minutes short of their drop.
        24 * 3600 * n - 144 * 9 * self.dropped_per_minute()
    }
}

impl fmt::Display for FrameRate {
    /// The decimal of the Limits table: `23.976`, `24`, `29.97`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.listed())
    }
}

/// The frame showing at `seconds` into the video: `floor(seconds * exact_fps + 1e-6)`.
///
/// Floor, because a frame is on screen from its start until the next one: a comment made
/// while frame 10 was showing belongs to frame 10 even if it was nearly frame 11. The 1e-6
/// absorbs float error for times that are exactly a frame boundary (1.001 s at 29.97 is
/// frame 30, not 29.999…). Negative or NaN seconds are frame 0.
pub fn frames_at(seconds: f64, rate: FrameRate) -> u64 {
    let (num, den) = rate.rational();
    let frames = (seconds * num as f64 / den as f64 + 1e-6).floor();
    // `as` saturates: NaN and negatives become 0, absurdly large values u64::MAX.
    frames as u64
}

/// The SMPTE label of frame `frames` (counted from 00:00:00:00): `HH:MM:SS:FF`, or
/// `HH:MM:SS;FF` at the drop-frame rates, wrapping after 23:59:59 like SMPTE clocks.
///
/// Drop-frame skips the labels `;00` and `;01` (`;00`-`;03` at 59.94) at the start of every
/// minute except minutes divisible by ten, so the labels keep up with the wall clock.
pub fn format_smpte(frames: u64, rate: FrameRate) -> String {
    let n = u64::from(rate.nominal());
    let drop = rate.dropped_per_minute();
    let mut frames = frames % rate.frames_per_day();
    if drop > 0 {
        let per_ten_minutes = 600 * n - 9 * drop;
        let per_dropped_minute = 60 * n - drop;
        let (blocks, rest) = (frames / per_ten_minutes, frames % per_ten_minutes);
        // The first minute of each block keeps all its labels; each later one skips `drop`.
        let skipped_in_block =
            if rest > drop { drop * ((rest - drop) / per_dropped_minute) } else { 0 };
        frames += 9 * drop * blocks + skipped_in_block;
    }
    let ff = frames % n;
    let total_seconds = frames / n;
    let (hh, mm, ss) = (total_seconds / 3600, total_seconds / 60 % 60, total_seconds % 60);
    let separator = if rate.is_drop_frame() { ';' } else { ':' };
    format!("{hh:02}:{mm:02}:{ss:02}{separator}{ff:02}")
}

/// The frame count a label stands for: the inverse of [`format_smpte`].
///
/// Takes exactly `HH:MM:SS:FF` with two digits each; the last separator may be `:` or `;`
/// whatever the rate (the rate, not the separator, decides whether labels are drop-frame).
/// Refuses hours past 23, minutes or seconds past 59, frames at or past the nominal rate,
/// and at the drop-frame rates the labels that do not exist (`00:01:00;00` at 29.97).
pub fn parse_smpte(text: &str, rate: FrameRate) -> Result<u64, Problem> {
    const SHAPE: Problem = "must be a timecode HH:MM:SS:FF (or HH:MM:SS;FF)";
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 11
        && bytes[2] == b':'
        && bytes[5] == b':'
        && matches!(bytes[8], b':' | b';')
        && [0, 1, 3, 4, 6, 7, 9, 10].iter().all(|&i| bytes[i].is_ascii_digit());
    if !shape_ok {
        return Err(SHAPE);
    }
    // Two ASCII digits, checked above.
    let field = |at: usize| u64::from(bytes[at] - b'0') * 10 + u64::from(bytes[at + 1] - b'0');
    let (hh, mm, ss, ff) = (field(0), field(3), field(6), field(9));
    let n = u64::from(rate.nominal());
    if hh > 23 || mm > 59 || ss > 59 {
        return Err("must have hours 00-23, minutes and seconds 00-59");
    }
    if ff >= n {
        return Err("must have fewer frames than the frame rate counts per second");
    }
    let drop = rate.dropped_per_minute();
    if drop > 0 && ss == 0 && ff < drop && mm % 10 != 0 {
        return Err("is a label that drop-frame timecode skips");
    }
    let minutes = hh * 60 + mm;
    let labels = (minutes * 60 + ss) * n + ff;
    // Every minute not divisible by ten skipped `drop` labels before this one.
    Ok(labels - drop * (minutes - minutes / 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_durations_are_the_time_bases_final_cut_writes() {
        assert_eq!(FrameRate::Fps29_97.frame_duration(), (1001, 30_000));
        assert_eq!(FrameRate::Fps23_976.frame_duration(), (1001, 24_000));
        assert_eq!(FrameRate::Fps24.frame_duration(), (100, 2400));
        assert_eq!(FrameRate::Fps60.frame_duration(), (100, 6000));
    }

    #[test]
    fn a_day_of_frames_wraps_to_midnight() {
        for rate in FrameRate::ALL {
            let day = rate.frames_per_day();
            assert_eq!(format_smpte(day, rate), format_smpte(0, rate), "{rate}");
            assert_eq!(parse_smpte(&format_smpte(day - 1, rate), rate), Ok(day - 1), "{rate}");
        }
    }
}
