"""``POST /customers/import``: a CSV body streamed to a temporary file, then imported by the store (or
only matched and compared, on a dry run).

The body is checked to be UTF-8 and under the size cap while it is written to disk, so a refused upload
writes nothing to the store; only then does ``customer_csv.import_csv`` read the file line by line.
"""

from __future__ import annotations

import asyncio
import codecs
import tempfile
from pathlib import Path
from typing import IO

from aiohttp import web

from agent_console.api import views
from agent_console.api.context import config, store
from agent_console.api.errors import InvalidEncoding, TooLarge
from agent_console.api.fields import CHUNK, Query
from crm_core.domain.import_mapping import ImportMapping

MAX_REPORTED = 1_000  # lines of each kind listed in the response; the summary counts them all
MAPPING_PARAMETERS = ("map", "value", "default")  # ImportMapping.parse's arguments, in its order


async def import_customers(request: web.Request) -> web.Response:
    """The query's ``map``, ``value`` and ``default`` (each repeatable) map another system's columns and
    values onto the import's, in the command line's syntax (``crm_core/csv/mapping.py``); ``dry_run=true``
    writes nothing and lists what would become of each line. A mapping is checked before the body is read."""
    query = Query(request, ("dry_run",), repeatable=MAPPING_PARAMETERS)
    mapping = ImportMapping.parse(*(query.texts(name) for name in MAPPING_PARAMETERS))
    dry_run = query.boolean("dry_run") is True
    cap = config(request).max_import_bytes
    if request.content_length is not None and request.content_length > cap:
        raise TooLarge(cap)
    spool = await asyncio.to_thread(_spool_file)
    try:
        await _receive(request, spool, cap)
        report = views.ImportAnswer(MAX_REPORTED, dry_run)
        with await asyncio.to_thread(_reader, spool.name) as lines:
            summary = await store(request).customer_csv.import_csv(
                lines,
                on_rejected=report.rejected,
                on_row=report.row if dry_run else None,
                mapping=mapping,
                dry_run=dry_run,
            )
    finally:
        await asyncio.to_thread(spool.close)
    return web.json_response(report.json(summary))


def _reader(name: str) -> IO[str]:
    return Path(name).open(encoding="utf-8-sig", newline="")


def _spool_file() -> IO[bytes]:
    return tempfile.NamedTemporaryFile(prefix="switchboard-import-", suffix=".csv")


async def _receive(request: web.Request, spool: IO[bytes], cap: int) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = 0
    try:
        async for chunk in request.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > cap:
                raise TooLarge(cap)
            decoder.decode(chunk)
            await asyncio.to_thread(spool.write, chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidEncoding("the CSV file must be UTF-8") from None
    await asyncio.to_thread(spool.flush)
