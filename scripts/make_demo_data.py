"""Write the demo's shipped data and publish its three suites (run once; outputs are in git).

The generators, their tables and the suites' specs are in `evalkit/demo/authoring/`, whose
docstring says how the corpus, the SFT set, the chat data and the suites are kept apart.
With `--out ROOT` everything goes under ROOT instead of this checkout (`ROOT/evalkit/demo/data/`,
`ROOT/suites/`), e.g. to check that the shipped files are reproduced byte for byte:

    PYTHONPATH=. python scripts/make_demo_data.py
    PYTHONPATH=. python scripts/make_demo_data.py --out /tmp/demo-data
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evalkit.demo.authoring import write_demo_data

REPO = Path(__file__).parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO,
        metavar="ROOT",
        help="write ROOT/evalkit/demo/data/* and publish into ROOT/suites (default: this checkout)",
    )
    write_demo_data(parser.parse_args(argv).out)


if __name__ == "__main__":
    main()
