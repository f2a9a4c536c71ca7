//! Where a command's report goes: stdout, or a file replaced atomically (a temporary file
//! renamed over it, as node_exporter's textfile collector requires).

/// Prints `text`, or replaces FILE with it atomically; false (with a message) on failure.
pub(crate) fn emit(command: &str, output: &Option<String>, text: &str) -> bool {
    let Some(file) = output else {
        print!("{text}");
        return true;
    };
    let path = std::path::Path::new(file);
    let written = match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {file}: {e}")),
    }
    .and_then(|before| {
        crate::apply::write_atomically(
            path,
            before.as_deref(),
            &crate::observe::line_file::LineFile::parse(text.as_bytes()),
            false,
        )
        .map_err(|e| e.to_string())
    });
    match written {
        Ok(_) => true,
        Err(e) => {
            eprintln!("shmguard {command}: output: {e}");
            false
        }
    }
}
