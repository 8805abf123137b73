"""The `stance` command line: one subcommand per user task, each importing only what it needs."""
