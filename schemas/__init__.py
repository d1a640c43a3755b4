from pathlib import Path

#: Folder of the JSON Schemas (definitions/, facts/, events/, extension.schema.json).
PATH = Path(__file__).parent
