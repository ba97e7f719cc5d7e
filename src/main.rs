//! `reelplan`: serve the API (default), migrate the database, seed it, or load-test it.

mod cli;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli::init_logging(&cli.log_format);
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => cli::serve(args).await,
        Command::Migrate(args) => cli::migrate(args).await,
        Command::Seed(args) => cli::seed(args).await,
        Command::Loadtest(options) => cli::loadtest(options).await,
    }
}
