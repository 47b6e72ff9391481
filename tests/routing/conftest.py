"""Puts the repository root on ``sys.path`` so ``import routing`` works without installing the project.

The project is not installed in the development venv and pyproject sets no pytest ``pythonpath``; once
either is done this file can go.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
