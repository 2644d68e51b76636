"""Export and import of whole stores or single scopes as JSON Lines.

``Memory.export(path, user_id=...)`` / ``graphmem export`` write the records with all
their fields and, by default, their embeddings; ``Memory.import_from(path)`` /
``graphmem import`` read them back exactly (also into another backend). See
:mod:`graphmem.transfer.format` for the file layout.
"""

from graphmem.transfer.exporting import TransferCounts, export_records
from graphmem.transfer.files import first_line, open_text
from graphmem.transfer.format import FORMAT, VERSION, Header, is_export
from graphmem.transfer.importing import import_records

__all__ = [
    "FORMAT",
    "VERSION",
    "Header",
    "TransferCounts",
    "export_records",
    "first_line",
    "import_records",
    "is_export",
    "open_text",
]
