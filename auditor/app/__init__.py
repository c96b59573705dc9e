"""The use cases: an audit, a comparison and a review packet, each from inputs and a
policy to a report. They sit above the engine and the renderers and below the CLI.
"""
