"""`python -m analyzer.plan`: print the rules table (rules as data) as Markdown, for clinical review."""
from __future__ import annotations

from analyzer.plan.render import Block, blocks_to_markdown
from analyzer.plan.rules import RULES
from analyzer.plan.sources import SOURCES


def rules_markdown() -> str:
    rows = [("Rule", "Kind", "Reads", "Condition (threshold: basis)", "Pain sites", "Phases", "Cue", "Sources")]
    for r in RULES:
        conds = [f"{c.describe()}: {c.basis_text()}" for c in r.all_of] + \
                [f"any of {c.describe()}: {c.basis_text()}" for c in r.any_of]
        rows.append((r.id, r.kind, ", ".join(r.reads) or "-", "; ".join(conds) or "always",
                     ", ".join(r.pain_sites) if r.pain_sites else "any", ", ".join(r.phases), r.cue_clinician,
                     ", ".join(r.sources)))
    blocks = [Block("h1", "Plan rules"), Block("table", rows=tuple(rows)), Block("h2", "Sources"),
              Block("ul", items=tuple(f"[{k}] {v}" for k, v in SOURCES.items()))]
    return blocks_to_markdown(blocks)


if __name__ == "__main__":
    print(rules_markdown(), end="")
