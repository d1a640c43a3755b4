from pathlib import Path

#: Folder of the shipped default definitions, one sub-folder per kind.
PATH = Path(__file__).parent
