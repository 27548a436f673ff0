"""The build: recipes, the local runner, caching and the build report. Entry point: `python -m cmedins.build`."""
