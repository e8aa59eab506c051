"""Report outputs: files (JSON, JSONL, CSV), the console summary, and HTML pages."""
