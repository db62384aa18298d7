//! The `bedrock-watch` binary: everything it does is a library function in `bedrock_watch`.

fn main() -> std::process::ExitCode {
    bedrock_watch::cli::main()
}
