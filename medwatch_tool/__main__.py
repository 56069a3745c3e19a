"""`python -m medwatch_tool` runs the same CLI as the `medwatch` console script."""
from .cli import main

main(prog_name="medwatch")
