//! What several commands share on the command line: a choice flag's words from the parameter
//! table, and `--json`, the older spelling of `--format json`.

use clap::Args;

/// The choices of a parameter, as its table entry spells them (aliases included).
pub(crate) fn words(words: &'static [&'static str]) -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(words.iter().copied())
}

/// `--json`, the older spelling of `--format json`, kept (hidden) on every command that has
/// a `--format`; given with `--format` it is a usage error, not a silent choice.
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonAlias {
    /// Same as --format json
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
}

impl JsonAlias {
    /// The format asked for: json when --json was given, else `format`.
    pub fn or(self, format: Option<&str>) -> Option<&str> {
        if self.json { Some("json") } else { format }
    }
}
