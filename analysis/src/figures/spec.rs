//! A figure as data: panels of series of points. The same value is rendered to SVG and PNG and
//! written as the CSV of the plotted numbers, so the CSV is exactly what the picture shows.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem, named after what the figure shows.
    pub name: String,
    /// The figure's message.
    pub title: String,
    pub panels: Vec<Panel>,
    /// Panels per row.
    pub columns: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Drawn at log10(x); ticks labelled with x.
    Log10,
    /// Drawn at log2(x); ticks labelled with x (k = 1, 2, 4, …).
    Log2,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    /// Fixed range; None fits the data.
    pub range: Option<(f64, f64)>,
}

impl Axis {
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), scale: Scale::Linear, range: None }
    }
    pub fn log(mut self) -> Self {
        self.scale = Scale::Log10;
        self
    }
    pub fn log2(mut self) -> Self {
        self.scale = Scale::Log2;
        self
    }
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// The corner with the fewest data points under it.
    Auto,
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
    MiddleRight,
    Hidden,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub legend: Legend,
    /// Tick labels for integer x positions (bar charts over categories).
    pub x_ticks: Option<Vec<String>>,
}

impl Panel {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis) -> Self {
        Self { title: title.into(), x, y, series: Vec::new(), legend: Legend::Auto, x_ticks: None }
    }
    pub fn legend(mut self, l: Legend) -> Self {
        self.legend = l;
        self
    }
    pub fn with(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    LinePoints,
    Points,
    /// Vertical bars of this width (in x units) from 0 to y.
    Bars(f64),
    /// A line at y with a shaded band from lo to hi.
    Band,
    /// As `Band`, with a dashed line (to show a series that coincides with another).
    BandDashed,
    /// A vertical marker at each point's x (y ignored).
    VLine,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry (empty: no entry).
    pub label: String,
    pub style: Style,
    /// Index into the palette (see `render::PALETTE`).
    pub color: usize,
    pub points: Vec<Point>,
}

impl Series {
    pub fn new(label: impl Into<String>, style: Style, color: usize) -> Self {
        Self { label: label.into(), style, color, points: Vec::new() }
    }
    pub fn xy(mut self, pts: impl IntoIterator<Item = (f64, f64)>) -> Self {
        self.points.extend(pts.into_iter().map(|(x, y)| Point { x, y, lo: None, hi: None }));
        self
    }
    pub fn band(mut self, pts: impl IntoIterator<Item = (f64, f64, f64, f64)>) -> Self {
        self.points.extend(pts.into_iter().map(|(x, y, lo, hi)| Point { x, y, lo: Some(lo), hi: Some(hi) }));
        self
    }
}

/// Round to 10 significant digits and print the shortest form, so the CSV is stable across
/// last-bit differences of libm.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let r: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    format!("{:?}", r + 0.0)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Figure {
    /// The plotted numbers, one row per point: panel, series, x, y, lo, hi.
    pub fn csv(&self) -> String {
        let mut out = String::from("panel,series,x,y,lo,hi\n");
        for p in &self.panels {
            for s in &p.series {
                for pt in &s.points {
                    let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
                    writeln!(
                        out,
                        "{},{},{},{},{},{}",
                        quote(&p.title),
                        quote(&s.label),
                        num(pt.x),
                        num(pt.y),
                        opt(pt.lo),
                        opt(pt.hi)
                    )
                    .unwrap();
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_and_quoting() {
        let f = Figure {
            name: "t".into(),
            title: "t".into(),
            columns: 1,
            panels: vec![Panel::new("a, b", Axis::new("x"), Axis::new("y"))
                .with(Series::new("s", Style::Line, 0).xy([(1.0, 0.1 + 0.2)]))
                .with(Series::new("q\"", Style::Band, 1).band([(2.0, 0.5, 0.25, 0.75)]))],
        };
        assert_eq!(f.csv(), "panel,series,x,y,lo,hi\n\"a, b\",s,1.0,0.3,,\n\"a, b\",\"q\"\"\",2.0,0.5,0.25,0.75\n");
        assert_eq!(num(-0.0), "0.0");
        assert_eq!(num(1e-20), "1e-20");
    }
}
