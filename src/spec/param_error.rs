//! ParamError: a bad parameter value, with the parameter, the value and what is accepted.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub value: String,
    pub accepted: String,
}

impl ParamError {
    pub fn new(
        param: impl Into<String>,
        value: impl Into<String>,
        accepted: impl Into<String>,
    ) -> Self {
        ParamError {
            param: param.into(),
            value: value.into(),
            accepted: accepted.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} is not accepted; expected {}",
            self.param, self.value, self.accepted
        )
    }
}

impl std::error::Error for ParamError {}
