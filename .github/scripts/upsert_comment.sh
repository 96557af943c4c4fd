#!/usr/bin/env bash
# Post the file $1 as a pull-request comment, or update the bot's own earlier one that carries the
# marker (a comment by anybody else that copies the marker is never edited).
# Needs GH_TOKEN, PR_NUMBER and REPO in the environment (set by the workflow, never interpolated).
set -euo pipefail
body_file="$1"
marker="<!-- metaprop-compare -->"
id=$(gh api "repos/${REPO}/issues/${PR_NUMBER}/comments" --paginate \
  --jq ".[] | select(.user.login == \"github-actions[bot]\" and .user.type == \"Bot\")
            | select(.body | startswith(\"${marker}\")) | .id" | head -n 1)
if [ -n "${id}" ]; then
  gh api --method PATCH "repos/${REPO}/issues/comments/${id}" -F "body=@${body_file}" > /dev/null
else
  gh api --method POST "repos/${REPO}/issues/${PR_NUMBER}/comments" -F "body=@${body_file}" > /dev/null
fi
