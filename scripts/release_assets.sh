#!/usr/bin/env bash
# Release assets for tag $1 into folder $2: the data package (zip), results.json and the rendered
# site (zip). Run after `make site`; used by .github/workflows/release.yml and testable locally.
set -euo pipefail
tag="$1"
out="$2"
mkdir -p "$out"
py="${PYTHON:-.venv/bin/python}"
# results validates data/ first: links, unlisted files and changed rules stop the release here.
# It writes to a folder of its own: the site's results/ (with figures and the build key) stays.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" -m metaprop results --out "$work/results" --no-figures > /dev/null
# exactly the files the data package lists (from the code's rules), no glob
mapfile -t csvs < <("$py" -c "from metaprop.review.schema import resources; print(*('data/' + r['path'] for r in resources()), sep='\n')")
"$py" -m zipfile -c "$out/data-package-${tag}.zip" data/datapackage.json "${csvs[@]}" data/CHANGELOG.md CITATION.cff
cp "$work/results/results.json" "$out/results-${tag}.json"
if [ -d _site ]; then
  "$py" -m zipfile -c "$out/site-${tag}.zip" _site
else
  echo "no _site/ (Quarto not installed): site asset skipped" >&2
fi
ls "$out"
