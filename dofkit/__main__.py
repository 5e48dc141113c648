from .cli import run

if __name__ == "__main__":  # worker processes (--jobs) import this module again
    run()
