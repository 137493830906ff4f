"""Pure writers: a Report in, a JSON-ready dict or a string out."""
