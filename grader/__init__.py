"""Auto-grader for numpy homework: hidden property checks against sandboxed student code."""

__version__ = "0.1.0"
