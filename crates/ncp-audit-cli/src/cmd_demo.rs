pub(crate) fn run(_: &DemoArgs) -> anyhow::Result<std::process::ExitCode> { Ok(std::process::ExitCode::SUCCESS) }
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {}
