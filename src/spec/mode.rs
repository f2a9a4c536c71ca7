//! File modes (`mode`): octal strings like "1777" or "01777". Pure: no I/O.

use std::fmt;

use crate::spec::ParamError;

/// Permission bits and the sticky/setgid/setuid bits of a mount root (st_mode & 07777).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode(pub u32);

const ACCEPTED: &str =
    "an octal mode of 3 or 4 digits as a quoted string, e.g. \"1777\" or \"01777\"";

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, ParamError> {
        let t = text.trim();
        let digits = t.strip_prefix("0o").unwrap_or(t);
        if digits.len() < 3
            || digits.len() > 5
            || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
        {
            return Err(ParamError::new("mode", text, ACCEPTED));
        }
        let value =
            u32::from_str_radix(digits, 8).map_err(|_| ParamError::new("mode", text, ACCEPTED))?;
        if value > 0o7777 {
            return Err(ParamError::new("mode", text, ACCEPTED));
        }
        Ok(Mode(value))
    }

    pub fn is_sticky(self) -> bool {
        self.0 & 0o1000 != 0
    }

    pub fn is_world_writable(self) -> bool {
        self.0 & 0o002 != 0
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_and_four_digits_are_the_same_mode() {
        assert_eq!(Mode::parse("1777").unwrap(), Mode::parse("01777").unwrap());
        assert_eq!(Mode::parse("0o1777").unwrap(), Mode(0o1777));
        assert_eq!(Mode::parse("755").unwrap(), Mode(0o755));
        assert_eq!(Mode(0o755).to_string(), "0755");
    }

    #[test]
    fn symbolic_and_out_of_range_modes_are_refused() {
        for t in ["a+rwx", "17777", "8777", "77", "", "1777 0", "-1"] {
            let e = Mode::parse(t).unwrap_err().to_string();
            assert!(e.starts_with("mode: "), "{e}");
            assert!(e.contains("octal"), "{e}");
        }
    }
}
