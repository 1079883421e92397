//! The `sharpen` binary: parse, dispatch, report errors. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sharpen::cli::Cli::parse();
    let debug = cli.debug;
    match sharpen::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if debug => {
            eprintln!("error: {e:?}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", sharpen::cli::one_line(&e));
            ExitCode::from(2)
        }
    }
}
