"""Output: compiling with Typst, and the Document users hold."""
