//! The `sharpen` binary: parse, dispatch, report errors. Its command-line tree is cli/; everything
//! else lives in the library.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    sharpen::device::keep_freed_memory();
    sharpen::device::fix_thread_count();
    let cli = cli::Cli::parse();
    let debug = cli.debug;
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if debug => {
            eprintln!("error: {e:?}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", cli::one_line(&e));
            ExitCode::from(2)
        }
    }
}
