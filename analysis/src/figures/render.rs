//! Drawing a [`Figure`] with plotters, to SVG and to PNG.
//!
//! PNG text is rasterised with ab_glyph from a font compiled into the binary (DejaVu Sans,
//! analysis/assets), so figures render identically on a machine with no system fonts.

use super::spec::{Figure, Legend, Panel, Point, Scale, Style};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Colour-blind-safe palette (Okabe–Ito, then greys).
pub const PALETTE: [RGBColor; 9] = [
    RGBColor(0, 114, 178),   // 0 blue
    RGBColor(213, 94, 0),    // 1 vermillion
    RGBColor(0, 158, 115),   // 2 green
    RGBColor(230, 159, 0),   // 3 orange
    RGBColor(204, 121, 167), // 4 purple
    RGBColor(86, 180, 233),  // 5 sky blue
    RGBColor(120, 120, 120), // 6 grey
    RGBColor(0, 0, 0),       // 7 black
    RGBColor(240, 228, 66),  // 8 yellow
];

const FONT: &str = "sans-serif";
const PANEL_W: u32 = 640;
const PANEL_H: u32 = 470;
const TITLE_SIZE: u32 = 26;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("drawing {figure}: {message}")]
    Draw { figure: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// An I/O error of a temporary file; the caller names the file it was for.
impl From<std::io::Error> for RenderError {
    fn from(source: std::io::Error) -> Self {
        RenderError::Io { path: String::new(), source }
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is compiled in and known to parse; a failure would only lose PNG text.
            let _ = plotters::style::register_font(FONT, style, bytes);
        }
    });
}

pub fn size(fig: &Figure) -> (u32, u32) {
    let cols = fig.columns.max(1).min(fig.panels.len().max(1)) as u32;
    let rows = fig.panels.len().div_ceil(cols as usize).max(1) as u32;
    let w = (cols * PANEL_W).max(1100);
    (w, rows * PANEL_H + title_lines(&fig.title, w).len() as u32 * (TITLE_SIZE + 8) + 20)
}

/// Greedy word wrap at the width the title font allows.
fn title_lines(title: &str, width: u32) -> Vec<String> {
    let max_chars = (width as f64 / (TITLE_SIZE as f64 * 0.55)) as usize;
    let mut lines = vec![String::new()];
    for word in title.split_whitespace() {
        let cur = lines.last_mut().unwrap();
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max_chars {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

/// Write `dir/NAME.svg` and `dir/NAME.png`, each atomically.
pub fn write_images(fig: &Figure, dir: &Path) -> Result<(), RenderError> {
    register_font();
    let dims = size(fig);
    let svg_path = dir.join(format!("{}.svg", fig.name));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, dims).into_drawing_area();
        draw(root, fig)?;
    }
    crate::atomic::write(&svg_path, svg.as_bytes())
        .map_err(|source| RenderError::Io { path: svg_path.display().to_string(), source })?;

    // The bitmap backend picks its encoder from the extension: the temporary file keeps ".png".
    let png_path = dir.join(format!("{}.png", fig.name));
    crate::atomic::write_with(&png_path, |tmp| {
        let root = BitMapBackend::new(tmp, dims).into_drawing_area();
        draw(root, fig)
    })
    .map_err(|e| match e {
        RenderError::Io { source, .. } => RenderError::Io { path: png_path.display().to_string(), source },
        other => other,
    })
}

fn err<E: std::fmt::Display>(fig: &Figure) -> impl Fn(E) -> RenderError + '_ {
    move |e| RenderError::Draw { figure: fig.name.clone(), message: e.to_string() }
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &Figure) -> Result<(), RenderError> {
    root.fill(&WHITE).map_err(err(fig))?;
    let (w, _) = root.dim_in_pixel();
    let lines = title_lines(&fig.title, w);
    let title_h = lines.len() as u32 * (TITLE_SIZE + 8) + 20;
    let (top, body) = root.split_vertically(title_h);
    let style = TextStyle::from((FONT, TITLE_SIZE).into_font()).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Top,
    ));
    for (i, line) in lines.iter().enumerate() {
        top.draw_text(line, &style, ((w / 2) as i32, 12 + i as i32 * (TITLE_SIZE as i32 + 8))).map_err(err(fig))?;
    }
    let cols = fig.columns.max(1).min(fig.panels.len().max(1));
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let areas = body.split_evenly((rows, cols));
    for (panel, area) in fig.panels.iter().zip(areas) {
        draw_panel(&area, panel).map_err(err(fig))?;
    }
    root.present().map_err(err(fig))?;
    Ok(())
}

fn tx(scale: Scale, x: f64) -> Option<f64> {
    match scale {
        Scale::Linear => Some(x),
        Scale::Log10 if x > 0.0 => Some(x.log10()),
        Scale::Log2 if x > 0.0 => Some(x.log2()),
        Scale::Log10 | Scale::Log2 => None,
    }
}

fn padded(lo: f64, hi: f64, pad: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let d = lo.abs().max(1.0) * 0.05;
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * pad;
    (lo - d, hi + d)
}

fn ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for s in &p.series {
        let half = if let Style::Bars(w) = s.style { w / 2.0 } else { 0.0 };
        for pt in &s.points {
            if let Some(x) = tx(p.x.scale, pt.x) {
                x0 = x0.min(x - half);
                x1 = x1.max(x + half);
            }
            if s.style == Style::VLine {
                continue;
            }
            for y in [Some(pt.y), pt.lo, pt.hi].into_iter().flatten().filter(|y| y.is_finite()) {
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
            if half > 0.0 {
                y0 = y0.min(0.0);
            }
        }
    }
    let xr = match p.x.range {
        Some((a, b)) => (tx(p.x.scale, a).unwrap_or(x0), tx(p.x.scale, b).unwrap_or(x1)),
        None => padded(x0, x1, if p.x.scale == Scale::Linear { 0.03 } else { 0.02 }),
    };
    let yr = p.y.range.unwrap_or_else(|| padded(y0, y1, 0.06));
    (xr, yr)
}

fn fmt_tick(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v + 0.0)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

type Res<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> Res<DB> {
    let ((x0, x1), (y0, y1)) = ranges(p);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let xscale = p.x.scale;
    let ticks = p.x_ticks.clone();
    let x_fmt = move |v: &f64| -> String {
        if let Some(t) = &ticks {
            let i = v.round();
            return if (v - i).abs() < 1e-6 && i >= 0.0 {
                t.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            };
        }
        // Log axes label whole powers only.
        let whole = (v - v.round()).abs() < 1e-6;
        match xscale {
            Scale::Linear => fmt_tick(*v),
            Scale::Log10 if whole => fmt_tick(10f64.powf(v.round())),
            Scale::Log2 if whole => fmt_tick(2f64.powf(v.round())),
            _ => String::new(),
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(&p.x.label)
        .y_desc(&p.y.label)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .bold_line_style(BLACK.mix(0.10))
        .light_line_style(WHITE.mix(0.0))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|v| fmt_tick(*v));
    if let Some(t) = &p.x_ticks {
        mesh.x_labels(t.len() + 1);
    }
    if p.x.scale != Scale::Linear {
        mesh.x_labels(((x1 - x0).ceil() as usize + 1).max(2));
    }
    mesh.draw()?;

    let mut labelled = false;
    for s in &p.series {
        let color = PALETTE[s.color % PALETTE.len()];
        let pts: Vec<(f64, f64, &Point)> =
            s.points.iter().filter_map(|pt| tx(xscale, pt.x).map(|x| (x, pt.y, pt))).collect();
        let xy: Vec<(f64, f64)> = pts.iter().map(|(x, y, _)| (*x, *y)).filter(|(_, y)| y.is_finite()).collect();
        let line = color.stroke_width(3);
        let anno = match s.style {
            Style::Line => Some(chart.draw_series(LineSeries::new(xy, line))?),
            Style::Dashed => Some(chart.draw_series(DashedLineSeries::new(xy, 10, 6, line))?),
            Style::LinePoints => {
                chart.draw_series(LineSeries::new(xy.clone(), line))?;
                Some(chart.draw_series(xy.into_iter().map(|c| Circle::new(c, 4, color.filled())))?)
            }
            Style::Points => {
                Some(chart.draw_series(xy.into_iter().map(|c| Circle::new(c, 5, color.mix(0.8).filled())))?)
            }
            Style::Bars(w) => Some(chart.draw_series(
                xy.into_iter().map(|(x, y)| Rectangle::new([(x - w / 2.0, 0.0), (x + w / 2.0, y)], color.filled())),
            )?),
            Style::Band | Style::BandDashed => {
                let upper = pts.iter().filter_map(|(x, _, pt)| pt.hi.map(|h| (*x, h)));
                let lower: Vec<(f64, f64)> = pts.iter().filter_map(|(x, _, pt)| pt.lo.map(|l| (*x, l))).collect();
                let poly: Vec<(f64, f64)> = upper.chain(lower.into_iter().rev()).collect();
                chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.18).filled())))?;
                if s.style == Style::BandDashed {
                    Some(chart.draw_series(DashedLineSeries::new(xy, 10, 6, line))?)
                } else {
                    Some(chart.draw_series(LineSeries::new(xy, line))?)
                }
            }
            Style::VLine => {
                let mut last = None;
                for (x, _) in xy {
                    last = Some(chart.draw_series(DashedLineSeries::new(
                        vec![(x, y0), (x, y1)],
                        8,
                        6,
                        color.stroke_width(2),
                    ))?);
                }
                last
            }
        };
        if let (Some(anno), false) = (anno, s.label.is_empty()) {
            labelled = true;
            let anno = anno.label(&s.label);
            match s.style {
                Style::Bars(_) | Style::Band | Style::BandDashed => {
                    anno.legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.mix(0.8).filled()))
                }
                Style::Points => anno.legend(move |(x, y)| Circle::new((x + 9, y), 5, color.filled())),
                Style::Dashed | Style::VLine => anno.legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (6, 0)], color.stroke_width(3))
                        + PathElement::new(vec![(10, 0), (16, 0)], color.stroke_width(3))
                        + PathElement::new(vec![(20, 0), (24, 0)], color.stroke_width(3))
                }),
                _ => anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))),
            };
        }
    }
    if labelled && p.legend != Legend::Hidden {
        let labels = p.series.iter().filter(|s| !s.label.is_empty()).count();
        let legend = if p.legend == Legend::Auto { auto_legend(p, labels, (x0, x1), (y0, y1)) } else { p.legend };
        let pos = match legend {
            Legend::UpperRight | Legend::Hidden | Legend::Auto => SeriesLabelPosition::UpperRight,
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            Legend::MiddleRight => SeriesLabelPosition::MiddleRight,
        };
        chart
            .configure_series_labels()
            .position(pos)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, 15))
            .draw()?;
    }
    Ok(())
}

/// The corner whose legend box (about 45% wide, one row per entry) covers the fewest points.
fn auto_legend(p: &Panel, labels: usize, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Legend {
    let h = (0.075 * labels as f64 + 0.04).min(0.9);
    let w = 0.45;
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for s in p.series.iter().filter(|s| s.style != Style::VLine) {
        let xy: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|pt| tx(p.x.scale, pt.x).map(|x| ((x - x0) / (x1 - x0), (pt.y - y0) / (y1 - y0))))
            .collect();
        // Sample along segments so that lines crossing a corner count, not just their vertices.
        for win in xy.windows(2) {
            for i in 0..8 {
                let t = i as f64 / 8.0;
                pts.push((win[0].0 + t * (win[1].0 - win[0].0), win[0].1 + t * (win[1].1 - win[0].1)));
            }
        }
        pts.extend(xy.last());
    }
    let corners = [
        (Legend::UpperRight, (1.0 - w, 1.0), (1.0 - h, 1.0)),
        (Legend::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (Legend::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (Legend::LowerLeft, (0.0, w), (0.0, h)),
        (Legend::MiddleRight, (1.0 - w, 1.0), (0.5 - h / 2.0, 0.5 + h / 2.0)),
    ];
    let count = |(xa, xb): (f64, f64), (ya, yb): (f64, f64)| {
        pts.iter().filter(|(x, y)| *x >= xa && *x <= xb && *y >= ya && *y <= yb).count()
    };
    corners.iter().min_by_key(|(_, xr, yr)| count(*xr, *yr)).map(|c| c.0).unwrap_or(Legend::UpperRight)
}
