"""Hyperparameter search on Optuna: grid, random and Bayesian (TPE, GP) studies over training runs.

- :mod:`.runner`: :func:`run_study`, the generator the CLI and the Experiments workspace drive
- :mod:`.events`: its control object and frozen events (no torch, no optuna)
- :mod:`.storage`: storage URLs (SQLite, PostgreSQL, MySQL, journal files)
- :mod:`.samplers`: samplers and pruners by name
- :mod:`.results`: tables and plot data of a study (history, importances, parallel coordinates, contour)
- :mod:`.compare`: the lecture's comparison of grid, random and TPE on one budget
"""
