//! writeback-wizard: parse the command line, run, print any error once, exit with its documented code.

use std::process::ExitCode;

use clap::Parser;
use writeback_wizard::cli::{Cli, run};
use writeback_wizard::error::exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("writeback-wizard: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("writeback-wizard: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
