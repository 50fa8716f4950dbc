//! SMPP `sequence_number` allocation for one session.
//!
//! Owns the range rule (1..=0x7FFF_FFFF, wrapping back to 1; SMPP 3.4 §5.1.4). It must not know what the
//! numbers are used for; the session decides which ones are still taken.

/// Largest sequence number allowed by SMPP 3.4.
pub(crate) const MAX_SEQUENCE: u32 = 0x7FFF_FFFF;

/// Hands out sequence numbers in order, starting at 1.
#[derive(Debug, Default)]
pub(crate) struct Sequence {
    last: u32,
}

impl Sequence {
    pub(crate) fn next(&mut self) -> u32 {
        self.last = if self.last >= MAX_SEQUENCE {
            1
        } else {
            self.last + 1
        };
        self.last
    }

    /// The next number for which `taken` is false. After a wrap a long-outstanding request could still
    /// hold a number; reusing it would match its response to the wrong request.
    pub(crate) fn next_free(&mut self, taken: impl Fn(u32) -> bool) -> u32 {
        loop {
            let candidate = self.next();
            if !taken(candidate) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_one_and_wraps_back_to_one_after_the_maximum() {
        let mut sequence = Sequence::default();
        assert_eq!(sequence.next(), 1);
        assert_eq!(sequence.next(), 2);
        sequence.last = MAX_SEQUENCE - 1;
        assert_eq!(sequence.next(), MAX_SEQUENCE);
        assert_eq!(sequence.next(), 1);
    }

    #[test]
    fn skips_numbers_that_are_still_outstanding() {
        let mut sequence = Sequence { last: MAX_SEQUENCE };
        assert_eq!(sequence.next_free(|n| n == 1 || n == 2), 3);
    }
}
