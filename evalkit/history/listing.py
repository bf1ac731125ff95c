"""What `evalkit runs` prints: one line per scored run, then the folders that are not."""

from __future__ import annotations

from evalkit.history.index import RunListing, RunRecord


def _matches(record: RunRecord, suite: str | None) -> bool:
    if suite is None:
        return True
    return any(ref == suite or ref.split("@")[0] == suite for ref in record.suite_refs)


def listing_lines(listing: RunListing, suite: str | None = None) -> list[str]:
    """The scored runs (oldest first) with their headline score per model and suite."""
    records = [r for r in listing.runs if _matches(r, suite)]
    lines = [f"{len(records)} scored run(s)" + (f" of {suite}" if suite else "")]
    tagged: dict[str, list[str]] = {}
    for tag, run_id in listing.tags.items():
        tagged.setdefault(run_id, []).append(tag)
    for record in records:
        tags = f"  [{', '.join(tagged[record.run_id])}]" if record.run_id in tagged else ""
        lines.append(
            f"{record.run_id}  {record.ended_at[:19]}  {', '.join(record.suite_refs)}  "
            f"(baseline {record.baseline}){tags}"
        )
        for model in record.model_names:
            scores = record.headline.get(model, {})
            cells = ", ".join(f"{ref} {value:.3f}" for ref, value in scores.items())
            lines.append(f"    {model:<20} {cells}")
    for path in listing.unscored:
        lines.append(f"unscored: {path} (generation finished; evalkit score {path} scores it)")
    for path in listing.incomplete:
        lines.append(
            f"incomplete: {path} (killed before it finished; rerun with run_id={path.name} "
            "to complete it from the cache)"
        )
    return lines
