"""Moved to the package `backprop_checks`; this name stays for notebooks of the first edition."""

from backprop_checks import *  # noqa: F401,F403
from backprop_checks import CheckFailed, Checks  # noqa: F401
