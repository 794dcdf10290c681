//! The fast-paths plot, drawn from the Markdown tables `fast-paths` prints: one panel per
//! operation, the fast path against one call per object and the raw libzfs loop, cost against
//! N on log axes. Reading the printed tables (not a second format) means a plot can always be
//! redrawn from a run's saved output: `fast-paths --replot OUTPUT.txt PLOT.svg`.

use std::collections::BTreeMap;

/// The panels, in order.
pub const OPS: [&str; 6] = [
    "recursive destroy",
    "user property on N",
    "recursive inherit",
    "listing (3 properties)",
    "N bookmarks",
    "recursive snapshot rename",
];

/// The lines of every panel.
pub const COLUMNS: [&str; 3] = [
    "fast path (one program / one call)",
    "one call per object",
    "raw libzfs loop",
];

/// Where one figure of a row goes: (panel, column, index of the figure after N).
type Feed = (usize, usize, usize);

/// For each table (by the first words of its header), the panels it feeds.
const SOURCES: [(&str, &[Feed]); 4] = [
    ("| recursive destroy", &[(0, 0, 0), (0, 1, 1), (0, 2, 2)]),
    (
        "| user property",
        &[(1, 0, 0), (1, 1, 1), (1, 2, 2), (2, 0, 4), (2, 1, 5)],
    ),
    // The program walk against libzfs iteration (one kernel call per object) and the raw
    // loop over filesystems only.
    ("| listing", &[(3, 0, 3), (3, 1, 0), (3, 2, 1)]),
    (
        "| one kernel call already",
        &[(4, 0, 0), (4, 1, 1), (5, 0, 3), (5, 1, 4)],
    ),
];

/// (panel, column, N) -> seconds.
pub type Figures = BTreeMap<(usize, usize, usize), f64>;

/// Reads the figures out of `fast-paths` output (other lines are skipped).
pub fn parse(text: &str) -> Figures {
    let mut out = Figures::new();
    let mut current: Option<&[Feed]> = None;
    for line in text.lines() {
        if let Some((_, map)) = SOURCES.iter().find(|(h, _)| line.starts_with(h)) {
            current = Some(map);
            continue;
        }
        // Another table's header (the work tables): its rows feed nothing.
        if line.starts_with("| ") && !line.starts_with("| | ") && !line.starts_with("| ---") {
            current = None;
            continue;
        }
        let Some(map) = current else { continue };
        let Some(row) = line.strip_prefix("| | ") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(n) = cells
            .first()
            .and_then(|c| c.split(' ').next()?.parse().ok())
        else {
            continue;
        };
        for &(panel, column, at) in map {
            if let Some(v) = cells.get(at + 1).and_then(|c| c.parse::<f64>().ok()) {
                out.insert((panel, column, n), v);
            }
        }
    }
    out
}

/// The plot of `figures` as SVG.
pub fn svg(figures: &Figures) -> String {
    let mut ns: Vec<usize> = figures.keys().map(|k| k.2).collect();
    ns.sort_unstable();
    ns.dedup();
    let get = |n: usize, column: &str, panel: usize| {
        let ci = COLUMNS.iter().position(|c| *c == column).unwrap_or(0);
        figures.get(&(panel, ci, n)).copied().unwrap_or(f64::NAN)
    };
    crate::plot::svg(&ns, &OPS, &COLUMNS, &get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_table_and_skips_the_rest() {
        let text = "\
[vm] booting
| recursive destroy, N filesystems | N | program s | one s | raw s | x | y | l | f |
| --- | ---: |
| | 10 | 0.757 | 1.073 | 0.738 | 1.0x | 1.4x | 0.461 | 0.253 |
| user property on N filesystems | N | a | b | c | d | e | f | g |
| | 100 | 0.830 | 4.547 | 4.583 | 5.5x | 3.802 | 12.962 | 3.4x |
| listing N | N | a | b | c | d | e |
| | 100 | 4.527 | 2.446 | 3.353 | 5.925 | 0.76x |
| one kernel call already, N filesystems | N | a | b | c | d | e | f |
| | 1000 | 1.5 | 40.1 | 26.7x | 2.0 | 50.0 | 25.0x |
";
        let f = parse(text);
        assert_eq!(f[&(0, 0, 10)], 0.757);
        assert_eq!(f[&(0, 2, 10)], 0.738);
        assert_eq!(f[&(1, 1, 100)], 4.547);
        assert_eq!(f[&(2, 0, 100)], 3.802);
        assert_eq!(f[&(2, 1, 100)], 12.962);
        assert_eq!(f[&(3, 0, 100)], 5.925);
        assert_eq!(f[&(3, 1, 100)], 4.527);
        assert_eq!(f[&(4, 1, 1000)], 40.1);
        assert_eq!(f[&(5, 0, 1000)], 2.0);
        assert_eq!(f.len(), 3 + 5 + 3 + 4);
        let svg = svg(&f);
        assert!(svg.starts_with("<svg") && svg.contains("recursive snapshot rename"));
    }
}
