#!/bin/sh
# Coverage gate (docs/testing.md, "Coverage"): every meson test on build-coverage/
# (-Db_coverage=true), then gcovr: lib/ >= 95% of lines and >= 90% of branches, 100% of
# branches in the model loader and in the rill command's text readers.
set -e
exec sh scripts/coverage.sh
