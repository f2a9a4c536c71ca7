//! Front ends: thin translations between a wire format and the engine (Params in, Report out).

pub mod ansible;
pub mod cli;
pub mod text_diff;
