//! `sharpen convert`: a GGUF file (llama architecture) into a Hugging Face folder.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The .gguf file to read.
    pub gguf: PathBuf,
    /// The folder to create; it appears only when complete.
    pub out_dir: PathBuf,
    /// Replace OUT_DIR if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: &ConvertArgs) -> anyhow::Result<()> {
    sharpen::gguf::convert_cmd(&a.gguf, &a.out_dir, a.force)
}
