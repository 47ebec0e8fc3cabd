"""The rule language: AST and printer (``dsl``), domains and parsing (``domain``), demonstration
files (``demo``) and the reference interpreter (``interp``), which is the executable spec."""
