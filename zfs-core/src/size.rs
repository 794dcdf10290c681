//! Sizes as the `zfs`/`zpool` commands write them.

/// Parses `1024`, `16K`, `512M`, `512MiB`, `2G`, `1T` (powers of 1024) into bytes; `None` for
/// anything else or an overflow. A subset of the sizes `zfs set` and `zfs create -V` take
/// (those also take fractions such as `1.5G`, and `P` and `E`).
///
/// ```
/// assert_eq!(zfs_core::parse_size("2G"), Some(2 << 30));
/// assert_eq!(zfs_core::parse_size("16K"), Some(16384));
/// assert_eq!(zfs_core::parse_size("lots"), None);
/// ```
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let unit = unit.to_ascii_uppercase();
    let shift = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn every_unit_and_the_ones_it_refuses() {
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size(" 3tib "), Some(3 << 40));
        assert_eq!(parse_size("512MB"), Some(512 << 20));
        assert_eq!(parse_size("7"), Some(7));
        assert_eq!(parse_size("1P"), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("99999999999T"), None, "overflow");
    }
}
