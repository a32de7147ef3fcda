#!/bin/sh
# The main job on the bundled corpus: validate every file, then migrate a copy of the
# 1.x files to the newest DSL version and validate the result.
set -u
cd "$(dirname "$0")/.."
CODEAI="$(pwd)/.venv/bin/codeai"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "codeai version"
$CODEAI version

step "validate the valid corpus (expect exit 0)"
$CODEAI validate corpus/v1.0/valid corpus/v1.1/valid corpus/v2.0/valid corpus/v2.1/valid
valid_rc=$?

step "validate multi-file projects (codeai.yaml: one namespace per project; expect exit 0)"
$CODEAI validate corpus/projects/valid
project_rc=$?
$CODEAI symbols corpus/projects/valid/bookings | head -n 6

step "validate the invalid corpus (expect exit 1: these files are broken on purpose)"
$CODEAI validate --verbose corpus/v1.0/invalid | tail -n 25
$CODEAI validate corpus/v1.0/invalid corpus/v1.1/invalid corpus/v2.0/invalid corpus/v2.1/invalid >/dev/null
invalid_rc=$?

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r corpus/v1.0/valid "$work/v1.0"
cp -r corpus/v1.1/valid "$work/v1.1"

step "migrate-dsl --check on a copy of the 1.x corpus (expect exit 1: files need migrating)"
(cd "$work" && $CODEAI migrate-dsl --check .)
step "migrate-dsl (to the newest, 2.1: 1.0 -> 1.1 -> 2.0 -> 2.1 in one run; in place, on the copy)"
(cd "$work" && $CODEAI migrate-dsl .)
migrate_rc=$?
step "one migrated file, as it now reads"
sed -n '1,30p' "$work/v1.0/user_service.cai"
step "validate the migrated copy as 2.1"
(cd "$work" && $CODEAI validate .)
migrated_rc=$?

step "summary"
echo "valid corpus: exit $valid_rc (want 0); projects: exit $project_rc (want 0); invalid corpus: exit $invalid_rc (want 1);"
echo "migration: exit $migrate_rc (want 0); migrated files: exit $migrated_rc (want 0)"
[ "$valid_rc" -eq 0 ] && [ "$project_rc" -eq 0 ] && [ "$invalid_rc" -eq 1 ] && [ "$migrate_rc" -eq 0 ] && [ "$migrated_rc" -eq 0 ]
