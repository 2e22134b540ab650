"""`runform export research RESULT_DIR [--out DIR]` and `runform export dataset DIR_OF_RESULTS --out STEM`: research
files from finished result folders (analyzer.records.research, analyzer.records.dataset)."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="research exports: OpenSim .trc/.mot and C3D per clip; a dataset table per batch",
                       description="Research exports from result folders written by `runform analyze`.")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    r = kinds.add_parser("research", help="run.trc (markers), run.mot (angles, events), run.c3d of one clip",
                         description="Write run.trc (OpenSim markers, metres), run.mot (OpenSim Storage: joint angles "
                                     "in degrees and gait-event columns) and run.c3d (markers in mm, Foot Strike / "
                                     "Foot Off events) for one clip's result folder.")
    r.add_argument("result_dir", type=Path, metavar="RESULT_DIR", help="a clip's result folder (metrics.json, "
                                                                       "landmarks.csv)")
    r.add_argument("--out", type=Path, default=None, metavar="DIR", help="where to write (default: RESULT_DIR)")
    r.set_defaults(func=run_research)
    d = kinds.add_parser("dataset", help="one table (Parquet + CSV) with a row per clip and per stride",
                         description="Write STEM.parquet and STEM.csv: one row per clip (summary) and one per stride, "
                                     "for every result folder under DIR_OF_RESULTS.")
    d.add_argument("results", type=Path, metavar="DIR_OF_RESULTS", help="batch folder (or one result folder)")
    d.add_argument("--out", type=Path, required=True, metavar="STEM", help="output path without extension")
    d.set_defaults(func=run_dataset)


def run_research(args: argparse.Namespace) -> int:
    from analyzer.records.research import write_research_exports

    paths = write_research_exports(args.result_dir, args.out)
    for p in paths.values():
        print(p)
    return 0


def run_dataset(args: argparse.Namespace) -> int:
    from analyzer.records.dataset import find_result_dirs, write_dataset_table

    dirs = find_result_dirs(args.results)
    pq, cs = write_dataset_table(dirs, args.out)
    print(f"{pq}\n{cs}\n({len(dirs)} clip{'s' if len(dirs) != 1 else ''})")
    return 0
