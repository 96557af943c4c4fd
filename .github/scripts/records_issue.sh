#!/usr/bin/env bash
# Open the single issue "Records to screen" with the body file $1, or update it when it is open
# already (only an issue opened by this workflow's bot is ever edited). Nothing new to screen and
# no open issue: nothing is opened.
# Needs GH_TOKEN and REPO in the environment (set by the workflow, never interpolated).
set -euo pipefail
body_file="$1"
new_count="$2"
title="Records to screen"
case "${new_count}" in ''|*[!0-9]*) echo "not a count: ${new_count}" >&2; exit 1;; esac
number=$(gh issue list --repo "${REPO}" --state open --author "app/github-actions" --search "in:title \"${title}\"" \
  --json number,title --jq ".[] | select(.title == \"${title}\") | .number" | head -n 1)
if [ -n "${number}" ]; then
  gh issue edit "${number}" --repo "${REPO}" --body-file "${body_file}" > /dev/null
  echo "updated issue #${number}"
elif [ "${new_count}" -gt 0 ]; then
  gh issue create --repo "${REPO}" --title "${title}" --body-file "${body_file}" > /dev/null
  echo "opened the issue"
else
  echo "nothing new to screen"
fi
