"""Output formats: histograms, tables, folded stacks, JSON."""
