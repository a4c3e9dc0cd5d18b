"""`python -m fovalidate`."""

from fovalidate.entry import main

main()
