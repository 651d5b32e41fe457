"""Work around CPython 3.11.7's ast state bug (gh-106905, fixed in 3.11.8).

With Qt, qasync and stream threads running, 3.11.7's ast module can be left with a skewed
recursion counter; any later ast.parse then fails with "AST constructor recursion depth
mismatch". pytest parses (assertion rewriting) when the hypothesis plugin imports this module
lazily at the terminal summary, turning a green run into a crash. Importing it up front means
nothing is left to parse then.
"""

import hypothesis.internal.observability  # noqa: F401
