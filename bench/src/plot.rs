//! A dependency-free SVG plot: one panel per operation, time against N on log-log axes, one
//! line per column.

use std::fmt::Write;

const COLORS: [&str; 6] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// The plot as SVG text; `get(n, column, op_index)` is the median in seconds.
pub fn svg(
    ns: &[usize],
    ops: &[&str],
    columns: &[&str],
    get: &dyn Fn(usize, &str, usize) -> f64,
) -> String {
    let (pw, ph, margin) = (300.0_f64, 220.0_f64, 50.0_f64);
    let width = pw * ops.len() as f64 + margin;
    let height = ph + 2.0 * margin + 20.0 * columns.len() as f64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let xs: Vec<f64> = ns.iter().map(|&n| (n as f64).log10()).collect();
    let (xmin, xmax) = (
        xs.iter().copied().fold(f64::MAX, f64::min),
        xs.iter().copied().fold(f64::MIN, f64::max),
    );
    for (oi, op) in ops.iter().enumerate() {
        let ox = margin + pw * oi as f64;
        let values: Vec<f64> = ns
            .iter()
            .flat_map(|&n| columns.iter().map(move |c| (n, *c)))
            .map(|(n, c)| get(n, c, oi))
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(|v| v.max(1e-4).log10())
            .collect();
        let (ymin, ymax) = (
            values.iter().copied().fold(f64::MAX, f64::min).floor(),
            values
                .iter()
                .copied()
                .fold(f64::MIN, f64::max)
                .ceil()
                .max(-3.0),
        );
        let px = |x: f64| {
            ox + 10.0
                + (pw - 40.0)
                    * if xmax > xmin {
                        (x - xmin) / (xmax - xmin)
                    } else {
                        0.5
                    }
        };
        let py = |y: f64| {
            margin + ph
                - (ph - 20.0)
                    * if ymax > ymin {
                        (y - ymin) / (ymax - ymin)
                    } else {
                        0.5
                    }
        };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-weight="bold">{op}</text>"#,
            ox + 10.0,
            margin - 10.0
        );
        let _ = writeln!(
            s,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
            ox,
            margin,
            pw - 20.0,
            ph
        );
        let mut e = ymin as i32;
        while e <= ymax as i32 {
            let y = py(f64::from(e));
            let _ = writeln!(
                s,
                r##"<line x1="{ox}" x2="{}" y1="{y}" y2="{y}" stroke="#eee"/>"##,
                ox + pw - 20.0
            );
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">{}s</text>"#,
                ox - 2.0,
                y + 4.0,
                10f64.powi(e)
            );
            e += 1;
        }
        for (n, x) in ns.iter().zip(&xs) {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">N={n}</text>"#,
                px(*x),
                margin + ph + 14.0
            );
        }
        for (ci, c) in columns.iter().enumerate() {
            let pts: Vec<String> = ns
                .iter()
                .zip(&xs)
                .filter(|(&n, _)| get(n, c, oi).is_finite() && get(n, c, oi) > 0.0)
                .map(|(&n, &x)| format!("{:.1},{:.1}", px(x), py(get(n, c, oi).max(1e-4).log10())))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                pts.join(" "),
                COLORS[ci % COLORS.len()]
            );
            // Points too: a column measured at one N only has no line to draw.
            for pt in &pts {
                let (x, y) = pt.split_once(',').expect("x,y");
                let _ = writeln!(
                    s,
                    r#"<circle cx="{x}" cy="{y}" r="3" fill="{}"/>"#,
                    COLORS[ci % COLORS.len()]
                );
            }
        }
    }
    for (ci, c) in columns.iter().enumerate() {
        let y = margin + ph + 35.0 + 18.0 * ci as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{m}" x2="{}" y1="{y}" y2="{y}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{c}</text>"#,
            margin + 25.0,
            COLORS[ci % COLORS.len()],
            margin + 30.0,
            y + 4.0,
            m = margin
        );
    }
    s.push_str("</svg>\n");
    s
}
