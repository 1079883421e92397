//! The `sharpen` binary: parse, dispatch, report errors. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sharpen::cli::Cli::parse();
    match sharpen::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", sharpen::cli::one_line(&e));
            ExitCode::from(2)
        }
    }
}
