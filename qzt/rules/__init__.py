"""The regulation as plain Python: no Flask, no database. Each module is tested on its own."""
