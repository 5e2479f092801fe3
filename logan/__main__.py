"""`python -m logan` runs the CLI."""

from logan.cli import main

main()
