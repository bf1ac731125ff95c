"""Item analysis: what the stored runs of a suite version say about the suite itself.

- `responses`: every model's answer to every test item, gathered from scored runs;
- `classical`: difficulty, item-rest discrimination and the flags they raise;
- `irt`: a 1PL/2PL item response model (py-irt) when there are enough models;
- `labels`: suspected wrong gold answers (cleanlab; agreeing models);
- `coverage`: items and precision (MDE) per tag, task and language, against the spec's goals;
- `suite_analysis`: all of it for one version, as `evalkit suite analyze` prints and writes.
"""
