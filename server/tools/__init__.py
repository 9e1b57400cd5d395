"""Scripts run on purpose, not by students: the benchmark and the README's screenshot."""
