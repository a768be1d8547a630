"""`python -m waftkit` runs the `waft` command line."""

from waftkit.cli import main

main(prog_name="waft")
