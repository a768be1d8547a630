"""`python -m aot` runs the `waft` command line."""

from aot.cli import main

main(prog_name="waft")
