#!/usr/bin/env bash
# Post the file $1 as a pull-request comment, or update the earlier one that carries the marker.
# Needs GH_TOKEN, PR_NUMBER and REPO in the environment (set by the workflow, never interpolated).
set -euo pipefail
body_file="$1"
marker="<!-- metaprop-compare -->"
id=$(gh api "repos/${REPO}/issues/${PR_NUMBER}/comments" --paginate \
  --jq ".[] | select(.body | contains(\"${marker}\")) | .id" | head -n 1)
if [ -n "${id}" ]; then
  gh api --method PATCH "repos/${REPO}/issues/comments/${id}" -F "body=@${body_file}" > /dev/null
else
  gh api --method POST "repos/${REPO}/issues/${PR_NUMBER}/comments" -F "body=@${body_file}" > /dev/null
fi
