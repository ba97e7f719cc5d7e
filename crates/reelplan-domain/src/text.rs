//! The texts of the API contract as types: each holds a value that passed its rule, cleaned
//! (trimmed, lower-cased) as the rule says, so whatever takes one needs no check of its own.

use serde::Serialize;

use crate::validate::{char_count_between, no_nul, Problem};

/// Declares a text newtype with a private field, `as_str` and `Serialize`.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The clean text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// A valid address of at most 254 characters, lower-cased.
    Email
);
text_type!(
    /// A user's display name: 1-50 characters after trimming.
    Nickname
);
text_type!(
    /// A project's name: 1-200 characters after trimming.
    ProjectName
);
text_type!(
    /// A project's manager or consumer: at most 100 characters, as typed.
    Party
);
text_type!(
    /// A project's description: at most 10,000 characters, as typed.
    Description
);
text_type!(
    /// A project's color: `#RRGGBB`, upper-cased.
    Color
);
text_type!(
    /// Comment or message text: 1-5,000 characters after trimming.
    DiscussionText
);
text_type!(
    /// Memo text: 1-2,000 characters, not blank, as typed.
    MemoText
);

impl Email {
    /// A valid address of at most 254 characters, lower-cased.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        const BAD: Problem = "must be a valid email address of at most 254 characters";
        let email = raw.trim().to_lowercase();
        char_count_between(&email, 3, 254, BAD)?;
        let (local, domain) = email.rsplit_once('@').ok_or(BAD)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(email))
        } else {
            Err(BAD)
        }
    }
}

impl Nickname {
    /// 1-50 characters after trimming.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let s = raw.trim();
        char_count_between(s, 1, 50, "must be 1-50 characters after trimming")?;
        no_nul(s)?;
        Ok(Nickname(s.to_owned()))
    }
}

impl ProjectName {
    /// 1-200 characters after trimming.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let s = raw.trim();
        char_count_between(s, 1, 200, "must be 1-200 characters after trimming")?;
        no_nul(s)?;
        Ok(ProjectName(s.to_owned()))
    }
}

/// No manager or consumer named.
impl Default for Party {
    fn default() -> Self {
        Party(String::new())
    }
}

/// No description.
impl Default for Description {
    fn default() -> Self {
        Description(String::new())
    }
}

impl Party {
    /// At most 100 characters.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        char_count_between(raw, 0, 100, "must be at most 100 characters")?;
        no_nul(raw)?;
        Ok(Party(raw.to_owned()))
    }
}

impl Description {
    /// At most 10,000 characters.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        char_count_between(raw, 0, 10_000, "must be at most 10,000 characters")?;
        no_nul(raw)?;
        Ok(Description(raw.to_owned()))
    }
}

impl Color {
    /// `#RRGGBB`, upper-cased.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let ok = raw.len() == 7
            && raw.starts_with('#')
            && raw[1..].chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(Color(raw.to_ascii_uppercase()))
        } else {
            Err("must be #RRGGBB")
        }
    }
}

impl DiscussionText {
    /// 1-5,000 characters after trimming.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let s = raw.trim();
        char_count_between(s, 1, 5_000, "must be 1-5,000 characters after trimming")?;
        no_nul(s)?;
        Ok(DiscussionText(s.to_owned()))
    }
}

impl MemoText {
    /// 1-2,000 characters, not blank.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        const BAD: Problem = "must be 1-2,000 characters and not blank";
        char_count_between(raw, 1, 2_000, BAD)?;
        if raw.trim().is_empty() {
            return Err(BAD);
        }
        no_nul(raw)?;
        Ok(MemoText(raw.to_owned()))
    }
}

/// A video position in seconds: finite and not negative (never -0).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Timecode(f64);

impl Timecode {
    /// Finite and not negative.
    pub fn parse(raw: f64) -> Result<Self, Problem> {
        if raw.is_finite() && raw >= 0.0 {
            // -0.0 passes `>= 0.0`; answer it as 0 rather than echo a "-0.0" back to clients.
            Ok(Timecode(if raw == 0.0 { 0.0 } else { raw }))
        } else {
            Err("must be a finite number of seconds >= 0")
        }
    }

    /// The seconds.
    pub fn value(self) -> f64 {
        self.0
    }
}
