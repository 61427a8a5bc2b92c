"""Interventions (MORE and its comparators) as schedules plus the skills and parameters
they move."""

from .library import LIBRARY as LIBRARY
from .library import Component as Component
from .library import Intervention as Intervention
from .library import InterventionError as InterventionError
from .library import get_intervention as get_intervention
from .schedule import build_schedule as build_schedule

__all__ = ["LIBRARY", "Component", "Intervention", "InterventionError", "build_schedule",
           "get_intervention"]
