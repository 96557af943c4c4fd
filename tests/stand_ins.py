"""Stand-ins for the outside services the code talks to, for tests that must not need them: a local
E-utilities server answering with recorded responses, and a `gh` command that records its calls."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.parse
from pathlib import Path

RECORDED = Path(__file__).parent / "fixtures" / "eutils"


class StandInServer:
    """A local E-utilities stand-in: ``behaviour`` maps the tool to a list of answers, served in
    turn (the last repeats): ("json", file), (status code, body) or ("sleep", seconds)."""

    def __init__(self, behaviour: dict):
        self.behaviour, self.requests = behaviour, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                url = urllib.parse.urlsplit(self.path)
                tool = url.path.rsplit("/", 1)[-1]
                outer.requests.append((time.monotonic(), tool, urllib.parse.parse_qs(url.query)))
                answers = outer.behaviour[tool]
                kind, value = answers[min(sum(t == tool for _, t, _ in outer.requests) - 1, len(answers) - 1)]
                if kind == "sleep":
                    threading.Event().wait(value)  # not time.sleep, which some tests stub
                    kind, value = "json", f"{tool.split('.')[0]}.json"
                status, body = (200, (RECORDED / value).read_bytes()) if kind == "json" else (kind, value)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):  # a client that timed out and left
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/entrez/eutils"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def stand_in_gh(folder: Path, answers: str) -> tuple[str, Path]:
    """A `gh` in ``folder``/bin that appends its arguments to ``folder``/gh.log and answers as the
    shell ``case`` branches ``answers`` say; returns (a PATH that finds it first, the log)."""
    bin_ = folder / "bin"
    bin_.mkdir()
    log = folder / "gh.log"
    (bin_ / "gh").write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\ncase "$*" in {answers};; esac\n')
    (bin_ / "gh").chmod(0o755)
    return f"{bin_}:/usr/bin:/bin", log
