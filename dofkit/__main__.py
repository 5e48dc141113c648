"""`python -m dofkit`, and the `dofkit` command's entry point: the command line is loaded
inside :func:`main`, so that a Ctrl-C while Python loads it is one line, not a traceback."""

import sys


def main() -> None:
    """Load and run the command line (:func:`dofkit.cli.run`)."""
    try:
        from .cli import run
    except KeyboardInterrupt:
        sys.stderr.write("dofkit: error: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":  # worker processes (--jobs) import this module again
    main()
