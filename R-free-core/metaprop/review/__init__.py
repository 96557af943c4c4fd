"""This review: its rules (protocol), data/ reading and validation, the analyses and their outputs."""
