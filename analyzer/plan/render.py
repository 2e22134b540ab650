"""Render a `Plan` in two voices.

- clinician: reasons, thresholds and their basis, measurement noise, evidence (full references).
- patient: plain, short and kind; fits on one or two printed pages; no numbers beyond the goals.

Each voice is first built as a list of blocks (heading / paragraph / list / table), then written as Markdown or as a
self-contained printable HTML page, so both formats say exactly the same thing.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Literal, Sequence

from analyzer.core.fmt import fmt_num
from analyzer.plan.engine import Phase, Plan, TargetSpec, hold_summary

Voice = Literal["clinician", "patient"]


@dataclass(frozen=True)
class Block:
    kind: Literal["h1", "h2", "h3", "p", "ul", "table"]
    text: str = ""
    items: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()  # first row = header


def _fmt(x: float) -> str:
    """A plan number: one decimal at most ("3", "2.5")."""
    return fmt_num(x, 1, trim=True)


def _target_line(t: TargetSpec) -> str:
    sym = ">=" if t.direction == "increase" else "<="
    return (f"{t.label}: {_fmt(t.baseline)} -> {sym} {_fmt(t.goal)} {t.unit} ({t.goal_text}; "
            f"noise +/-{_fmt(t.noise)} {t.unit})")


# ---- clinician ---------------------------------------------------------------------------------------------------

def _not_assessed_item(n: dict) -> str:
    """'metric (side view): reason'; no view when the metric needs none in particular (anterior pelvic tilt)."""
    view = n.get("view_needed")
    return f"{n['metric']}" + (f" ({view} view)" if view not in (None, "none") else "") + f": {n['reason']}"

def clinician_blocks(plan: Plan) -> list[Block]:
    inp = plan.inputs
    b: list[Block] = [Block("h1", "Running retraining plan - clinician view")]
    facts = [f"Pain site: {inp['pain_site']}"]
    if inp.get("pain_score") is not None:
        facts.append(f"pain {inp['pain_score']:g}/10")
    if inp.get("pain_next_morning"):
        facts.append(f"next morning: {inp['pain_next_morning']}")
    if inp.get("weekly_km") is not None:
        facts.append(f"volume {inp['weekly_km']:g} km/week")
    if inp.get("goal"):
        facts.append(f"goal: {user_text(inp['goal'])}")
    b.append(Block("p", "; ".join(facts) + "."))
    b.append(Block("h2", "Primary target"))
    b.append(Block("p", f"**{plan.primary_target or 'none'}** - {plan.primary_reason}"))
    if plan.findings:
        b.append(Block("h2", "Findings (rules that fired)"))
        rows = [("Rule", "Measured", "Condition", "Basis", "Sources")]
        for f in plan.findings:
            if f.kind != "target" and not f.measured:
                continue
            measured = ", ".join(f"{k}={_fmt(v) if isinstance(v, (int, float)) else v}" for k, v in f.measured.items())
            rows.append((f.title, measured, "; ".join(f.conditions), "; ".join(f.basis), ", ".join(f.sources)))
        if len(rows) > 1:
            b.append(Block("table", rows=tuple(rows)))
    if plan.not_assessed:
        b.append(Block("h2", "Not assessed"))
        b.append(Block("ul", items=tuple(_not_assessed_item(n) for n in plan.not_assessed)))
    st = plan.status or {}
    if st.get("current_phase"):
        b.append(Block("p", f"Status: current phase **{st['current_phase']}**; completed: "
                            f"{', '.join(st.get('completed', [])) or '-'}."))
    if st.get("checks"):
        b.append(Block("p", "Last re-test, phase by phase (goal, noise and steps held):"))
        b.append(Block("ul", items=tuple(check_line(r.get("phase", ""), c) for r in st["checks"]
                                         for c in r.get("checks", []))))
    for i, ph in enumerate(plan.phases):
        b.extend(_clinician_phase(i, ph, _mark(plan, ph)))
    b.append(Block("h2", "Safety"))
    b.append(Block("ul", items=(f"Pain-monitoring rule: {plan.pain_rule.text} [{plan.pain_rule.source}]",
                                *(f"{a.text} [{a.source}]" for a in plan.safety))))
    b.append(Block("h3", "Red flags - examine / refer before continuing"))
    b.append(Block("ul", items=tuple(plan.red_flags)))
    b.append(Block("h2", "Measurement noise"))
    b.append(Block("p", plan.noise_definition))
    if plan.hold_definition:
        b.append(Block("p", plan.hold_definition))
    b.append(Block("h2", "References"))
    b.append(Block("ul", items=tuple(f"[{k}] {v}" for k, v in plan.sources.items())))
    return b


def check_line(phase: str, c: dict) -> str:
    """One re-test check (a TargetCheck dict; old ones without the hold fields too) as one line: the verdict, and the
    steps held when met, else every reason it is not."""
    value = "not measured" if c.get("value") is None else f"{_fmt(c['value'])} (baseline {_fmt(c['baseline'])})"
    extra = hold_summary(c) if c.get("met") else (c.get("reason") or "")
    return (f"{phase}: {c.get('metric')} {value}, goal {_fmt(c['goal'])}: {'met' if c.get('met') else 'not met'}"
            + (f" - {extra}" if extra else ""))


def _mark(plan: Plan, ph: Phase) -> str:
    st = plan.status or {}
    if ph.key == st.get("current_phase"):
        return "current"
    return "done" if ph.key in st.get("completed", []) else ""


def _clinician_phase(i: int, ph: Phase, mark: str = "") -> list[Block]:
    out = [Block("h2", f"Phase {i} - {ph.name} ({ph.weeks_text}){' - ' + mark.upper() if mark else ''}")]
    if ph.targets:
        out.append(Block("p", "Targets for the next clip:"))
        out.append(Block("ul", items=tuple(_target_line(t) for t in ph.targets)))
    for title, items in (("Cues", ph.cues), ("Drills", ph.drills), ("Feedback", ph.feedback),
                         ("Strength", ph.strength), ("Recovery", ph.recovery), ("Running", ph.running)):
        if items:
            out.append(Block("p", f"{title}:"))
            out.append(Block("ul", items=tuple(items)))
    if ph.advance_when:
        out.append(Block("p", f"Advance when: {ph.advance_when}"))
    if ph.sources:
        out.append(Block("p", f"Evidence: {', '.join(ph.sources)}"))
    return out


# ---- patient -----------------------------------------------------------------------------------------------------
def patient_blocks(plan: Plan, name: str | None = None) -> list[Block]:
    """Plain, short and kind: what we saw, the steps, what to do every week, the pain rule, when to call us."""
    b: list[Block] = [Block("h1", f"Your running plan{', ' + user_text(name) if name else ''}")]
    seen = list(dict.fromkeys(f.patient_text for f in plan.findings if f.kind == "target" and f.patient_text))
    if plan.primary_target is None:
        b.append(Block("p", "Good news: your running form looks fine on the video. Keep running, keep strong, "
                            "and we will check again in a few months."))
    else:
        b.append(Block("p", "Keep running! This plan changes your running step by step, one thing at a time. "
                            "It is a process, not an overnight fix - be patient with yourself."))
        b.append(Block("h2", "What we saw"))
        b.append(Block("ul", items=tuple(seen[:2])))
    if plan.inputs.get("goal"):
        b.append(Block("p", f"Your goal: {user_text(plan.inputs['goal'])}"))
    b.append(Block("h2", "Your steps"))
    for i, ph in enumerate(plan.phases[1:], start=1):
        mark = {"current": " - you are here", "done": " - done"}.get(_mark(plan, ph), "")
        b.append(Block("h3", f"{i}. {ph.name_patient} ({ph.weeks_text}){mark}"))
        items = list(dict.fromkeys(ph.cues_patient))
        items += [f"Aim: {t.goal_text_patient}." for t in ph.targets if t.goal_text_patient and ph.key != "retest"]
        items += [d for d in ph.drills if not d.startswith("Strength: ")][:2]
        if ph.advance_when_patient:
            items.append(ph.advance_when_patient)
        b.append(Block("ul", items=tuple(items)))
    support = list(dict.fromkeys(s for ph in plan.phases for s in ph.support_patient))
    strength = list(dict.fromkeys(d.removeprefix("Strength: ") for ph in plan.phases for d in ph.drills
                                  if d.startswith("Strength: ")))
    if support or strength:
        b.append(Block("h2", "Every week"))
        b.append(Block("ul", items=tuple(support + strength)))
    b.append(Block("h2", "Pain rule"))
    b.append(Block("p", plan.pain_rule.text_patient))
    extra = list(dict.fromkeys(a.text_patient for a in plan.safety))
    if extra:
        b.append(Block("ul", items=tuple(extra)))
    b.append(Block("h2", "See your clinician straight away if you have"))
    b.append(Block("ul", items=tuple(plan.red_flags_patient)))
    return b


# ---- writers -----------------------------------------------------------------------------------------------------
_U0, _U1 = "\ue000", "\ue001"  # private-use marks around text a person typed (names, goals) inside a block


def user_text(s: str) -> str:
    """Text a person typed (patient name, goal), for a block: each writer shows it literally in its format
    (Markdown: `analyzer.core.markup.markdown_literal`, so `![x](http://...)` is not an image the app would fetch nor
    a link; HTML: escaped and never turned into bold)."""
    return f"{_U0}{' '.join(str(s).replace(_U0, '').replace(_U1, '').splitlines())}{_U1}"


def _split_user(s: str, plain, typed) -> str:
    """s with the marked user parts passed through `typed` and the rest through `plain`."""
    out, rest = [], s
    while _U0 in rest:
        head, _, tail = rest.partition(_U0)
        typed_part, _, rest = tail.partition(_U1)
        out += [plain(head), typed(typed_part)]
    out.append(plain(rest))
    return "".join(out)


def _md_escape(s: str) -> str:
    from analyzer.core.markup import markdown_literal

    return markdown_literal(s)


def _md_inline(s: str) -> str:
    return _split_user(s, lambda t: t.replace("|", "\\|"), _md_escape)


def _md(s: str) -> str:
    return _split_user(s, lambda t: t, _md_escape)


def blocks_to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for blk in blocks:
        if blk.kind in ("h1", "h2", "h3"):
            out.append("#" * int(blk.kind[1]) + " " + _md(blk.text))
        elif blk.kind == "p":
            out.append(_md(blk.text))
        elif blk.kind == "ul":
            out.append("\n".join(f"- {_md(it)}" for it in blk.items))
        elif blk.kind == "table":
            head, *rows = blk.rows
            lines = ["| " + " | ".join(map(_md_inline, head)) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(map(_md_inline, r)) + " |" for r in rows]
            out.append("\n".join(lines))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


PRINT_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:46rem;margin:1.5rem auto;
padding:0 1rem;line-height:1.45;color:#1b1b1b}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:1.4rem;border-bottom:1px solid #ddd}
h3{font-size:1.05rem}table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.25rem .4rem;
vertical-align:top}@media print{body{margin:0;font-size:11pt}h2{break-after:avoid}}"""


def _html_bold(s: str) -> str:
    e = html.escape(s)
    while "**" in e:  # minimal **bold**
        e = e.replace("**", "<strong>", 1).replace("**", "</strong>", 1)
    return e


def _html_inline(s: str) -> str:
    return _split_user(s, _html_bold, html.escape)


def blocks_to_html(blocks: Sequence[Block], title: str = "Running plan", standalone: bool = True) -> str:
    parts: list[str] = []
    for blk in blocks:
        if blk.kind in ("h1", "h2", "h3", "p"):
            parts.append(f"<{blk.kind}>{_html_inline(blk.text)}</{blk.kind}>")
        elif blk.kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in blk.items) + "</ul>")
        elif blk.kind == "table":
            head, *rows = blk.rows
            parts.append("<table><tr>" + "".join(f"<th>{_html_inline(h)}</th>" for h in head) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td>{_html_inline(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
    body = "\n".join(parts)
    if not standalone:
        return body
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{PRINT_CSS}</style></head><body>\n{body}\n</body></html>\n")


def render(plan: Plan, voice: Voice = "clinician", fmt: Literal["md", "html", "json"] = "md",
           name: str | None = None) -> str:
    """The plan as Markdown, HTML or JSON. JSON is voice-independent (the full plan)."""
    if fmt == "json":
        return json.dumps(plan.to_dict(), indent=2, default=str) + "\n"
    blocks = clinician_blocks(plan) if voice == "clinician" else patient_blocks(plan, name)
    if fmt == "md":
        return blocks_to_markdown(blocks)
    return blocks_to_html(blocks, "Running plan" + (" - clinician" if voice == "clinician" else ""))
