"""`python -m fovalidate`."""

from fovalidate.cli import main

main()
