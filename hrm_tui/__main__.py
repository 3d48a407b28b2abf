"""`python -m hrm_tui` runs the `hrm` command line."""

from hrm_tui.cli import main

main()
