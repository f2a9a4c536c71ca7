//! A line diff for the human CLI's --diff: common head and tail kept as context, the middle
//! shown as removed and added lines. Enough for shmguard's edits (one line changed, added or
//! removed). Pure: no I/O.

pub fn unified(header: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut out = format!("--- {header} (before)\n+++ {header} (after)\n");
    let ctx = 2;
    for l in &a[head.saturating_sub(ctx)..head] {
        out += &format!(" {l}\n");
    }
    for l in &a[head..a.len() - tail] {
        out += &format!("-{l}\n");
    }
    for l in &b[head..b.len() - tail] {
        out += &format!("+{l}\n");
    }
    for l in a[a.len() - tail..].iter().take(ctx) {
        out += &format!(" {l}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_is_shown_with_context() {
        let d = unified("f", "a\nb\nc\nd\n", "a\nb\nC\nd\n");
        assert_eq!(d, "--- f (before)\n+++ f (after)\n a\n b\n-c\n+C\n d\n");
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("f", "a\n", "a\n"), "");
    }
}
