"""The saved search, run: PubMed through NCBI's E-utilities (``esearch.fcgi``, then
``esummary.fcgi``, both with ``retmode=json``), and which records ``data/`` does not know yet.

The query is the protocol's (:data:`metaprop.review.protocol.SEARCH`). A record is *known* when
its PMID, or its DOI (case-insensitive), is in ``data/studies.csv`` or ``data/screening.csv``;
every other record is *new*: to be screened. NCBI allows 3 requests a second without an API key
(10 with one, from the ``NCBI_API_KEY`` environment variable); each request has a timeout and is
tried again a few times on a network error or a 429/5xx answer. Anything else a server sends
(not JSON, an NCBI error, missing fields) is a :class:`~metaprop.errors.MetapropError` with one
line of text, never a traceback.

Record titles are untrusted text: :func:`issue_body` escapes them for Markdown.

References
----------
NCBI. Entrez Programming Utilities Help (E-utilities): ESearch, ESummary; usage guidelines and
API keys.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import MetapropError

__all__ = ["EUTILS_URL", "Record", "Surveillance", "run_search", "known_ids", "surveil", "issue_body"]

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
#: requests per second NCBI allows without and with an API key
RATE = {False: 3.0, True: 10.0}
#: PMIDs per esummary request (NCBI suggests at most a few hundred per GET)
BATCH = 200


@dataclass(frozen=True, slots=True)
class Record:
    """One PubMed record as esummary gives it."""

    pmid: str
    title: str
    journal: str
    year: str
    doi: str


@dataclass(frozen=True)
class Surveillance:
    """What one run found: the records not yet screened (``new``), those ``data/`` knows, the query
    and the dates it covers, and PubMed's count."""

    query: str
    since: str
    until: str
    count: int
    new: tuple[Record, ...]
    known: tuple[Record, ...]

    def to_dict(self) -> dict:
        return {"query": self.query, "since": self.since, "until": self.until, "count": self.count,
                "new": [asdict(r) for r in self.new], "known": [asdict(r) for r in self.known]}


class _Client:
    """GET with a rate limit, a timeout and retries; JSON or a one-line error."""

    def __init__(self, base: str, api_key: str | None, timeout: float, retries: int, pause: float):
        if not base.startswith(("https://", "http://")):
            raise MetapropError(f"--eutils-url must be an http(s) URL, not {base!r}")
        self.base, self.api_key = base.rstrip("/"), api_key
        self.timeout, self.retries, self.pause = timeout, retries, pause
        self.interval = 1.0 / RATE[bool(api_key)]
        self.last = 0.0

    def get(self, tool: str, params: dict) -> dict:
        params = dict(params, retmode="json", tool="metaprop")
        if self.api_key:
            params["api_key"] = self.api_key
        url = f"{self.base}/{tool}?{urllib.parse.urlencode(params)}"
        shown = f"{self.base}/{tool}"
        for attempt in range(self.retries + 1):
            wait = self.last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as resp:  # noqa: S310 (http(s) checked)
                    body = resp.read(20_000_000)
                break
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 500, 502, 503, 504) or attempt == self.retries:
                    raise MetapropError(f"{shown} answered HTTP {exc.code}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise MetapropError(f"{shown} could not be reached ({reason})") from None
            time.sleep(self.pause * 2**attempt)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MetapropError(f"{shown} did not answer JSON") from None
        if not isinstance(doc, dict):
            raise MetapropError(f"{shown} answered JSON of an unexpected shape")
        return doc


def _year(pubdate: str) -> str:
    head = str(pubdate).strip()[:4]
    return head if head.isdigit() else ""


def _doi(item: dict) -> str:
    for a in item.get("articleids") or []:
        if isinstance(a, dict) and a.get("idtype") == "doi":
            return str(a.get("value", "")).strip()
    return ""


def run_search(query: str, since: str, until: str, *, base: str = EUTILS_URL, api_key: str | None = None,
               timeout: float = 30.0, retries: int = 3, pause: float = 1.0) -> tuple[int, list[Record]]:
    """PubMed's count and every record for ``query`` entered (``edat``) from ``since`` to ``until``
    (YYYY/MM/DD); esearch for the PMIDs, esummary for their titles, journals, years and DOIs."""
    client = _Client(base, api_key, timeout, retries, pause)
    found = client.get("esearch.fcgi", {"db": "pubmed", "term": query, "datetype": "edat", "mindate": since,
                                        "maxdate": until, "retmax": 10000})
    res = found.get("esearchresult")
    if not isinstance(res, dict) or "ERROR" in res or "error" in found:
        why = (res or {}).get("ERROR") if isinstance(res, dict) else found.get("error")
        raise MetapropError(f"esearch answered an error ({str(why or 'no esearchresult')[:200]})")
    try:
        count = int(res["count"])
        ids = [str(int(i)) for i in res.get("idlist", [])]
    except (KeyError, TypeError, ValueError):
        raise MetapropError("esearch answered without a count and a list of PMIDs") from None
    records = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        doc = client.get("esummary.fcgi", {"db": "pubmed", "id": ",".join(chunk)})
        result = doc.get("result")
        if not isinstance(result, dict):
            raise MetapropError("esummary answered without a result")
        for pmid in chunk:
            item = result.get(pmid)
            if not isinstance(item, dict):
                raise MetapropError(f"esummary answered without PMID {pmid}")
            records.append(Record(pmid=pmid, title=str(item.get("title", "")).strip(),
                                  journal=str(item.get("fulljournalname") or item.get("source") or "").strip(),
                                  year=_year(item.get("pubdate", "")), doi=_doi(item)))
    return count, records


def known_ids(data_dir) -> tuple[set[str], set[str]]:
    """PMIDs and DOIs (lower case) of every study in ``data/studies.csv`` and every record in
    ``data/screening.csv`` (when present)."""
    from .csvfile import read_table

    pmids, dois = set(), set()
    for name in ("studies.csv", "screening.csv"):
        path = Path(data_dir) / name
        if not path.is_file():
            continue
        df = read_table(path)
        for col, into in (("pmid", pmids), ("doi", dois)):
            if col in df.columns:
                into |= {v.strip().lower() for v in df[col] if isinstance(v, str) and v.strip()}
    return pmids, dois


def surveil(data_dir="data", since: str | None = None, until: str | None = None, **client) -> Surveillance:
    """Run the protocol's saved search from ``since`` (default: the protocol's last search) to
    ``until`` (default: today) and split the records into new and known."""
    from .protocol import SEARCH

    since = _date(since or SEARCH["searched_until"], "--since")
    until = _date(until or dt.date.today().isoformat(), "--until")
    count, records = run_search(SEARCH["query"], since, until, **client)
    pmids, dois = known_ids(data_dir)
    known = tuple(r for r in records if r.pmid in pmids or (r.doi and r.doi.lower() in dois))
    new = tuple(r for r in records if r not in known)
    return Surveillance(query=SEARCH["query"], since=since, until=until, count=count, new=new, known=known)


def _date(text: str, option: str) -> str:
    """YYYY-MM-DD or YYYY/MM/DD as E-utilities wants it (YYYY/MM/DD)."""
    try:
        return dt.date.fromisoformat(str(text).replace("/", "-")).strftime("%Y/%m/%d")
    except ValueError:
        raise MetapropError(f"{option} must be a date YYYY-MM-DD, not {text!r}") from None


def issue_body(s: Surveillance) -> str:
    """Markdown for the "Records to screen" issue: each new record with a link, titles escaped."""
    from ..text import md_escape

    lines = [f"PubMed search of {s.since} to {s.until}: {s.count} records, {len(s.new)} not yet screened, "
             f"{len(s.known)} already in data/.", ""]
    for r in s.new:
        doi = f", doi:{md_escape(r.doi)}" if r.doi else ""
        lines.append(f"- [ ] PMID [{r.pmid}](https://pubmed.ncbi.nlm.nih.gov/{r.pmid}/): {md_escape(r.title)} "
                     f"({md_escape(r.journal)} {md_escape(r.year)}{doi})")
    if not s.new:
        lines.append("Nothing new to screen.")
    lines += ["", "Screen each record and add it to `data/screening.csv` (CONTRIBUTING.md). Query:", "",
              "```", s.query.replace("`", "'"), "```"]
    return "\n".join(lines) + "\n"


def api_key_from_env() -> str | None:
    """The optional NCBI API key (``NCBI_API_KEY``)."""
    return os.environ.get("NCBI_API_KEY") or None
