//! Every figure of `sharpen`, one file each. A figure is computed as data ([`spec::Figure`]),
//! then written as NAME.csv (the plotted numbers), NAME.svg and NAME.png.
//!
//! [`exact`] lists the figures drawn from the exact module: they need no input, and the
//! committed figures/ folder must equal what they produce (a test compares the CSVs).
//! The LLM figures ([`llm`]) are drawn from run logs.

pub mod accuracy_paths;
pub mod exact_flow;
pub mod length_bias;
pub mod length_marginals;
pub mod llm;
pub mod perturbation;
pub mod power_mcmc;
pub mod power_temperature;
pub mod regime_targets;
pub mod render;
pub mod self_certainty;
pub mod sharpening_sign;
pub mod spec;
pub mod toy_training;
pub mod tree_common;

use crate::runs::Family;
use sharpen_toy::Regime;
pub use spec::{Axis, Figure, Legend, Panel, Point, Scale, Series, Style};
use std::path::Path;

/// A figure of the exact module: its file stem, what it shows, and how to compute it.
pub struct ExactFigure {
    pub name: &'static str,
    pub about: &'static str,
    pub build: fn() -> Figure,
}

/// Every exact-module figure, in the order `sharpen figures` draws them.
pub fn exact() -> Vec<ExactFigure> {
    vec![
        ExactFigure {
            name: regime_targets::NAME,
            about: "T1/T3: the regimes' targets side by side on the many-paths problem",
            build: regime_targets::figure,
        },
        ExactFigure {
            name: accuracy_paths::NAME,
            about: "T2/T3: accuracy against α (tempered) and β⁻¹ (tilted), and maj@k of π_ref",
            build: accuracy_paths::figure,
        },
        ExactFigure {
            name: sharpening_sign::NAME,
            about: "T2: how often sharpening lowers accuracy over seeded random problems",
            build: sharpening_sign::figure,
        },
        ExactFigure {
            name: length_bias::NAME,
            about: "T4/T8: mean length against α for sum, mean and fixed-length; T3 under fixed length",
            build: length_bias::figure,
        },
        ExactFigure {
            name: length_marginals::NAME,
            about: "T5: length marginals of π_ref^α for the paper's α values, α* marked",
            build: length_marginals::figure,
        },
        ExactFigure {
            name: power_temperature::NAME,
            about: "T6: sequence power against token temperature — KL, accuracy and length against α",
            build: power_temperature::figure,
        },
        ExactFigure {
            name: power_mcmc::NAME,
            about: "Power sampling by MCMC against the exact π_ref^α — TV against K, accuracy against α",
            build: power_mcmc::figure,
        },
        ExactFigure {
            name: exact_flow::NAME,
            about: "T7a: the exact gradient flow from π_ref, per regime (accuracy, mass on the mode string)",
            build: exact_flow::figure,
        },
        ExactFigure {
            name: toy_training::NAME,
            about: "T7b: training curves over many seeds per regime (accuracy, length, reward, clip rate)",
            build: toy_training::figure,
        },
        ExactFigure {
            name: self_certainty::NAME,
            about: "T7c: self-referential sharpening — where seeds end up, eigenvalues at the fixed points",
            build: self_certainty::figure,
        },
        ExactFigure {
            name: perturbation::NAME,
            about: "T7d: sensitivity of each regime's optimum to perturbations of π_ref",
            build: perturbation::figure,
        },
    ]
}

/// The palette index each regime family is drawn in, the same in every figure.
pub fn family_color(f: Family) -> usize {
    match f {
        Family::Task => 0,
        Family::Sharpening => 1,
        Family::Tilted => 2,
        Family::Tempered => 3,
        Family::Control => 6,
        Family::Other => 4,
    }
}

pub fn regime_color(r: &Regime) -> usize {
    family_color(crate::runs::family(r))
}

/// Write NAME.csv, NAME.svg and NAME.png into `dir`, each atomically.
pub fn write(fig: &Figure, dir: &Path) -> Result<(), render::RenderError> {
    let csv = dir.join(format!("{}.csv", fig.name));
    crate::atomic::write(&csv, fig.csv().as_bytes())
        .map_err(|source| render::RenderError::Io { path: csv.display().to_string(), source })?;
    render::write_images(fig, dir)
}
