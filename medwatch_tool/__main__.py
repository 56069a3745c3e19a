"""The `medwatch` console script, and `python -m medwatch_tool`: the CLI, with a Ctrl-C
pressed while it loads (a tenth of a second) said as an interruption, not a traceback."""
import signal
import sys


def run():
    try:
        from .cli import main
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stderr.write("\ninterrupted\n")
        sys.exit(130)
    main(prog_name="medwatch")


if __name__ == "__main__":
    run()
