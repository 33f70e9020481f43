"""brief: weekly multi-agent literature briefings."""

__version__ = "0.1.0"  # keep equal to pyproject.toml [project] version
