"""hft: an electronic trading venue you can run on a laptop."""

__version__ = "0.1.0"
