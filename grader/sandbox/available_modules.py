"""What graded code may import: numpy and the standard library, and nothing else but stand-ins.

Read by both sides: by the worker's stand-ins (grader.sandbox.standins), which give any other
module a stand-in, and by the notes that tell the student which of their imports were given
one (grader.grading.load_notes), so that the two never disagree. Plain data: it imports
nothing of the grader.
"""

from __future__ import annotations

import sys

# Display and progress modules: their stand-ins accept anything, also inside a graded function.
DISPLAY_MODULES = frozenset({
    "matplotlib", "pylab", "seaborn", "plotly", "bokeh", "altair", "IPython", "ipywidgets", "tqdm",
})
# The real modules graded code imports; any other import by the student's code gets a stand-in.
ALLOWED_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"numpy"}
