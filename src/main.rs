//! `reelplan`: serve the API (default), migrate the database, seed it, load-test it,
//! benchmark its live-update streams, or sweep its object store.

mod cli;

use clap::Parser;

use cli::{Cli, Command};

/// A server's allocator: glibc's malloc and free took about a quarter of the server's CPU on
/// the load mix (BENCHMARKS.md); mimalloc's thread-local free lists cost a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli::init_logging(&cli.log_format);
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => cli::serve(args).await,
        Command::Migrate(args) => cli::migrate(args).await,
        Command::Seed(args) => cli::seed(args).await,
        Command::Loadtest(options) => cli::loadtest(options).await,
        Command::Streams(options) => cli::streams(options).await,
        Command::Sweep(args) => cli::sweep(args).await,
        Command::Openapi => {
            println!("{}", reelplan_server::routes::openapi_json());
            Ok(())
        }
    }
}
