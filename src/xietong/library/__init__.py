"""The case library (F9 类案库, F10 类案推送, F15 同案不同判): records of concluded cases and imported
judgments, full-text search with facets, similar-case ranking that explains itself, and sentencing
consistency."""
