"""Command line: a thin shell over the library (parse, call, print)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .engine.options import OPTIONS, choices_text
from .errors import MetapropError

__all__ = ["main", "build_parser"]


def _int_list(text: str) -> list[int]:
    """Comma-separated counts, read by the same rule as data/ (:func:`parse_count`)."""
    from .review.csvfile import parse_count

    out = []
    for i, part in enumerate(text.split(",")):
        try:
            out.append(parse_count(part))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"item {i + 1}: {exc}") from None
    return out


def _add_pool_options(p: argparse.ArgumentParser, bayes: bool = False) -> None:
    p.add_argument("file", nargs="?",
                   help="CSV with columns events,total (optional: study; year for --kind cumulative; "
                        "the --by column for subgroups), e.g. examples/weaning.csv")
    p.add_argument("--events", type=_int_list, help="comma-separated events, e.g. 9,12,20")
    p.add_argument("--total", type=_int_list, help="comma-separated totals, e.g. 10,12,20")
    p.add_argument("--sm", default="PLOGIT", help=f"{choices_text('sm')} (default PLOGIT)")
    p.add_argument("--method", default=None,
                   help=f"{choices_text('method')}, or Bayes for the site's headline model (Bayesian "
                        "binomial-normal; see --tau-prior) (default as R meta: GLMM for PLOGIT, else Inverse; "
                        "Inverse when --method-tau is not ML, with --hakn, or with --convention metafor)")
    p.add_argument("--method-tau", default=None,
                   help=f"{choices_text('method_tau')} (default REML; ML for GLMM)")
    p.add_argument("--method-tau-ci", default=None,
                   help=f"{choices_text('method_tau_ci')}: {OPTIONS['method_tau_ci'][1]} "
                        "(default as R meta: J for DL, else QP)")
    p.add_argument("--hakn", action="store_true", help="Hartung-Knapp CI for random effects")
    p.add_argument("--prediction-df", default=None,
                   help=f"{choices_text('prediction_df')} (default by convention)")
    p.add_argument("--incr", type=float, default=0.5, help="continuity correction (default 0.5)")
    p.add_argument("--convention", default="meta", help=f"{choices_text('convention')} (default meta)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--method-ci", default="CP", help=f"study CIs: {choices_text('method_ci')} (default CP)")
    p.add_argument("--tau2-algorithm", default="metafor",
                   help=f"{choices_text('tau2_algorithm')}: metafor's Fisher scoring and stopping rules, "
                        "as R meta (default), or the exact optimum")
    if not bayes:
        return
    from .review.protocol import BAYES

    p.add_argument("--tau-prior", default=None, choices=["halfnormal", "halfcauchy"],
                   help=f"--method Bayes: prior family of tau (default {BAYES['tau_prior']}, the protocol's headline)")
    p.add_argument("--tau-scale", type=float, default=None,
                   help=f"--method Bayes: scale of tau's prior (default {BAYES['tau_prior_scale']:g})")
    p.add_argument("--mu-sd", type=float, default=None,
                   help=f"--method Bayes: sd of mu's normal prior, logit scale (default {BAYES['mu_prior_sd']:g})")


def _pool_kwargs(args) -> dict:
    return dict(sm=args.sm, method=args.method, method_tau=args.method_tau, hakn=args.hakn,
                prediction_df=args.prediction_df, incr=args.incr, convention=args.convention,
                level=args.level, method_ci=args.method_ci, tau2_algorithm=args.tau2_algorithm,
                method_tau_ci=args.method_tau_ci)


def _counts(args):
    from .review.csvfile import read_counts

    if args.file and (args.events is not None or args.total is not None):
        raise MetapropError("give either a CSV file or --events/--total, not both")
    if args.file:
        return read_counts(args.file)[:3]
    if args.events is None or args.total is None:
        raise MetapropError("give a CSV file or both --events and --total")
    return args.events, args.total, None


def _bayes_text(b) -> str:
    """A Bayesian fit as text, in the layout of R meta's and bayesmeta's printouts."""
    rows = [("Mean proportion", b.p_mean), ("Median study, expit(mu)", b.p_median),
            ("A new study's proportion", b.p_new), ("mu (logit)", b.mu), ("tau", b.tau)]
    pct = int(round(100 * b.level))
    lines = ["Bayesian binomial-normal random-effects model (exact binomial likelihood; the site's headline model)",
             f"k = {b.k}, events = {sum(b.events)}, patients = {b.n_total}",
             f"Priors: {b.prior_text}", "",
             f"{'':26s} {'median':>8s}  {pct}%-credible interval"]
    lines += [f"{name:26s} {iv.median:8.4f}  [{iv.lower:.4f}; {iv.upper:.4f}]" for name, iv in rows]
    lines += ["", f"P(tau < 0.1) = {b.prob_tau_small:.4f}; posterior by quadrature on a {b.grid[0]} x {b.grid[1]} grid"]
    return "\n".join(lines)


def _cmd_pool(args) -> int:
    from .engine.pooling import pool

    events, total, labels = _counts(args)
    bayes_opts = {k: v for k, v in (("tau_prior", args.tau_prior), ("tau_prior_scale", args.tau_scale),
                                    ("mu_prior_sd", args.mu_sd)) if v is not None}
    if args.method == "Bayes":
        from .engine.bayes import pool_bayes
        from .review.protocol import BAYES

        pooled = {k for k, v in vars(args).items() if k in ("method_tau", "method_tau_ci", "prediction_df")
                  and v is not None} | ({"hakn"} if args.hakn else set())
        if pooled or args.sm != "PLOGIT":
            raise MetapropError("--method Bayes fits the binomial-normal model on the logit scale: "
                                f"{', '.join(sorted('--' + k.replace('_', '-') for k in pooled)) or '--sm'} "
                                "does not apply")
        res = pool_bayes(events, total, labels, **(BAYES | bayes_opts), level=args.level)
        print(json.dumps(res.to_dict(), indent=2) if args.json else _bayes_text(res))
        return 0
    if bayes_opts:
        raise MetapropError("--tau-prior, --tau-scale and --mu-sd apply to --method Bayes only")
    res = pool(events, total, labels, **_pool_kwargs(args))
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        print(res)
    return 0


def _cmd_sensitivity(args) -> int:
    from .engine import sensitivity
    from .review.data import read_table_csv

    kw = _pool_kwargs(args)
    if args.kind in ("cumulative", "subgroup"):
        if not args.file:
            raise MetapropError(f"--kind {args.kind} needs a CSV file with study-level columns")
        table = read_table_csv(args.file)
    else:
        events, total, labels = _counts(args)
        table = None
    if args.kind == "leave-one-out":
        out = sensitivity.leave_one_out(events, total, labels, **kw)
    elif args.kind == "cumulative":
        out = sensitivity.cumulative(table, by=args.by or "year", **kw)
    elif args.kind == "subgroup":
        if not args.by:
            raise MetapropError("--kind subgroup needs --by COLUMN")
        out = sensitivity.subgroup(table, by=args.by, **kw)
    elif args.kind == "grid":
        out = sensitivity.method_grid(events, total, labels, incr=args.incr,
                                      convention=args.convention, level=args.level)
    elif args.kind == "egger":
        out = sensitivity.egger(events, total, labels, sm=args.sm, incr=args.incr,
                                convention=args.convention)
    else:  # pragma: no cover - argparse restricts choices
        raise MetapropError(f"unknown kind {args.kind!r}")
    print(sensitivity.to_json(out) if args.json else sensitivity.to_text(out))
    return 0


def _cmd_validate(args) -> int:
    from .review.validate import format_problems, validate

    problems = validate(args.data_dir)
    if problems:
        print(format_problems(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s) found in {args.data_dir}", file=sys.stderr)
        return 1
    print(f"{args.data_dir}: valid")
    if args.base is None:
        return 0
    import tempfile
    from pathlib import Path

    from .review.compare import data_at_ref
    from .review.versioning import check_version

    repo = Path(args.repo).resolve()
    try:
        rel = Path(args.data_dir).resolve().relative_to(repo).as_posix()
    except ValueError:
        raise MetapropError(f"{args.data_dir} is not inside the repository {args.repo}") from None
    with tempfile.TemporaryDirectory() as tmp:
        check = check_version(data_at_ref(args.base, rel, str(repo), Path(tmp)), args.data_dir)
    label = f"{args.data_dir}/datapackage.json::version"
    if not check.ok:
        for problem in check.problems:
            where = f"{args.data_dir}/" if problem.startswith("CHANGELOG.md") else f"{label}: "
            print(f"{where}{problem}", file=sys.stderr)
        print(f"the data version does not follow the rules ({check.summary()}); see CONTRIBUTING.md", file=sys.stderr)
        return 1
    print(f"{args.data_dir}: version {check.version} follows the rules against {args.base}: {check.summary()}")
    return 0


def _cmd_results(args) -> int:
    from pathlib import Path

    from .pipeline import write_results

    write_results(args.data_dir, args.out, figures=not args.no_figures,
                  explorer=not (args.no_figures or args.no_explorer))
    print(f"wrote {sum(1 for p in Path(args.out).iterdir() if p.is_file())} files to {args.out}")
    return 0


def _cmd_compare(args) -> int:
    import json

    from .review.compare import compare_ref, format_markdown, to_json

    table = compare_ref(args.base_ref, data_dir=args.data_dir, repo=args.repo)
    if args.json:
        print(json.dumps(to_json(table), indent=2, ensure_ascii=False))
    else:
        print(format_markdown(table))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump), exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"metaprop: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="metaprop",
        description="Meta-analysis of single proportions that matches R meta/metafor, without R.")
    parser.add_argument("--version", action="version", version=f"metaprop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("pool", help="pool proportions (R meta::metaprop), or by the site's Bayesian model")
    _add_pool_options(p, bayes=True)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_cmd_pool)

    s = sub.add_parser("sensitivity", help="leave-one-out, cumulative, subgroup, grid, egger")
    _add_pool_options(s)
    s.add_argument("--kind", required=True,
                   choices=["leave-one-out", "cumulative", "subgroup", "grid", "egger"],
                   help="leave-one-out; cumulative (in the order of --by, default the CSV's year column); "
                        "subgroup (by --by); grid (every method at once); egger (Egger's test)")
    s.add_argument("--by", help="column for subgroup (or cumulative order; default year)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(handler=_cmd_sensitivity)

    v = sub.add_parser("validate", help="validate the study data in DATA_DIR (and its version against a git ref)")
    v.add_argument("data_dir", nargs="?", default="data", help="the data folder (default: data)")
    v.add_argument("--base", metavar="REF",
                   help="also check the version rules against the data at this git ref (e.g. origin/main): "
                        "the bump the change requires and its CHANGELOG.md entry")
    v.add_argument("--repo", default=".", help="the git repository holding DATA_DIR (default: .)")
    v.set_defaults(handler=_cmd_validate)

    r = sub.add_parser("results", help="write every result (JSON, CSV) and figure (SVG, PNG)")
    r.add_argument("--data-dir", default="data", help="the data folder (default: data)")
    r.add_argument("--out", default="results",
                   help="the folder to write (default: results); replaced whole, only when every file succeeded")
    r.add_argument("--no-figures", action="store_true", help="JSON and CSV only")
    r.add_argument("--no-explorer", action="store_true",
                   help="without the sensitivity explorer's files (explorer_*.json, every subset of studies)")
    r.set_defaults(handler=_cmd_results)

    c = sub.add_parser("compare", help="what the site reports now vs at a git ref (e.g. origin/main)",
                       description="Per outcome: the headline, R meta's default and the other methods, "
                                   "before and after, with the version rules checked against the same ref.")
    c.add_argument("base_ref", metavar="REF", help="the git ref to compare with (e.g. origin/main)")
    c.add_argument("--data-dir", default="data", help="the data folder, relative to the repository (default: data)")
    c.add_argument("--repo", default=".", help="the git repository (default: .)")
    c.add_argument("--json", action="store_true", help="print JSON (the same content as the Markdown)")
    c.set_defaults(handler=_cmd_compare)

    sv = sub.add_parser("surveil", help="run the saved PubMed search; list the records not yet screened",
                        description="The protocol's saved search through NCBI E-utilities (esearch, esummary); "
                                    "records whose PMID or DOI is in data/studies.csv or data/screening.csv are "
                                    "known, the others are listed to screen. Optional API key: NCBI_API_KEY.")
    sv.add_argument("--data-dir", default="data", help="the data folder whose records are known (default: data)")
    sv.add_argument("--since", default=None,
                    help="first entry date, YYYY-MM-DD (default: the end of the last published search)")
    sv.add_argument("--until", default=None, help="last entry date, YYYY-MM-DD (default: today)")
    sv.add_argument("--eutils-url", default=None,
                    help="base URL of the E-utilities (default: NCBI's; tests point it at a local server)")
    sv.add_argument("--json", action="store_true",
                    help='print JSON: {"new": [...], "known": [...], "query", "count", "since", "until"}')
    sv.add_argument("--out", default=None, help="write to this file (whole, or not at all) instead of stdout")
    sv.add_argument("--json-out", default=None, help="also write the JSON to this file (for the workflow)")
    sv.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    sv.add_argument("--retries", type=int, default=3, help="tries again after a network error or 429/5xx (default 3)")
    sv.set_defaults(handler=_surveil)
    return parser


def _terminate(signum, frame):
    """SIGTERM as an exception, so that every ``finally`` runs: temporary results folders are
    removed and the previous results/ stays whole (SIGINT already raises KeyboardInterrupt)."""
    raise SystemExit(128 + signum)


def _surveil(args) -> int:
    """``metaprop surveil``: the saved search, and the records not yet screened."""
    import os
    import tempfile
    from pathlib import Path

    from .review.surveil import EUTILS_URL, api_key_from_env, issue_body, surveil

    s = surveil(args.data_dir, since=args.since, until=args.until, base=args.eutils_url or EUTILS_URL,
                api_key=api_key_from_env(), timeout=args.timeout, retries=args.retries)
    as_json = json.dumps(s.to_dict(), indent=2, ensure_ascii=False) + "\n"
    text = as_json if args.json else issue_body(s)

    def write(path, content):  # whole or not at all
        out = Path(path)
        fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=".surveil-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, out)

    if args.json_out:
        write(args.json_out, as_json)
    if args.out:
        write(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except MetapropError as exc:
        print(f"metaprop: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"metaprop: error: {exc}", file=sys.stderr)
        return 2
