"""cmedins: build the de-identified Chinese medical instruction dataset CMedINS from hospital records."""

__version__ = "0.1.0"
