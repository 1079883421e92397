//! Differential tests against Math-Verify (the authors' call), mutation checks and totality.

mod agreement;
mod mutation;
mod total;
