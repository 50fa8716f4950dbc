//! Recipient numbers (MSISDN, normalised to E.164 digits) and sender
//! identities (seven.io rules for numeric and alphanumeric originators).

use std::fmt;

/// Minimum digits of a normalised international number.
const MSISDN_MIN: usize = 7;
/// Maximum digits of a normalised international number (E.164).
const MSISDN_MAX: usize = 15;
/// Maximum length of an alphanumeric sender.
const SENDER_ALNUM_MAX: usize = 11;
/// Maximum digits of a numeric sender.
const SENDER_NUMERIC_MAX: usize = 16;

/// Why a phone number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsisdnError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number contains invalid character {0:?}")]
    InvalidCharacter(char),
    #[error("phone number contains no digits")]
    NotANumber,
    #[error("phone number has unbalanced or nested parentheses")]
    UnbalancedParentheses,
    #[error("national number (leading 0) but no default country code is configured")]
    NationalWithoutCountryCode,
    #[error("invalid default country code {0:?}: expected 1 to 3 digits")]
    InvalidCountryCode(String),
    #[error("country code cannot start with 0")]
    ZeroCountryCode,
    #[error("phone number too short: {0} digits, at least {MSISDN_MIN} required")]
    TooShort(usize),
    #[error("phone number too long: {0} digits, at most {MSISDN_MAX} allowed")]
    TooLong(usize),
}

/// A recipient number: international form, digits only, no leading '+'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(String);

impl Msisdn {
    /// Normalises a human-written number into international digits.
    ///
    /// `+`, `00` or no prefix mean international; a single leading `0` is a
    /// national trunk prefix replaced by `default_country_code` (e.g. `"49"`
    /// or `"+49"`). A `(0)` after the country code is dropped.
    pub fn parse(raw: &str, default_country_code: Option<&str>) -> Result<Msisdn, MsisdnError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(MsisdnError::Empty);
        }
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let digits = strip_punctuation(rest)?;
        if digits.is_empty() {
            return Err(MsisdnError::NotANumber);
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if let Some(national) = digits.strip_prefix('0') {
            let cc = default_country_code.ok_or(MsisdnError::NationalWithoutCountryCode)?;
            format!("{}{national}", country_code(cc)?)
        } else {
            digits
        };
        Self::from_international(international)
    }

    /// Checks the length and country code of already-normalised digits.
    fn from_international(digits: String) -> Result<Msisdn, MsisdnError> {
        if digits.starts_with('0') {
            return Err(MsisdnError::ZeroCountryCode);
        }
        match digits.len() {
            n if n < MSISDN_MIN => Err(MsisdnError::TooShort(n)),
            n if n > MSISDN_MAX => Err(MsisdnError::TooLong(n)),
            _ => Ok(Msisdn(digits)),
        }
    }

    /// The number as international digits without '+'.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last digit (0..=9), e.g. for sharding or test-mode outcomes.
    pub fn last_digit(&self) -> u8 {
        self.0.bytes().last().map_or(0, |b| b - b'0')
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Removes separators from a number (without its leading '+').
///
/// A `(0)` at the very start is a national trunk `0`; anywhere else it is the
/// optional trunk prefix after a country code and is dropped. Other
/// parentheses are removed, spaces, tabs, dashes and dots are ignored.
fn strip_punctuation(rest: &str) -> Result<String, MsisdnError> {
    let compact: String = rest
        .chars()
        .filter(|c| !(c.is_whitespace() || *c == '-' || *c == '.'))
        .collect();
    check_parentheses(&compact)?;
    let (head, tail) = match compact.strip_prefix("(0)") {
        Some(tail) => ("0", tail),
        None => ("", compact.as_str()),
    };
    let tail = tail.replace("(0)", "");
    let mut out = String::with_capacity(compact.len());
    out.push_str(head);
    for c in tail.chars().filter(|c| !matches!(c, '(' | ')')) {
        if !c.is_ascii_digit() {
            return Err(MsisdnError::InvalidCharacter(c));
        }
        out.push(c);
    }
    Ok(out)
}

/// Parentheses must be balanced and not nested.
fn check_parentheses(s: &str) -> Result<(), MsisdnError> {
    let mut open = false;
    for c in s.chars() {
        match (c, open) {
            ('(', false) => open = true,
            (')', true) => open = false,
            ('(', true) | (')', false) => return Err(MsisdnError::UnbalancedParentheses),
            _ => {}
        }
    }
    if open {
        return Err(MsisdnError::UnbalancedParentheses);
    }
    Ok(())
}

/// Validates a configured country code such as `"49"`, `"+49"` or `"0049"`.
fn country_code(raw: &str) -> Result<&str, MsisdnError> {
    let raw = raw.trim();
    let cc = raw
        .strip_prefix('+')
        .or_else(|| raw.strip_prefix("00"))
        .unwrap_or(raw);
    let valid = (1..=3).contains(&cc.len())
        && cc.bytes().all(|b| b.is_ascii_digit())
        && !cc.starts_with('0');
    if valid {
        Ok(cc)
    } else {
        Err(MsisdnError::InvalidCountryCode(raw.to_owned()))
    }
}

/// Splits a seven.io `to` value into entries: on ',' and ';', trimmed,
/// empty entries dropped.
pub fn split_recipients(raw: &str) -> Vec<&str> {
    raw.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Why a sender was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    #[error("sender is empty")]
    Empty,
    #[error("sender contains invalid character {0:?}")]
    InvalidCharacter(char),
    #[error("alphanumeric sender too long: {0} characters, at most {SENDER_ALNUM_MAX} allowed")]
    AlphanumericTooLong(usize),
    #[error("numeric sender too long: {0} digits, at most {SENDER_NUMERIC_MAX} allowed")]
    NumericTooLong(usize),
}

/// A sender identity (originator): up to 16 digits, or up to 11 characters
/// of letters, digits, space and `. - _ & @`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sender(String);

impl Sender {
    /// Validates a sender; surrounding spaces are trimmed and a leading '+'
    /// of a numeric sender is stripped.
    pub fn parse(raw: &str) -> Result<Sender, SenderError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(SenderError::Empty);
        }
        let unsigned = raw.strip_prefix('+').unwrap_or(raw);
        let numeric = !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit());
        if numeric {
            return match unsigned.len() {
                n if n > SENDER_NUMERIC_MAX => Err(SenderError::NumericTooLong(n)),
                _ => Ok(Sender(unsigned.to_owned())),
            };
        }
        if let Some(c) = raw.chars().find(|c| !is_sender_char(*c)) {
            return Err(SenderError::InvalidCharacter(c));
        }
        match raw.len() {
            n if n > SENDER_ALNUM_MAX => Err(SenderError::AlphanumericTooLong(n)),
            _ => Ok(Sender(raw.to_owned())),
        }
    }

    /// The sender as it goes on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_sender_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_' | '&' | '@')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use Expect::{De, Intl, Orig, Split};
    use MsisdnError as M;
    use SenderError as S;
    use proptest::prelude::*;

    /// What to run on the input and what it must give.
    enum Expect {
        /// `Msisdn::parse` without a default country code.
        Intl(Result<&'static str, MsisdnError>),
        /// `Msisdn::parse` with default country code "49".
        De(Result<&'static str, MsisdnError>),
        /// `Sender::parse` (originator).
        Orig(Result<&'static str, SenderError>),
        Split(&'static [&'static str]),
    }

    fn check(input: &str, expect: Expect) {
        let msisdn = |cc| Msisdn::parse(input, cc).map(|m| m.as_str().to_owned());
        match expect {
            Intl(e) => assert_eq!(msisdn(None), e.map(str::to_owned), "{input:?}"),
            De(e) => assert_eq!(msisdn(Some("49")), e.map(str::to_owned), "{input:?}"),
            Orig(e) => {
                let got = Sender::parse(input).map(|s| s.as_str().to_owned());
                assert_eq!(got, e.map(str::to_owned), "{input:?}");
            }
            Split(e) => assert_eq!(split_recipients(input), e, "{input:?}"),
        }
    }

    fn run<const N: usize>(cases: [(&str, Expect); N]) {
        for (input, expect) in cases {
            check(input, expect);
        }
    }

    #[test]
    fn msisdn_accepted_forms() {
        let ok = "4917612345678";
        run([
            ("+49 176 1234-5678", Intl(Ok(ok))),
            ("004917612345678", Intl(Ok(ok))),
            ("4917612345678", Intl(Ok(ok))),
            ("  +49 (0) 176 12345678 ", Intl(Ok(ok))),
            ("+49(0)176.1234.5678", Intl(Ok(ok))),
            ("0049 (0)176 12345678", Intl(Ok(ok))),
            ("49 (176) 1234 5678", Intl(Ok(ok))),
            ("0176 12345678", De(Ok(ok))),
            ("(0176) 1234-5678", De(Ok(ok))),
            ("(0)176 12345678", De(Ok(ok))),
            ("+4917612345678", De(Ok(ok))),
            ("+1 (555) 123-4567", Intl(Ok("15551234567"))),
            ("1234567", Intl(Ok("1234567"))),
            ("123456789012345", Intl(Ok("123456789012345"))),
        ]);
    }

    #[test]
    fn msisdn_rejected_forms() {
        let bad_char = |c| Intl(Err(M::InvalidCharacter(c)));
        run([
            ("", Intl(Err(M::Empty))),
            ("   ", Intl(Err(M::Empty))),
            ("+", Intl(Err(M::NotANumber))),
            ("- . -", Intl(Err(M::NotANumber))),
            ("+49 176 CALL-ME", bad_char('C')),
            ("49176+1234567", bad_char('+')),
            ("++4917612345678", bad_char('+')),
            ("4917612345678/9", bad_char('/')),
            ("０１７６１２３４５６７", bad_char('０')),
            ("+49 (176 1234", Intl(Err(M::UnbalancedParentheses))),
            ("+49 ((0)) 176", Intl(Err(M::UnbalancedParentheses))),
            ("0176 12345678", Intl(Err(M::NationalWithoutCountryCode))),
            ("+0176 12345678", Intl(Err(M::ZeroCountryCode))),
            ("000176 12345678", De(Err(M::ZeroCountryCode))),
            ("123456", Intl(Err(M::TooShort(6)))),
            ("+1234567890123456", Intl(Err(M::TooLong(16)))),
            ("0123", De(Err(M::TooShort(5)))),
        ]);
    }

    #[test]
    fn default_country_code_forms() {
        for cc in ["49", "+49", "0049", " 49 "] {
            let got = Msisdn::parse("0176 12345678", Some(cc)).unwrap();
            assert_eq!(got.as_str(), "4917612345678", "cc {cc:?}");
        }
        for cc in ["", "+", "1234", "049", "4a"] {
            let got = Msisdn::parse("0176 12345678", Some(cc));
            let want = Err(M::InvalidCountryCode(cc.trim().to_owned()));
            assert_eq!(got, want, "cc {cc:?}");
        }
    }

    #[test]
    fn msisdn_last_digit_and_display() {
        let m = Msisdn::parse("+49 176 1234-5679", None).unwrap();
        assert_eq!(m.last_digit(), 9);
        assert_eq!(m.to_string(), "4917612345679");
    }

    #[test]
    fn recipients_split() {
        run([
            ("", Split(&[])),
            (" , ;; ", Split(&[])),
            ("491761", Split(&["491761"])),
            (
                "+49 176 1, 0049 2 ;3,",
                Split(&["+49 176 1", "0049 2", "3"]),
            ),
        ]);
    }

    #[test]
    fn senders() {
        run([
            ("dlrgate", Orig(Ok("dlrgate"))),
            ("  My Shop  ", Orig(Ok("My Shop"))),
            ("A.B-C_D&E@F", Orig(Ok("A.B-C_D&E@F"))),
            ("12345678901", Orig(Ok("12345678901"))),
            ("+4917612345678", Orig(Ok("4917612345678"))),
            ("1234567890123456", Orig(Ok("1234567890123456"))),
            ("123456789012345678", Orig(Err(S::NumericTooLong(18)))),
            ("ABCDEFGHIJKL", Orig(Err(S::AlphanumericTooLong(12)))),
            ("49 176 12345", Orig(Err(S::AlphanumericTooLong(12)))),
            ("", Orig(Err(S::Empty))),
            ("    ", Orig(Err(S::Empty))),
            ("+", Orig(Err(S::InvalidCharacter('+')))),
            ("+Shop", Orig(Err(S::InvalidCharacter('+')))),
            ("Shop!", Orig(Err(S::InvalidCharacter('!')))),
            ("Café", Orig(Err(S::InvalidCharacter('é')))),
        ]);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(raw in any::<String>(), cc in proptest::option::of(any::<String>())) {
            let _ = Msisdn::parse(&raw, cc.as_deref());
            let _ = Sender::parse(&raw);
            let _ = split_recipients(&raw);
        }

        #[test]
        fn parsed_msisdn_is_canonical(raw in "[0-9+() .-]{0,24}") {
            if let Ok(m) = Msisdn::parse(&raw, Some("49")) {
                prop_assert!((MSISDN_MIN..=MSISDN_MAX).contains(&m.as_str().len()));
                prop_assert!(m.as_str().bytes().all(|b| b.is_ascii_digit()));
                let again = Msisdn::parse(&format!("+{m}"), None);
                prop_assert_eq!(again, Ok(m));
            }
        }
    }
}
