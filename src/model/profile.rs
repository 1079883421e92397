//! Where a backward's time goes, for `sharpen bench rl`: off unless `BackwardOptions::profile`
//! asks; then each phase waits for the device before its clock stops (so the phases of an
//! asynchronous GPU add up to the wall time), and the seconds add up in the backward's `Grads`.

use candle_core::Device;
use std::time::Instant;

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

/// The phases' names, in [`Phase`] order.
pub const PHASES: [&str; 4] = ["forward", "head", "layers", "embedding"];

/// A running clock for one phase (None when profiling is off).
pub(crate) struct Clock(Option<Instant>);

impl Clock {
    pub fn start(on: bool) -> Self {
        Clock(on.then(Instant::now))
    }

    /// Add the time since the last lap to `seconds[phase]` and restart.
    pub fn lap(&mut self, phase: Phase, device: &Device, seconds: &mut [f64; 4]) -> candle_core::Result<()> {
        if let Some(t) = self.0 {
            device.synchronize()?;
            seconds[phase as usize] += t.elapsed().as_secs_f64();
            self.0 = Some(Instant::now());
        }
        Ok(())
    }
}
