"""The package format's JSON Schema documents (data, shipped with the package)."""
