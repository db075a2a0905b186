"""The benchmark of issue 6: seed a small and a large data set, serve it with gunicorn, measure.

Not part of the test suite (no ``test_*.py`` here): run ``python -m tests.benchmarks.seed`` and
``python -m tests.benchmarks.run`` (see the README's "Performance" section).
"""
