"""Write the JSON Schemas of the toolkit's YAML files (for editors) from their pydantic models.

    .venv/bin/python scripts/export_json_schemas.py           # write lvv_eval/specs/schemas/
    .venv/bin/python scripts/export_json_schemas.py --check   # exit 1 when a file is stale

An editor with a YAML language server validates a file as you type when the file starts with
``# yaml-language-server: $schema=<path to the schema>``. The schemas say the structure; the
cross-checks (names of other sections, partitions, unambiguous spellings) run when the toolkit
loads the file (`lvv-eval` reports every problem with its YAML path).
"""

from __future__ import annotations

import json
import sys

from lvv_eval.capacity import CapacityFile
from lvv_eval.config import SPECS_DIR
from lvv_eval.ingest.spec_models import RepairsFile, RulesFile, SourceSpec
from lvv_eval.measures.definitions_models import DefinitionsFile
from lvv_eval.vocabulary import VocabularyTable

SCHEMAS_DIR = SPECS_DIR / "schemas"
MODELS = {
    "source_spec": SourceSpec,
    "definitions": DefinitionsFile,
    "validation_rules": RulesFile,
    "repairs": RepairsFile,
    "capacity": CapacityFile,
    "vocabulary_table": VocabularyTable,
}


def rendered() -> dict[str, str]:
    """File name -> JSON text of each schema."""
    out = {}
    for name, model in MODELS.items():
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  **model.model_json_schema(by_alias=True)}
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def main(argv: list[str]) -> int:
    files = rendered()
    if "--check" in argv:
        stale = [n for n, text in files.items()
                 if not (SCHEMAS_DIR / n).is_file()
                 or (SCHEMAS_DIR / n).read_text(encoding="utf-8") != text]
        if stale:
            print(f"stale JSON Schemas in {SCHEMAS_DIR}: {stale}; run scripts/export_json_schemas.py")
            return 1
        return 0
    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name, text in files.items():
        (SCHEMAS_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} schemas to {SCHEMAS_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
