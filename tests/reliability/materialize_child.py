"""Child process of the reliability tests: materialize one yearly asset for one year through Dagster.

    python materialize_child.py ASSET YEAR [--pace SECONDS] [--slice ROWS] [--wait-for FILE]

Runs `dg.materialize` with the real resources against a throwaway instance in $DAGSTER_HOME (the
warehouse is whatever AQUAMIND_DATABASE_URL names). --pace only widens the window in which a test
can hit the write: each frame is handed to the real writer in slices of --slice rows with a sleep
between them, inside the one COPY statement of the real YearLoad; the rows and the checksum are
those of an undisturbed run (the checksum does not depend on how rows are split). --wait-for
makes the child import everything, then wait until FILE exists before it starts (so a test can
start the materialization at a moment of its choosing without paying the import time then).
Prints one JSON line: success, checksum, rows and timings.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("asset")
    p.add_argument("year")
    p.add_argument("--pace", type=float, default=0.0)
    p.add_argument("--slice", type=int, default=2000)
    p.add_argument("--wait-for", default=None)
    args = p.parse_args()

    import dagster as dg

    from aquamind_assets.defs import loading
    from aquamind_assets.definitions import YEARLY_ASSETS, defs

    if args.pace > 0:
        here = Path(__file__).resolve().parent
        sys.path[:0] = [str(here), str(here.parent)]  # rel_helpers, and the tests/ helpers it imports
        from rel_helpers import paced

        loading.frames = paced(loading.frames, args.pace, args.slice)  # looked up at call time

    (asset,) = [a for a in YEARLY_ASSETS if a.key.to_user_string() == args.asset]
    home = Path(os.environ["DAGSTER_HOME"])
    if args.wait_for:
        print("READY", flush=True)
        while not Path(args.wait_for).exists():
            time.sleep(0.02)
    t0 = time.perf_counter()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = dg.materialize([asset], instance=instance, partition_key=str(args.year),
                                resources={"warehouse": defs.resources["warehouse"]}, raise_on_error=False)
    out = {"success": result.success, "wall_s": round(time.perf_counter() - t0, 3)}
    mats = result.get_asset_materialization_events()
    if mats:
        md = mats[0].materialization.metadata
        out.update({k: md[k].value for k in ("checksum", "dagster/row_count", "write_s", "plan_s", "duration_s")})
    else:
        out["errors"] = [e.event_specific_data.error.message for e in result.all_events if e.is_step_failure]
    print(json.dumps(out), flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
