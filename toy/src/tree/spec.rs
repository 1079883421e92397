//! Families by name with per-family defaults, for the command line and the scenarios.

use super::families::{FixedLength, Geometric, Loop, Reasoning};
use super::model::{Family, Tree};
use crate::error::ToyError;

/// Optional overrides of a family's parameters (`None` keeps the family's default).
#[derive(Debug, Clone, Default)]
pub struct FamilyOptions {
    pub vocab: Option<usize>,
    pub max_len: Option<usize>,
    /// Geometric: the stop probability; reasoning: the chance to conclude; loop: the loop's EOS.
    pub stop: Option<f64>,
    pub zipf: Option<f64>,
    pub p_direct: Option<f64>,
    pub acc_direct: Option<f64>,
    pub acc_cot: Option<f64>,
    pub p_loop: Option<f64>,
    pub acc: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FamilyKind {
    Geometric(Geometric),
    Reasoning(Reasoning),
    Loop(Loop),
}

/// A named family, possibly wrapped in [`FixedLength`].
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySpec {
    pub kind: FamilyKind,
    pub fixed_length: bool,
}

/// The family names the command line accepts.
pub const FAMILY_NAMES: &str =
    "geometric, reasoning, loop, fixed-length (= fixed-length:reasoning), fixed-length:FAMILY";

impl FamilySpec {
    /// Parse `geometric | reasoning | loop | fixed-length | fixed-length:FAMILY`.
    pub fn parse(name: &str, o: &FamilyOptions) -> Result<Self, ToyError> {
        let (fixed_length, inner) = match name.strip_prefix("fixed-length") {
            Some("") => (true, "reasoning"),
            Some(rest) => match rest.strip_prefix(':') {
                Some(inner) => (true, inner),
                None => (false, name),
            },
            None => (false, name),
        };
        let kind = match inner {
            "geometric" => FamilyKind::Geometric(Geometric::new(
                o.vocab.unwrap_or(2),
                o.stop.unwrap_or(0.3),
                o.zipf,
                o.max_len.unwrap_or(12),
            )?),
            "reasoning" => FamilyKind::Reasoning(Reasoning::new(
                o.vocab.unwrap_or(4),
                o.max_len.unwrap_or(8),
                o.stop.unwrap_or(0.3),
                o.p_direct.unwrap_or(0.3),
                o.acc_direct.unwrap_or(0.2),
                o.acc_cot.unwrap_or(0.95),
            )?),
            "loop" => FamilyKind::Loop(Loop::new(
                o.vocab.unwrap_or(3),
                o.max_len.unwrap_or(12),
                o.stop.unwrap_or(0.05),
                o.p_loop.unwrap_or(0.2),
                o.acc.unwrap_or(0.7),
            )?),
            _ => return Err(ToyError::UnknownName { what: "tree family", got: name.into(), expected: FAMILY_NAMES }),
        };
        Ok(Self { kind, fixed_length })
    }

    /// The family as a [`Family`] object (wrapped when fixed-length).
    pub fn family(&self) -> Box<dyn Family> {
        match (&self.kind, self.fixed_length) {
            (FamilyKind::Geometric(f), false) => Box::new(f.clone()),
            (FamilyKind::Geometric(f), true) => Box::new(FixedLength(f.clone())),
            (FamilyKind::Reasoning(f), false) => Box::new(f.clone()),
            (FamilyKind::Reasoning(f), true) => Box::new(FixedLength(f.clone())),
            (FamilyKind::Loop(f), false) => Box::new(f.clone()),
            (FamilyKind::Loop(f), true) => Box::new(FixedLength(f.clone())),
        }
    }

    /// Expand into a tree, refusing more than `max_nodes` prefixes (the geometric family's
    /// size, Σ_{d ≤ L} V^d, is checked before any work).
    pub fn build(&self, max_nodes: usize) -> Result<Tree, ToyError> {
        if let FamilyKind::Geometric(g) = &self.kind {
            let mut total: f64 = 0.0;
            for d in 0..=g.max_len {
                total += (g.vocab as f64).powi(d as i32);
            }
            if total > max_nodes as f64 {
                return Err(ToyError::Invalid(format!(
                    "{}: the tree has {total:.3e} prefixes, more than {max_nodes} (lower --vocab or --max-len)",
                    self.family().name()
                )));
            }
        }
        Tree::build(self.family().as_ref(), max_nodes)
    }

    /// The geometric family with its EOS (where α* is defined); `None` otherwise.
    pub fn geometric(&self) -> Option<&Geometric> {
        match (&self.kind, self.fixed_length) {
            (FamilyKind::Geometric(g), false) => Some(g),
            _ => None,
        }
    }
}
