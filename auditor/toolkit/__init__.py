"""The measuring toolkit: the statistics, evaluation, encoding, slicing, figure and
calibration maths that checks share. It imports the plugin contract and the utilities
below it, never the engine, the report data, the renderers or a check."""
