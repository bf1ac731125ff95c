"""LLM judges and expert ratings of open-ended answers, on a suite's rubric.

Modules (imported where needed, so that `import evalkit` stays light): `ratings` (the expert
ratings file the app exports and `evalkit score ratings=FILE` reads).
"""
