"""Small utilities at the bottom of the package: lazy imports, wording, atomic file
writes, the error types, column kinds. They import nothing of auditor above them.
"""
