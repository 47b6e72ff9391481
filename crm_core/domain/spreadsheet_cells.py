"""Cells a spreadsheet would run as formulas, neutralised in every CSV the service writes, and read back.

A caller-ID name or a note typed as ``=HYPERLINK(...)`` (or ``+``, ``-``, ``@``, a tab or a carriage
return in front) becomes a live formula when a supervisor opens the export in a spreadsheet. OWASP's rule
("CSV Injection"): such a cell is written with a single quote in front, which spreadsheets read as "text".

Two refinements keep the files usable and the customer import exact:

- A cell that is a plain number (an optional sign, digits, at most one decimal point: ``+14155550123``,
  ``-12.50``) is written as it is: it holds no operator or function a spreadsheet could run, only a
  value, and a quote would turn a balance or an E.164 number into text for every other reader. The rule
  looks at the text, not at the column, so a caller number that is not such a number is quoted like
  any other cell.

- The quote added must be told from one the value had. A value made of quotes and then a formula
  character (``'=1``) gets one more quote too, and ``restored`` takes exactly one quote off a cell made
  of one or more quotes and then a formula character. So ``restored(neutralised(v)) == v`` for every
  ``v``; a hand-written import file whose cell is ``'=1`` reads as ``=1``.

The store's files write through ``crm_core.csv.lines.csv_line``; the console's report CSV
(``agent_console/api/reports.py``) calls ``neutralised`` itself, so the rule lives here, in the layer both
may use.
"""

from __future__ import annotations

import re

FORMULA_STARTS = "=+-@\t\r"
_STARTS = frozenset(FORMULA_STARTS + "'")  # a first character that may need a look (most cells: none)
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r]")


def neutralised(cell: str) -> str:
    """``cell`` as a spreadsheet may open it: a quote in front when it would start a formula."""
    if cell[:1] in _STARTS and _FORMULA.match(cell) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def restored(cell: str) -> str:
    """The value ``neutralised`` wrote ``cell`` for: one quote fewer in front of a formula character."""
    return cell[1:] if cell[:1] == "'" and _QUOTED_FORMULA.match(cell) else cell
