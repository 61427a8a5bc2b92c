"""The ``dyadsim`` command line.

Commands: ``graph`` (the model's causal graph as JSON, Graphviz DOT or Mermaid), ``params``
(every declared parameter), ``populations`` (the population presets), ``simulate`` (run a
scenario and write trajectories, a per-dyad table, a summary and a manifest into a folder),
``demo`` (the default scenario against low-risk mothers, as one table), ``check`` (the
perinatal course at default parameters against published ranges), ``trial`` (run an
in-silico randomised trial from a TOML spec, once or as replicates), ``power`` (power
by simulation over sample sizes), ``report`` (one self-contained HTML report of a run) and
``explore`` (the local web explorer). Long commands show a progress bar with ETA on a
terminal only; ``--quiet`` hides it.

Bad input (a scenario, parameter, population, node, start, horizon or record option that
the model refuses) ends the command with one line ``error: ...`` on stderr and exit code 2,
before anything is written.

The commands live by topic: :mod:`.model` (graph, params, populations, interventions,
methods, outcomes, instruments), :mod:`.run` (simulate, demo, check), :mod:`.trials` (trial,
power, predict), :mod:`.analysis` (mechanisms, knockout, sensitivity), :mod:`.view` (report,
explore) and :mod:`.calibration` (validate, calibrate); what several topics use is in
:mod:`._common`. Each registers its commands on ``app`` when imported; Typer lists them in
that order, so the imports below keep it.
"""

from ._common import app, main

# isort: off
from . import model, run, trials, analysis, view, calibration  # noqa: F401  (registers them)
# isort: on

__all__ = ["app", "main"]
