//! Whether this process may change mounts: CAP_SYS_ADMIN in its effective capability set
//! (/proc/self/status `CapEff`). Root has it; so has root of a user namespace, for the mounts
//! of its own mount namespace (how the end-to-end tests run as an ordinary user); a plain user
//! has not. The parser is pure; `can_administer()` reads the file.

/// capability.h: CAP_SYS_ADMIN
const CAP_SYS_ADMIN: u32 = 21;

/// CAP_SYS_ADMIN from the text of /proc/self/status; None when there is no readable CapEff.
pub fn cap_sys_admin(status: &str) -> Option<bool> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    Some(bits & (1 << CAP_SYS_ADMIN) != 0)
}

pub fn can_administer() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| cap_sys_admin(&s))
        .unwrap_or_else(|| nix::unistd::geteuid().is_root())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_a_plain_user_are_told_apart() {
        assert_eq!(
            cap_sys_admin("Name:\tx\nCapEff:\t000001ffffffffff\n"),
            Some(true)
        );
        assert_eq!(
            cap_sys_admin("Name:\tx\nCapEff:\t0000000000000000\n"),
            Some(false)
        );
        assert_eq!(cap_sys_admin("CapEff:\t0000000000200000"), Some(true));
        assert_eq!(cap_sys_admin("Name:\tx\n"), None);
        assert_eq!(cap_sys_admin("CapEff:\tzz"), None);
    }
}
