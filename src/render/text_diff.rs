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
    for (sign, l) in middle(&a[head..a.len() - tail], &b[head..b.len() - tail]) {
        out += &format!("{sign}{l}\n");
    }
    for l in a[a.len() - tail..].iter().take(ctx) {
        out += &format!(" {l}\n");
    }
    out
}

/// The changed middle as ' ', '-' and '+' lines: a longest-common-subsequence diff when it is
/// small (the live state, an edited fstab line), all removed then all added when it is not.
fn middle<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    if a.len() * b.len() > 250_000 {
        return a
            .iter()
            .map(|l| ('-', *l))
            .chain(b.iter().map(|l| ('+', *l)))
            .collect();
    }
    // lcs[i][j]: length of the LCS of a[i..] and b[j..]
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i]));
            i += 1;
        } else {
            out.push(('+', b[j]));
            j += 1;
        }
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
    fn unchanged_lines_between_changes_stay_context() {
        let d = unified(
            "f",
            "a\nsize: 1\nn: 5\nopt: x\n",
            "a\nsize: 2\nn: 5\nopt: y\n",
        );
        assert_eq!(
            d,
            "--- f (before)\n+++ f (after)\n a\n-size: 1\n+size: 2\n n: 5\n-opt: x\n+opt: y\n"
        );
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("f", "a\n", "a\n"), "");
    }
}
