//! Plain-text rendering of the exact module's report tables.

use sharpen_toy::report::{Cell, Report, Table};
use std::fmt::Write;

fn fmt_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Num(x) if x.fract() == 0.0 && x.abs() < 1e9 => format!("{:.0}", x + 0.0),
        Cell::Num(x) if x.abs() >= 1e4 || (x.abs() < 1e-3 && *x != 0.0) => format!("{x:.3e}"),
        Cell::Num(x) => format!("{x:.4}"),
    }
}

pub fn render_table(t: &Table) -> String {
    let cells: Vec<Vec<String>> = t.rows.iter().map(|r| r.iter().map(fmt_cell).collect()).collect();
    let widths: Vec<usize> = (0..t.columns.len())
        .map(|j| cells.iter().map(|r| r[j].chars().count()).chain([t.columns[j].chars().count()]).max().unwrap_or(0))
        .collect();
    let line = |vals: Vec<&str>| -> String {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}", w = *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = String::new();
    writeln!(out, "## {}", t.title).unwrap();
    writeln!(out, "{}", line(t.columns.iter().map(|s| s.as_str()).collect())).unwrap();
    writeln!(out, "{}", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ")).unwrap();
    for r in &cells {
        writeln!(out, "{}", line(r.iter().map(|s| s.as_str()).collect())).unwrap();
    }
    out
}

pub fn render_report(r: &Report) -> String {
    let mut out = format!("# {}\n{}\n\n", r.scenario, r.message);
    for t in &r.tables {
        out.push_str(&render_table(t));
        out.push('\n');
    }
    out
}
