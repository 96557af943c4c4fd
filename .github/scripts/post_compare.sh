#!/usr/bin/env bash
# Post the before/after table that a pull request's CI run uploaded (folder $1: compare.md and
# pr-number.txt), after checking it: the number is digits and names an open pull request whose
# head is the commit CI ran on ($HEAD_SHA); the body starts with the marker and is not too long.
# A link to the run's artifacts (the rendered preview, "site") is added. Needs GH_TOKEN, REPO,
# HEAD_SHA and RUN_URL in the environment (set by the workflow, never interpolated).
set -euo pipefail
dir="$1"
marker="<!-- metaprop-compare -->"
pr=$(head -c 20 "${dir}/pr-number.txt" | tr -d '[:space:]')
if ! [[ "${pr}" =~ ^[0-9]{1,9}$ ]]; then
  echo "pr-number.txt does not hold a pull-request number" >&2
  exit 1
fi
head=$(gh api "repos/${REPO}/pulls/${pr}" --jq '.head.sha')
if [ "${head}" != "${HEAD_SHA}" ]; then
  echo "pull request ${pr} is not at the commit this run tested (${HEAD_SHA}); not posting" >&2
  exit 0
fi
body="${RUNNER_TEMP:-/tmp}/compare-body.md"
if [ "$(head -c ${#marker} "${dir}/compare.md")" != "${marker}" ]; then
  echo "compare.md does not start with the marker" >&2
  exit 1
fi
head -c 60000 "${dir}/compare.md" > "${body}"
printf '\n\nRendered preview of the site: download the artifact "site" from [this run](%s) and open index.html.\n' \
  "${RUN_URL}" >> "${body}"
PR_NUMBER="${pr}" bash "$(dirname "$0")/upsert_comment.sh" "${body}"
