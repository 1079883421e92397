//! Where a backward's time goes, for `sharpen bench rl`: off by default (then it costs one
//! relaxed load per phase); when on, each phase waits for the device before its clock stops, so
//! the phases of an asynchronous GPU add up to the wall time.

use candle_core::Device;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

static ON: AtomicBool = AtomicBool::new(false);

/// The phases of [`super::Model::weighted_logprob_backward`].
#[derive(Debug, Clone, Copy)]
pub enum Phase {
    /// First pass over the layers (inference ops, segment inputs kept).
    Forward,
    /// Final norm, head and log-softmax with their backward, chunk by chunk.
    Head,
    /// Recomputing each segment and backpropagating through it.
    Layers,
    /// The embedding's backward and adding gradients up.
    Embedding,
}

const PHASES: [&str; 4] = ["forward", "head", "layers", "embedding"];
static NANOS: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Turn profiling on (clearing the totals) or off (keeping them for [`seconds`]).
pub fn enable(on: bool) {
    if on {
        for n in &NANOS {
            n.store(0, Ordering::Relaxed);
        }
    }
    ON.store(on, Ordering::Relaxed);
}

/// Seconds spent in each phase since [`enable`].
pub fn seconds() -> Vec<(&'static str, f64)> {
    PHASES.iter().zip(&NANOS).map(|(p, n)| (*p, n.load(Ordering::Relaxed) as f64 * 1e-9)).collect()
}

/// A running clock for one phase (None when profiling is off).
pub(crate) struct Clock(Option<Instant>);

impl Clock {
    pub fn start() -> Self {
        Clock(ON.load(Ordering::Relaxed).then(Instant::now))
    }

    /// Charge the time since the last lap to `phase` and restart.
    pub fn lap(&mut self, phase: Phase, device: &Device) -> candle_core::Result<()> {
        if let Some(t) = self.0 {
            device.synchronize()?;
            NANOS[phase as usize].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            self.0 = Some(Instant::now());
        }
        Ok(())
    }
}
