"""Authoring the demo's shipped data: `evalkit/demo/data/*` and the suites `demo-law@v1` and
`demo-general@v1` (run once by `scripts/make_demo_data.py`; the outputs are in git).

Everything is about the fictional Republic of Norvale and its Code, so no real law or
public benchmark is copied. One table of provisions (role + act + fine) feeds everything;
each act is used by exactly one part, which keeps the parts apart by construction:

- acts 0-5 of each area are the Code itself (pre-training corpus); the suite's closed-book
  `qa` items ask about acts 0-1, the SFT set's `qa` about acts 2-5;
- acts 6-10 are the SFT set's and the suite's dev items' reading tasks;
- acts 11-12, 13-14 and 15-16 are the suite's test items for classification, extraction
  and mcq: text the models never saw.

General chat data and the demo-general suite share skills (arithmetic, sentiment, word
categories, name/age extraction) but never an item: test items use their own phrasing or
combinations, and `evalkit contamination` confirms it.

The tables are data, beside the code: `tables/*.yaml` (the areas with their roles and acts,
sentiment phrases, word categories, people, additions, small talk) and the three suites' specs
as draft specs, `specs/<suite>/suite.yaml`. The modules, in the order they run:

- `tables`: typed loaders of the tables and specs;
- `norvale`: which acts each part uses, the Code's articles and its text (the corpus);
- `law`: the demo-law items and the domain SFT set;
- `general`: the demo-general items and the chat dialogues;
- `writing_items`: the demo-writing items (an article of the Code, stated in a sentence);
- `decontamination`: drops training records that share a test item's text;
- `writing`: writes the data files and publishes the suites under a root folder.

The tables and specs are read in file order and a seeded random generator draws from them,
so editing, reordering or appending to any of them changes the shipped data.
"""

from evalkit.demo.authoring.writing import Outputs, write_demo_data

__all__ = ["Outputs", "write_demo_data"]
