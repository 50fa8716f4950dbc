//! The `dlrgate` binary: parses the command line and hands over to `cli::run`.

use clap::Parser;

/// mimalloc instead of the system allocator: profiles of `dlrgate bench` spent about 17 % of the
/// CPU in glibc's malloc and free (many small, short-lived allocations across threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = dlrgate::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dlrgate: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dlrgate::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dlrgate: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
