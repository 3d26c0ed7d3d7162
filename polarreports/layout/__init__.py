"""Layout: the Typst source of a report."""
