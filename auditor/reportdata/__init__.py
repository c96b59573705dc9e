"""The report as plain data: building report.json, reading and validating it, the diff
between two reports, the model card and the practice codes. It imports the contract,
the toolkit and the utilities, never the engine, the renderers or a check.
"""
